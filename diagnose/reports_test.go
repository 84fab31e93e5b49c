package diagnose

import (
	"strings"
	"testing"
	"time"

	"github.com/ocl-guard/ocl-guard/mco"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Failures real builds hit, each from the public report in its name, wrapped as the MCO's buildah-build.sh prints
// them (buildah's "Error: ..." wrappers, the RUN step's output before "subprocess exited with status N"). They run
// with realWorldCases in TestDiagnoseBuildRealWorldShapes.
var publicReportBuildCases = []buildCase{
	{
		// microshift-io/microshift#86: the base image's layers fill the disk while buildah stores them.
		name: "microshift-io/microshift#86: no space left on device while storing a blob",
		msg: logFromStep + `Getting image source signatures
Copying blob sha256:dd2e2f497c1eb26a22012f125c7e9e5d8b0d69f5b4d34488570fa69c067beb3f
Error: creating build container: copying system image from manifest list: writing blob: storing blob to file "/var/tmp/container_images_storage1881483067/5": write /var/tmp/container_images_storage1881483067/5: no space left on device`,
		reason: BuildDiskFull,
		inMsg:  []string{"ran out of disk space", "emptyDir", "no size limit", "batch.kubernetes.io/job-name=build-" + mosbName},
		inEv:   []string{"storing blob to file", "no space left on device"},
	},
	{
		// containers/podman#16192: the disk fills while a step's layer is committed.
		name: "containers/podman#16192: no space left on device while committing a step",
		msg: `STEP 2/2: COPY --from=builder /u01/jdk /u01/jdk/
Error: committing container for step {Env:[PATH=/usr/local/sbin] Command:copy Args:[/u01/jdk /u01/jdk/]}: copying layers and metadata for container "26babb7d177e": writing blob: adding layer with blob "sha256:d80cf574e859": Error processing tar file(exit status 1): write /u01/jdk/jre/lib/amd64/libjfxwebkit.so: no space left on device`,
		reason: BuildDiskFull,
		inEv:   []string{"no space left on device"},
	},
	{
		// goharbor/harbor#17390: Harbor's project quota, answered as a registry "denied" on the push.
		name:    "goharbor/harbor#17390: denied ... will exceed the configured upper limit",
		msg:     logCommitAndPushStart + `Error: pushing image "registry.example.com/ocl/os-image:x" to "docker://registry.example.com/ocl/os-image:x": writing blob: initiating layer upload to /v2/ocl/os-image/blobs/uploads/ in registry.example.com: denied: adding 29.0 MiB of storage resource, which when updated to current usage of 152.4 MiB will exceed the configured upper limit of 10.0 MiB.`,
		reason:  RegistryQuotaExceeded,
		inMsg:   []string{"registry.example.com refused the push of registry.example.com/ocl/os-image", "quota"},
		inEv:    []string{"will exceed the configured upper limit"},
		notInEv: []string{"Copying blob"},
	},
	{
		// The same quota refusal in the old multi-line registry error ("errors:" then one code a line).
		name: "goharbor/harbor#17390 in the multi-line form",
		msg: logCommitAndPushStart + `Error: writing blob: initiating layer upload to /v2/ocl/os-image/blobs/uploads/ in registry.example.com: errors:
denied: adding 29.0 MiB of storage resource, which when updated to current usage of 152.4 MiB will exceed the configured upper limit of 10.0 MiB.`,
		reason: RegistryQuotaExceeded,
		inEv:   []string{"errors:", "configured upper limit"},
	},
	{
		// pulp/pulp-operator#330: nginx in front of the registry refuses a large layer.
		name: "pulp/pulp-operator#330: StatusCode: 413 from the proxy",
		msg: logCommitAndPushStart + `Error: writing blob: uploading layer chunked: StatusCode: 413, <html>
<head><title>413 Request Entity Too Large<...`,
		reason: PushTooLarge,
		inMsg:  []string{"HTTP 413", "client_max_body_size"},
		inEv:   []string{"StatusCode: 413"},
	},
	{
		// cloudflare/serverless-registry#67: the same refusal as c/image's HTTP 413 body parse error.
		name:   "cloudflare/serverless-registry#67: error parsing HTTP 413 response body",
		msg:    logCommitAndPushStart + `Error: pushing image "a" to "docker://a": writing blob: uploading layer to https://r.example.com/v2/ocl/os-image/blobs/uploads/x: error parsing HTTP 413 response body: invalid character '<' looking for beginning of value: "<html><head><title>413 Request Entity Too Large</title></head></html>"`,
		reason: PushTooLarge,
	},
	{
		// aws-actions/amazon-ecr-login#166, plexsystems/sinker#55: ECR creates no repository on push.
		name:   "aws-actions/amazon-ecr-login#166: ECR name unknown, the repository does not exist",
		msg:    logCommitAndPushStart + `Error: pushing image "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ocl/os-image:x" to "docker://123456789012.dkr.ecr.eu-west-1.amazonaws.com/ocl/os-image:x": writing blob: initiating layer upload to /v2/ocl/os-image/blobs/uploads/ in 123456789012.dkr.ecr.eu-west-1.amazonaws.com: name unknown: The repository with name 'ocl/os-image' does not exist in the registry with id '123456789012'`,
		reason: PushDenied,
		inMsg:  []string{"has no repository registry.example.com/ocl/os-image", "create the repository"},
		inEv:   []string{"does not exist in the registry"},
	},
	{
		// openshift-eng/ocp-build-data#10219: a RHEL bootc base image without the Red Hat GPG key imported.
		name: "openshift-eng/ocp-build-data#10219: you do not have any GPG public keys installed",
		msg: `STEP 2/2: RUN dnf install -y microshift
Updating Subscription Management repositories.
You have enabled checking of packages via GPG keys. This is a good thing.
However, you do not have any GPG public keys installed. You need to download
the keys for packages you wish to install and install them.
You can do that by running the command:
    rpm --import public.gpg.key
Alternatively you can specify the url to the key you would like to use
for a repository in the 'gpgkey' option in a repository section and DNF
will install it for you.
For more information contact your distribution or package provider.
Problem repository: [rhel-9-for-x86_64-baseos-eus-rpms__9_DOT_4]
subprocess exited with status 1
Error: building at STEP "RUN dnf install -y microshift": exit status 1`,
		reason: RpmGpgKeyMissing,
		inMsg:  []string{"step RUN dnf install -y microshift", "rpm --import", "etc-pki-rpm-gpg"},
		inEv:   []string{"do not have any GPG public keys installed"},
	},
	{
		// dotnet/dotnet-buildtools-prereqs-docker#358: dnf's per-package form.
		name: "dotnet/dotnet-buildtools-prereqs-docker#358: Public key for x.rpm is not installed",
		msg: `STEP 2/2: RUN dnf install -y moby-engine
Public key for moby-engine-20.10.7-1.el8.x86_64.rpm is not installed
Error: GPG check FAILED
subprocess exited with status 1
Error: building at STEP "RUN dnf install -y moby-engine": exit status 1`,
		reason: RpmGpgKeyMissing,
		inEv:   []string{"GPG check FAILED"},
	},
	{
		// ublue-os/akmods#300: a kmod built for another kernel than the base image's.
		name: "ublue-os/akmods#300: nothing provides kernel-uname-r needed by kmod",
		msg: `STEP 3/3: RUN rpm-ostree install /tmp/rpms/kmods/*nct6687*.rpm
Checking out tree 9d3c2b1... done
Resolving dependencies... done
error: Could not depsolve transaction; 1 problem detected:
 Problem: conflicting requests
  - nothing provides kernel-uname-r = 6.12.12-201.bazzite.fc41.x86_64 needed by kmod-nct6687d-0.0.git.109.80dc037b-1.fc41.x86_64 from @commandline
subprocess exited with status 1
Error: building at STEP "RUN rpm-ostree install /tmp/rpms/kmods/*nct6687*.rpm": exit status 1`,
		reason: PackageConflict,
		inMsg:  []string{"nothing provides kernel-uname-r = 6.12.12-201.bazzite.fc41.x86_64 needed by kmod-nct6687d-0.0.git.109.80dc037b-1.fc41.x86_64", "built for the base image's kernel"},
		inEv:   []string{"nothing provides kernel-uname-r"},
	},
	{
		// bootc-dev/bootc#1546: the lint the image mode documentation recommends as the last step.
		name: "bootc-dev/bootc#1546: bootc container lint: Checks failed",
		msg: `STEP 3/3: RUN bootc container lint --fatal-warnings
+ bootc container lint --fatal-warnings
error: Linting: Checks failed: 1
Lint warning: var-tmpfiles: Found content in /var missing systemd tmpfiles.d entries:
  d /var/roothome/buildinfo 0755 root root - -
subprocess exited with status 1
Error: building at STEP "RUN bootc container lint --fatal-warnings": exit status 1`,
		reason: ImageLintFailed,
		inMsg:  []string{"bootc container lint found problems", "var-tmpfiles"},
		inEv:   []string{"Linting: Checks failed: 1"},
	},
	{
		// castrojo/ublue-image#1, skupperproject/skupper-router#1767: COPY of a path the build context lacks.
		name: "castrojo/ublue-image#1: COPY finds nothing in the build context",
		msg: `STEP 2/3: COPY files/motd /etc/motd
Error: building at STEP "COPY files/motd /etc/motd": checking on sources under "/tmp/context": copier: stat: "/files/motd": no such file or directory`,
		reason: BuildContextMissing,
		inMsg:  []string{"COPY or ADD of /files/motd found nothing in the build context", "machineconfig/"},
		inEv:   []string{"copier: stat"},
	},
}

// Node reasons as the machine-config-daemon records them (failure-signatures section 7: the 2026-08 wrapper keeps
// rpm-ostree's stderr), each from its public report.
func TestDiagnosePoolPublicReports(t *testing.T) {
	wrap := func(stderr string) string {
		return "failed to update OS to " + target + " after retries: " + rebaseCmd + ": " + stderr + ": exit status 1: timed out waiting for the condition"
	}
	cases := []struct {
		name   string
		reason string
		want   Reason
		inMsg  []string
	}{
		{"ublue-os/bazzite-dx#70: A signature was required, but no signature exists",
			wrap("error: Creating importer: failed to invoke method OpenImage: failed to invoke method OpenImage: A signature was required, but no signature exists"),
			NodeImagePolicyRejected, []string{"signature policy rejects it", "OCL does not sign"}},
		{"containers/image policy_eval_simple.go: is rejected by policy",
			wrap("error: Creating importer: failed to invoke method OpenImage: Source image rejected: Running image docker://" + target + " is rejected by policy."),
			NodeImagePolicyRejected, nil},
		{"coreos/rpm-ostree#4820: ostree-tar cannot process a hardlink under /var",
			wrap("error: Importing: Parsing layer blob sha256:6481d0e877ab: error: ostree-tar: Processing deferred hardlink var/cache/akmods/nvidia/545.29.06-3-for-6.7.3-200.fc39.x86_64.log: Failed to find object: No such file or directory: var: Processing tar: Failed to commit tar: ExitStatus(unix_wait_status(256))"),
			NodeImageContentInvalid, []string{"cannot import the OS image's content", "/var"}},
		{"ostreedev/ostree#2987: Failed to find kernel",
			wrap("error: Staging deployment: Initializing deployment: Failed to find kernel in /usr/lib/modules, /usr/lib/ostree-boot or /boot"),
			NodeImageNotBootable, []string{"found no kernel in the OS image"}},
		{"OCPBUGS-56648: a MachineConfig enables a unit the image does not ship",
			"error enabling units: Failed to enable unit: Unit file autofs.service does not exist.",
			NodeUnitMissing, []string{"cannot enable a systemd unit the layered image does not ship", "autofs.service"}},
		{"coreos/rpm-ostree#5198: FinishPipe broken pipe is a registry or network problem",
			wrap("error: Importing: Unencapsulating base: failed to invoke method FinishPipe: failed to invoke method FinishPipe: write |1: broken pipe"),
			NodeRegistryUnreachable, []string{"cannot reach registry registry.example.com"}},
		{"ostreedev/ostree-rs-ext#657: Parsing layer blob: Broken pipe",
			wrap("error: Importing: Parsing layer blob sha256:eea8727e6097: Broken pipe (os error 32)"),
			NodeRegistryUnreachable, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := layeredSnapshot(node("worker-0", target, oldImage, mco.StateDegraded, tc.reason), node("worker-1", target, target, mco.StateDone, ""))
			d, _ := DiagnosePool(s)
			checkDiag(t, d, tc.want, append([]string{"worker-0"}, tc.inMsg...), []string{"node worker-0 (Degraded)"}, nil)
			if d.Severity != SeverityError {
				t.Errorf("severity %s", d.Severity)
			}
			if p := NodeProblems(s); len(p) != 1 || p[0].Reason != tc.want {
				t.Errorf("NodeProblems = %+v", p)
			}
		})
	}
}

// A build pod that exists but cannot be scheduled is BuildPendingTooLong once the limit passes, with the
// scheduler's message as evidence, also while the MachineOSBuild is only Prepared.
func TestDiagnoseBuildUnschedulablePod(t *testing.T) {
	const sched = `0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/infra: }, 2 Insufficient ephemeral-storage. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.`
	for _, tc := range []struct {
		name string
		age  time.Duration
		want Reason
	}{
		{"within the limit", 10 * time.Minute, ""},
		{"past the limit", 20 * time.Minute, BuildPendingTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newMOSB(mosbConds(false, false, false, false, t0.Add(-tc.age)), time.Time{})
			b.Status.Conditions[0].Status = metav1.ConditionTrue // Prepared
			p := buildPod("build-"+mosbName+"-unsch", t0.Add(-tc.age), corev1.PodPending)
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
				Message: sched, LastTransitionTime: metav1.NewTime(t0.Add(-tc.age))}}
			d := DiagnoseBuild(BuildSnapshot{Build: b, Job: runningJob(), Pods: []corev1.Pod{p}, Now: t0})
			if tc.want == "" {
				if !d.Healthy() {
					t.Errorf("%+v", d)
				}
				return
			}
			checkDiag(t, d, tc.want, []string{"unschedulable for 20m", "Insufficient ephemeral-storage"}, []string{"PodScheduled=False Unschedulable: 0/3 nodes are available"}, nil)
		})
	}
}

// MCO 5.1 and its backports write the failure text into the Failed condition: it is the first evidence, whatever the
// wording of the old fixed phrase, and the pool message's prefix is never relied on.
func TestDiagnoseBuildFailedConditionText(t *testing.T) {
	withFailedMessage := func(s BuildSnapshot, msg string) BuildSnapshot {
		b := s.Build.DeepCopy()
		for i := range b.Status.Conditions {
			if b.Status.Conditions[i].Type == string(mcfgv1.MachineOSBuildFailed) {
				b.Status.Conditions[i].Message = msg
			}
		}
		s.Build = b
		return s
	}
	const unrecognised = "Failed to build image: the build pod exited unexpectedly on node worker-3 after 2 attempts"
	for _, tc := range []struct {
		name, msg string
		want      Reason
		firstEv   string
	}{
		{"a cause the classifier knows", `Failed to push image: writing blob: initiating layer upload to /v2/ocl/os-image/blobs/uploads/ in registry.example.com: denied: adding 1 GiB of storage resource, which when updated to current usage of 9.9 GiB will exceed the configured upper limit of 10.0 GiB.`, RegistryQuotaExceeded, "Failed to push image: writing blob"},
		{"an unrecognised text is the first evidence", unrecognised, Unknown, "Failed: " + unrecognised},
		{"the old fixed phrase says nothing", "Build Failed", Unknown, "Job build-" + mosbName},
		{"a reworded fixed phrase says nothing either", "Image build failed.", Unknown, "Job build-" + mosbName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := withFailedMessage(failedSnapshot("", layoutInit), tc.msg)
			d := DiagnoseBuild(s)
			if d.Reason != tc.want || !strings.HasPrefix(d.Evidence, tc.firstEv) {
				t.Errorf("reason %s, evidence %q; want %s starting with %q", d.Reason, d.Evidence, tc.want, tc.firstEv)
			}
		})
	}
	// The pool's ImageBuildDegraded message is quoted whole, whatever follows the MachineOSBuild's name.
	s := layeredSnapshot(node("worker-0", oldImage, oldImage, mco.StateDone, ""))
	s.Pool.Status.Conditions = append(s.Pool.Status.Conditions, poolCond(mcfgv1.MachineConfigPoolImageBuildDegraded, corev1.ConditionTrue, "BuildFailed",
		"Failed to build OS image for pool worker (MachineOSBuild: "+mosbName+"): "+unrecognised))
	d, _ := DiagnosePool(s)
	checkDiag(t, d, BuildFailedBlocksRollout, []string{"MachineOSBuild " + mosbName + " failed"}, []string{unrecognised}, nil)
}

// The new shapes one line at a time, with the lines around them that must not count.
func TestClassifyPublicReportShapes(t *testing.T) {
	for _, tc := range []struct {
		line string
		hint direction
		want class
	}{
		{`write /var/tmp/container_images_storage1881483067/5: no space left on device`, dirPull, clsBuildDisk},
		{`[Errno 28] No space left on device: '/var/cache/dnf/x'`, dirNone, clsBuildDisk},
		{`denied: adding 29.0 MiB of storage resource, which when updated to current usage of 152.4 MiB will exceed the configured upper limit of 10.0 MiB.`, dirPush, clsQuota},
		{`Error: writing blob: uploading layer chunked: StatusCode: 413, <html>`, dirNone, clsTooLarge},
		{`However, you do not have any GPG public keys installed. You need to download`, dirNone, clsGpgKey},
		{`Public key for moby-engine-20.10.7-1.el8.x86_64.rpm is not installed`, dirNone, clsGpgKey},
		{`  - nothing provides kernel-uname-r = 6.12.12-201.bazzite.fc41.x86_64 needed by kmod-nct6687d-0.0.git.109.80dc037b-1.fc41.x86_64 from @commandline`, dirNone, clsConflict},
		{`error: Could not depsolve transaction; 1 problem detected:`, dirNone, clsConflict},
		{`error: Linting: Checks failed: 1`, dirNone, clsLint},
		{`name unknown: The repository with name 'ocl/os-image' does not exist in the registry with id '123456789012'`, dirPush, clsPushDenied},
		// A missing manifest while pushing is no refusal, and a missing repository while pulling is the base image's.
		{`manifest unknown: manifest unknown`, dirPush, clsNone},
		{`name unknown: The repository with name 'ocl/base' does not exist in the registry with id '1'`, dirPull, clsBaseNotFound},
		// Lines of successful runs.
		{`Importing GPG key 0xFD431D51:`, dirNone, clsNone},
		{`Lint warning: var-tmpfiles: Found content in /var missing systemd tmpfiles.d entries:`, dirNone, clsNone},
		{`Checks passed: 12`, dirNone, clsNone},
		{`Installing: kernel-uname-r-provider-1.0-1.noarch`, dirNone, clsNone},
	} {
		if got := classifyLine(tc.line, tc.hint); got != tc.want {
			t.Errorf("%q (hint %d): class %d, want %d", tc.line, tc.hint, got, tc.want)
		}
	}
}

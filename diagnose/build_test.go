package diagnose

import (
	"strings"
	"testing"
	"time"

	"github.com/ocl-guard/ocl-guard/mco"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type buildCase struct {
	name     string
	msg      string // termination message of the failed image-build container
	reason   Reason
	inMsg    []string // substrings of Message
	inEv     []string // substrings of Evidence
	notInEv  []string
	needsLog bool
}

var failedBuildCases = []buildCase{
	{
		name: "base pull unauthorized (c/image >=5.24)",
		msg: logPreamble + logFromStep +
			`Error: creating build container: internal error: unable to copy from source docker://` + baseImage + `: initializing source docker://` + baseImage + `: reading manifest sha256:9b1e4a5f in quay.io/openshift-release-dev/ocp-v4.0-art-dev: unauthorized: access to the requested resource is not authorized`,
		reason: BaseImagePullAuth,
		inMsg:  []string{"MachineOSBuild " + mosbName, "quay.io refused the credentials", "openshift-config/pull-secret"},
		inEv:   []string{"creating build container", "unauthorized"},
	},
	{
		name: "base pull invalid username/password",
		msg: logFromStep + `time="2026-08-20T09:20:02Z" level=debug msg="GET https://quay.io/v2/auth?scope=repository%3Aacme%2Fbase%3Apull"
Error: creating build container: unable to copy from source docker://quay.io/acme/base:9.6: initializing source docker://quay.io/acme/base:9.6: unable to retrieve auth token: invalid username/password: unauthorized: Could not find robot with specified username`,
		reason: BaseImagePullAuth,
		inMsg:  []string{"quay.io refused"},
		inEv:   []string{"invalid username/password"},
	},
	{
		name: "base pull old multi-line errors: form",
		msg: `STEP 1: FROM docker.io/acme/private-base:latest
error creating build container: Error initializing source docker://acme/private-base:latest: Error reading manifest latest in docker.io/acme/private-base: errors:
denied: requested access to the resource is denied
unauthorized: authentication required`,
		reason: BaseImagePullAuth,
		inEv:   []string{"errors:", "authentication required"},
	},
	{
		name:   "base pull 403 bearer token",
		msg:    logFromStep + `Error: creating build container: unable to copy from source docker://registry.corp.example:5000/os/base:9: initializing source docker://registry.corp.example:5000/os/base:9: Requesting bearer token: received unexpected HTTP status: 403 Forbidden`,
		reason: BaseImagePullAuth,
		inMsg:  []string{"registry.corp.example:5000 refused"},
	},
	{
		name:   "base image manifest unknown",
		msg:    logFromStep + `Error: creating build container: unable to copy from source docker://quay.io/acme/base:9.9: initializing source docker://quay.io/acme/base:9.9: reading manifest 9.9 in quay.io/acme/base: manifest unknown`,
		reason: BaseImageNotFound,
		inMsg:  []string{"not found in quay.io"},
	},
	{
		name: "push unauthorized while writing blob",
		msg: logRunOK + logCommitAndPushStart +
			`Error: pushing image "registry.example.com/ocl/os-image:` + mosbName + `" to "docker://registry.example.com/ocl/os-image:` + mosbName + `": writing blob: initiating layer upload to /v2/ocl/os-image/blobs/uploads/ in registry.example.com: unauthorized: access to the requested resource is not authorized`,
		reason: PushAuth,
		inMsg:  []string{"registry.example.com refused the push credentials", mco.Namespace + "/push-secret"},
		inEv:   []string{"initiating layer upload"},
	},
	{
		name:   "push: GetFailureCause dropped the wrapper",
		msg:    logCommitAndPushStart + `Error: writing blob: initiating layer upload to /v2/ocl/os-image/blobs/uploads/ in registry.example.com: unauthorized: authentication required`,
		reason: PushAuth,
	},
	{
		name:   "push: trying to reuse blob, authentication required",
		msg:    logCommitAndPushStart + `Error: trying to reuse blob sha256:7e49dc6156b0b532730614d83a65ae5e7ce61e966b0498703d333b4d03505e4f at destination: checking whether a blob sha256:7e49dc6156b0b532730614d83a65ae5e7ce61e966b0498703d333b4d03505e4f exists in registry.example.com/ocl/os-image: authentication required`,
		reason: PushAuth,
	},
	{
		name:   "push denied (authenticated, no write access)",
		msg:    logCommitAndPushStart + `Error: pushing image "registry.example.com/ocl/os-image:x" to "docker://registry.example.com/ocl/os-image:x": writing blob: initiating layer upload to /v2/ocl/os-image/blobs/uploads/ in registry.example.com: denied: requested access to the resource is denied`,
		reason: PushDenied,
		inMsg:  []string{"accepted the push credentials but denied writing to registry.example.com/ocl/os-image"},
	},
	{
		name:   "push 403 on manifest upload",
		msg:    logCommitAndPushStart + `Error: pushing image "registry.example.com/ocl/os-image:x" to "docker://registry.example.com/ocl/os-image:x": writing manifest: uploading manifest x to registry.example.com/ocl/os-image: received unexpected HTTP status: 403 Forbidden`,
		reason: PushDenied,
	},
	{
		name:   "push: no wrapper at all, phase from the set -x trace",
		msg:    logCommitAndPushStart + `Error: unauthorized: access to the requested resource is not authorized`,
		reason: PushAuth,
	},
	{
		name:     "push: permission denied is not a registry denial",
		msg:      logCommitAndPushStart + `Error: writing blob: storing blob to file "/var/tmp/storage123/1": open /var/tmp/storage123/1: permission denied`,
		reason:   Unknown,
		inEv:     []string{"permission denied", "BackoffLimitExceeded"},
		notInEv:  []string{"level=debug"},
		needsLog: true,
	},
	{
		name: "base pull DNS failure after retries",
		msg: logFromStep + `time="2026-08-20T09:20:05Z" level=warning msg="Failed, retrying in 1s ... (1/3). Error: initializing source docker://quay.io/acme/base:9.6: pinging container registry quay.io: Get \"https://quay.io/v2/\": dial tcp: lookup quay.io on 172.30.0.10:53: no such host"
time="2026-08-20T09:20:07Z" level=warning msg="Failed, retrying in 1s ... (2/3). Error: initializing source docker://quay.io/acme/base:9.6: pinging container registry quay.io: Get \"https://quay.io/v2/\": dial tcp: lookup quay.io on 172.30.0.10:53: no such host"
Error: creating build container: unable to copy from source docker://quay.io/acme/base:9.6: initializing source docker://quay.io/acme/base:9.6: pinging container registry quay.io: Get "https://quay.io/v2/": dial tcp: lookup quay.io on 172.30.0.10:53: no such host`,
		reason: RegistryUnreachable,
		inMsg:  []string{"could not reach quay.io while pulling the base image"},
	},
	{
		name:   "push x509",
		msg:    logCommitAndPushStart + `Error: pushing image "registry.example.com/ocl/os-image:x" to "docker://registry.example.com/ocl/os-image:x": trying to reuse blob sha256:abc at destination: pinging container registry registry.example.com: Get "https://registry.example.com/v2/": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
		reason: RegistryUnreachable,
		inMsg:  []string{"could not reach registry.example.com while pushing the image", "additionalTrustedCA"},
	},
	{
		name: "transient pull retry then RUN failure is a RUN failure",
		msg: `time="2026-08-20T09:20:05Z" level=warning msg="Failed, retrying in 1s ... (1/3). Error: initializing source docker://quay.io/acme/base:9.6: pinging container registry quay.io: dial tcp 1.2.3.4:443: i/o timeout"
Writing manifest to image destination
STEP 2/2: RUN /usr/local/bin/configure-node.sh
configuring...
subprocess exited with status 3
Error: building at STEP "RUN /usr/local/bin/configure-node.sh": exit status 3`,
		reason:   BuildStepFailed,
		inMsg:    []string{"step RUN /usr/local/bin/configure-node.sh exited with status 3", "oc logs -n openshift-machine-config-operator job/build-" + mosbName + " -c image-build"},
		inEv:     []string{"configuring...", "exit status 3"},
		needsLog: true,
	},
	{
		name: "buildah unknown instruction",
		msg: logBaseOK + `STEP 2/2: RUNN dnf install -y tmux
Error: building at STEP "RUNN dnf install -y tmux": Build error: Unknown instruction: "RUNN" &imagebuilder.Step{Env:[]string{"PATH=/usr/local/sbin"}, Command:"runn", Args:[]string{"dnf install -y tmux"}, Flags:[]string{}, Attrs:map[string]bool(nil), Message:"RUNN dnf install -y tmux", Heredocs:[]buildkitparser.Heredoc(nil), Original:"RUNN dnf install -y tmux"}`,
		reason: ContainerfileSyntax,
		inMsg:  []string{"fix spec.containerFile of MachineOSConfig worker"},
	},
	{
		name:   "imagebuilder ENV syntax",
		msg:    `Error: parsing main Dockerfile: /tmp/context/Containerfile: Syntax error - can't find = in "FOO". Must be of the form: name=value`,
		reason: ContainerfileSyntax,
	},
	{
		name: "dnf4 package not found",
		msg: logBaseOK + `STEP 2/2: RUN dnf install -y tmuxx && dnf clean all
+ dnf install -y tmuxx
Updating Subscription Management repositories.
Last metadata expiration check: 0:00:03 ago on Thu Aug 20 09:25:00 2026.
No match for argument: tmuxx
Error: Unable to find a match: tmuxx
subprocess exited with status 1
Error: building at STEP "RUN dnf install -y tmuxx && dnf clean all": exit status 1`,
		reason: PackageNotFound,
		inMsg:  []string{"package(s) not found: tmuxx", "step RUN dnf install -y tmuxx"},
		inEv:   []string{"Unable to find a match: tmuxx"},
	},
	{
		name: "rpm-ostree packages not found",
		msg: `STEP 2/2: RUN rpm-ostree install htop usbguard && ostree container commit
Checking out tree 0b9e0c3...done
Enabled rpm-md repositories: rhel-9-for-x86_64-baseos-rpms
error: Packages not found: htopp
subprocess exited with status 1
Error: building at STEP "RUN rpm-ostree install htop usbguard && ostree container commit": exit status 1`,
		reason: PackageNotFound,
		inMsg:  []string{"htopp"},
	},
	{
		name: "microdnf no package matches, truncated tail without the STEP header",
		msg: `Downloading metadata...
error: No package matches 'kernel-devel-5.14.0-999'
subprocess exited with status 1
Error: building at STEP "RUN microdnf install -y kernel-devel-5.14.0-999": exit status 1`,
		reason: PackageNotFound,
		inMsg:  []string{"kernel-devel-5.14.0-999"},
	},
	{
		name: "dnf repo unreachable",
		msg: `STEP 2/2: RUN dnf install -y epel-release
Errors during downloading metadata for repository 'internal-tools':
  - Curl error (6): Couldn't resolve host name for http://repo.corp.example/tools/repodata/repomd.xml [Could not resolve host: repo.corp.example]
Error: Failed to download metadata for repo 'internal-tools': Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried
subprocess exited with status 1
Error: building at STEP "RUN dnf install -y epel-release": exit status 1`,
		reason: RepoUnreachable,
		inMsg:  []string{"package repository internal-tools"},
	},
	{
		name: "skip_if_unavailable: the unreachable repo explains the missing package",
		msg: `STEP 2/2: RUN dnf install -y mytool
Curl error (7): Couldn't connect to server for https://repo.corp.example/tools/repodata/repomd.xml [Failed to connect to repo.corp.example port 443: Connection refused]
Ignoring repositories: internal-tools
No match for argument: mytool
Error: Unable to find a match: mytool
subprocess exited with status 1
Error: building at STEP "RUN dnf install -y mytool": exit status 1`,
		reason: RepoUnreachable,
	},
	{
		name: "NEGATIVE: unauthorized echoed by a RUN command is a RUN failure",
		msg: `STEP 2/2: RUN echo "pushing image: writing blob: unauthorized: fake" && exit 4
+ echo 'pushing image: writing blob: unauthorized: fake'
pushing image: writing blob: unauthorized: fake
subprocess exited with status 4
Error: building at STEP "RUN echo "pushing image: writing blob: unauthorized: fake" && exit 4": exit status 4`,
		reason:   BuildStepFailed,
		inMsg:    []string{"exited with status 4", `step RUN echo "pushing image`},
		needsLog: true,
	},
	{
		name: "NEGATIVE: same, termination message cut before the STEP header",
		msg: `pushing image: writing blob: unauthorized: fake
initializing source docker://quay.io/x: reading manifest latest in quay.io/x: unauthorized: fake
Error: building at STEP "RUN echo boom && exit 4": exit status 4`,
		reason:   BuildStepFailed,
		inMsg:    []string{"step RUN echo boom && exit 4 exited with status 4"},
		needsLog: true,
	},
	{
		name: "NEGATIVE: skopeo inside RUN failing on auth is a RUN failure",
		msg: `STEP 2/2: RUN skopeo copy docker://quay.io/acme/tool:1 dir:/opt/tool
time="2026-08-20T09:25:00Z" level=fatal msg="initializing source docker://quay.io/acme/tool:1: reading manifest 1 in quay.io/acme/tool: unauthorized: access to the requested resource is not authorized"
subprocess exited with status 1
Error: building at STEP "RUN skopeo copy docker://quay.io/acme/tool:1 dir:/opt/tool": exit status 1`,
		reason:   BuildStepFailed,
		needsLog: true,
	},
	{
		name: "old buildah RUN failure shape",
		msg: `STEP 3: RUN make install
make: *** No rule to make target 'install'.  Stop.
error building at STEP "RUN make install": error while running runtime: exit status 2`,
		reason:   BuildStepFailed,
		inMsg:    []string{"step RUN make install exited with status 2"},
		needsLog: true,
	},
	{
		name:     "unknown failure",
		msg:      logBaseOK + logRunOK + "COMMIT registry.example.com/ocl/os-image:x\nError: committing container for step {Env:[] Command:run}: copying layers and metadata: some new failure nobody has seen",
		reason:   Unknown,
		inMsg:    []string{"no recognised cause", "oc logs -n openshift-machine-config-operator job/build-"},
		inEv:     []string{"some new failure nobody has seen", "Job build-" + mosbName + ": BackoffLimitExceeded; container image-build exit code 1 (Error)"},
		needsLog: true,
	},
}

func TestDiagnoseBuildFailed(t *testing.T) {
	for _, tc := range failedBuildCases {
		for _, layout := range []podLayout{layoutInit, layoutLegacy} {
			name := tc.name
			if layout == layoutLegacy {
				name += " (4.18 layout)"
			}
			t.Run(name, func(t *testing.T) {
				s := failedSnapshot(tc.msg, layout)
				d := DiagnoseBuild(s)
				checkDiag(t, d, tc.reason, tc.inMsg, tc.inEv, tc.notInEv)
				if d.Severity != SeverityError {
					t.Errorf("severity %q", d.Severity)
				}
				if got := NeedsLog(s); got != tc.needsLog {
					t.Errorf("NeedsLog = %v, want %v", got, tc.needsLog)
				}
			})
		}
	}
}

func checkDiag(t *testing.T, d Diagnosis, reason Reason, inMsg, inEv, notInEv []string) {
	t.Helper()
	if d.Reason != reason {
		t.Fatalf("reason %q, want %q\nmessage: %s\nevidence: %s", d.Reason, reason, d.Message, d.Evidence)
	}
	if m := mustContain(d.Message, inMsg...); m != "" {
		t.Errorf("message lacks %q: %s", m, d.Message)
	}
	if m := mustContain(d.Evidence, inEv...); m != "" {
		t.Errorf("evidence lacks %q: %s", m, d.Evidence)
	}
	for _, s := range notInEv {
		if strings.Contains(d.Evidence, s) {
			t.Errorf("evidence contains %q: %s", s, d.Evidence)
		}
	}
	if strings.ContainsAny(d.Message, "\n\r") {
		t.Errorf("message is not one line: %q", d.Message)
	}
	if len(d.Evidence) > MaxEvidenceBytes {
		t.Errorf("evidence is %d bytes", len(d.Evidence))
	}
	if d.Reason != "" && (d.Message == "" || d.Severity == "") {
		t.Errorf("empty message or severity: %+v", d)
	}
}

// A failed build whose termination message only shows the RUN failure: the checker reads the log, whose earlier
// lines show the missing package.
func TestDiagnoseBuildLogRefinesRunFailure(t *testing.T) {
	s := failedSnapshot(`subprocess exited with status 1
Error: building at STEP "RUN dnf install -y tmuxx": exit status 1`, layoutInit)
	if !NeedsLog(s) {
		t.Fatal("NeedsLog = false")
	}
	if d := DiagnoseBuild(s); d.Reason != BuildStepFailed {
		t.Fatalf("without log: %s", d.Reason)
	}
	s.Log = logPreamble + logBaseOK + `STEP 2/2: RUN dnf install -y tmuxx
` + strings.Repeat(`time="2026-08-20T09:25:00Z" level=debug msg="noise"`+"\n", 100) + `No match for argument: tmuxx
Error: Unable to find a match: tmuxx
` + strings.Repeat(`time="2026-08-20T09:25:00Z" level=debug msg="cleanup"`+"\n", 50) + `subprocess exited with status 1
Error: building at STEP "RUN dnf install -y tmuxx": exit status 1`
	d := DiagnoseBuild(s)
	checkDiag(t, d, PackageNotFound, []string{"tmuxx", "step RUN dnf install -y tmuxx"}, []string{"Unable to find a match"}, nil)
}

func TestDiagnoseBuildFailedConditionMessage(t *testing.T) {
	// MCO pre-validation (2026-07+) fails the build before any pod runs.
	b := newMOSB(mosbConds(false, false, true, false, t0), time.Time{})
	for i := range b.Status.Conditions {
		if b.Status.Conditions[i].Type == "Failed" {
			b.Status.Conditions[i].Message = `Containerfile validation failed: unknown Dockerfile instruction: RUNN`
		}
	}
	s := BuildSnapshot{Build: b, Now: t0}
	d := DiagnoseBuild(s)
	checkDiag(t, d, ContainerfileSyntax, []string{"MachineOSConfig worker"}, []string{"RUNN"}, nil)
	if NeedsLog(s) {
		t.Error("NeedsLog = true")
	}
}

func TestDiagnoseBuildJobFailedBeforeMOSB(t *testing.T) {
	// The MachineOSBuild still says Building but the Job has failed: diagnose it as failed.
	s := failedSnapshot(logCommitAndPushStart+`Error: writing blob: initiating layer upload to /v2/ocl/os-image/blobs/uploads/ in registry.example.com: unauthorized: authentication required`, layoutInit)
	s.Build = newMOSB(mosbConds(true, false, false, false, t0.Add(-time.Hour)), t0.Add(-time.Hour))
	d := DiagnoseBuild(s)
	checkDiag(t, d, PushAuth, nil, nil, nil)
	if d.Severity != SeverityError {
		t.Errorf("severity %s", d.Severity)
	}
}

func TestDiagnoseBuildFailedAttemptWhileRetrying(t *testing.T) {
	s := failedSnapshot(logCommitAndPushStart+`Error: pushing image "a" to "docker://a": writing blob: initiating layer upload to /v2/ocl/os-image/blobs/uploads/ in registry.example.com: denied: requested access to the resource is denied`, layoutInit)
	s.Build = newMOSB(mosbConds(true, false, false, false, t0.Add(-time.Hour)), t0.Add(-time.Hour))
	s.Job = runningJob()
	s.Job.Status.Failed = 1
	d := DiagnoseBuild(s)
	checkDiag(t, d, PushDenied, []string{"the Job retries up to 4 attempts"}, nil, nil)
	if d.Severity != SeverityWarning {
		t.Errorf("severity %s", d.Severity)
	}
	if NeedsLog(s) {
		t.Error("NeedsLog = true")
	}
}

func TestDiagnoseBuildHealthy(t *testing.T) {
	okPod := buildPod("build-"+mosbName+"-ok", t0.Add(-30*time.Minute), corev1.PodSucceeded)
	okPod.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "image-build", State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}}}}
	s := BuildSnapshot{
		Build: newMOSB(mosbConds(false, true, false, false, t0), t0.Add(-30*time.Minute)),
		Pods:  []corev1.Pod{okPod},
		// A successful log: "Error" in a package name, even an error-looking line, changes nothing.
		Log: logPreamble + logBaseOK + logRunOK + "No match for argument: optional-extra\n" + logCommitAndPushStart,
		Now: t0,
	}
	if d := DiagnoseBuild(s); !d.Healthy() {
		t.Errorf("succeeded build: %+v", d)
	}
	if NeedsLog(s) {
		t.Error("NeedsLog on a succeeded build")
	}
	if d := DiagnoseBuild(BuildSnapshot{}); !d.Healthy() {
		t.Errorf("nil build: %+v", d)
	}

	// Building for 30 minutes with image-build running (phase Pending because it is an init container).
	running := buildPod("build-"+mosbName+"-run", t0.Add(-30*time.Minute), corev1.PodPending)
	running.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}
	running.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "image-build", State: corev1.ContainerState{
		Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(t0.Add(-29 * time.Minute))}}}}
	s = BuildSnapshot{Build: newMOSB(mosbConds(true, false, false, false, t0.Add(-30*time.Minute)), t0.Add(-30*time.Minute)),
		Job: runningJob(), Pods: []corev1.Pod{running}, Now: t0}
	if d := DiagnoseBuild(s); !d.Healthy() {
		t.Errorf("running build: %+v", d)
	}
	if NeedsLog(s) {
		t.Error("NeedsLog on a running build")
	}
}

func TestDiagnoseBuildInterrupted(t *testing.T) {
	b := newMOSB(mosbConds(false, false, false, true, t0), t0.Add(-time.Hour))
	d := DiagnoseBuild(BuildSnapshot{Build: b, Now: t0})
	checkDiag(t, d, Interrupted, []string{"interrupted"}, []string{"Build Interrupted"}, nil)
	if d.Severity != SeverityInfo {
		t.Errorf("severity %s", d.Severity)
	}
}

func TestDiagnoseBuildBuilderImagePull(t *testing.T) {
	p := buildPod("build-"+mosbName+"-pull", t0.Add(-3*time.Minute), corev1.PodPending)
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}
	p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "image-build", Image: builder, State: corev1.ContainerState{
		Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff",
			Message: `Back-off pulling image "` + builder + `": ErrImagePull: rpc error: code = Unknown desc = reading manifest sha256:1111 in quay.io/openshift-release-dev/ocp-v4.0-art-dev: unauthorized: access to the requested resource is not authorized`}}}}
	s := BuildSnapshot{Build: newMOSB(mosbConds(true, false, false, false, t0.Add(-3*time.Minute)), t0.Add(-3*time.Minute)),
		Job: runningJob(), Pods: []corev1.Pod{p}, Now: t0}
	d := DiagnoseBuild(s)
	checkDiag(t, d, BuilderImagePull, []string{"cannot pull the builder image", "ImagePullBackOff, credentials refused", "for quay.io", "container image-build"}, []string{"Back-off pulling image"}, nil)
	if NeedsLog(s) {
		t.Error("NeedsLog = true")
	}

	// 4.18 layout, ErrImagePull on a regular container, image taken from the spec.
	p.Status.InitContainerStatuses = nil
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "wait-for-done", State: corev1.ContainerState{
		Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: `rpc error: code = Unknown desc = pinging container registry quay.io: Get "https://quay.io/v2/": dial tcp: lookup quay.io: no such host`}}}}
	p.Spec.Containers = []corev1.Container{{Name: "wait-for-done", Image: builder}}
	d = DiagnoseBuild(BuildSnapshot{Build: s.Build, Job: s.Job, Pods: []corev1.Pod{p}, Now: t0})
	checkDiag(t, d, BuilderImagePull, []string{"registry unreachable", builder[:40]}, nil, nil)
}

func TestDiagnoseBuildPending(t *testing.T) {
	const sched = `0/6 nodes are available: 3 Insufficient memory, 3 node(s) had untolerated taint {node-role.kubernetes.io/master: }. preemption: 0/6 nodes are available: 3 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling.`
	mk := func(age time.Duration) BuildSnapshot {
		p := buildPod("build-"+mosbName+"-pend", t0.Add(-age), corev1.PodPending)
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
			Message: sched, LastTransitionTime: metav1.NewTime(t0.Add(-age))}}
		return BuildSnapshot{Build: newMOSB(mosbConds(true, false, false, false, t0.Add(-age)), t0.Add(-age)),
			Job: runningJob(), Pods: []corev1.Pod{p}, Now: t0}
	}
	if d := DiagnoseBuild(mk(10 * time.Minute)); !d.Healthy() {
		t.Errorf("10m pending: %+v", d)
	}
	d := DiagnoseBuild(mk(25 * time.Minute))
	checkDiag(t, d, BuildPendingTooLong, []string{"unschedulable for 25m (limit 15m)", "3 Insufficient memory"}, []string{"PodScheduled=False Unschedulable: 0/6 nodes"}, nil)
	if d.Severity != SeverityWarning {
		t.Errorf("severity %s", d.Severity)
	}
	s := mk(25 * time.Minute)
	s.Limits = BuildLimits{PendingAfter: time.Hour}
	if d := DiagnoseBuild(s); !d.Healthy() {
		t.Errorf("custom limit: %+v", d)
	}

	// Scheduled but stuck creating containers (missing secret).
	p := buildPod("build-"+mosbName+"-cfg", t0.Add(-20*time.Minute), corev1.PodPending)
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}
	p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "image-build", State: corev1.ContainerState{
		Waiting: &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: `secret "final-` + mosbName + `" not found`}}}}
	d = DiagnoseBuild(BuildSnapshot{Build: newMOSB(mosbConds(true, false, false, false, t0.Add(-20*time.Minute)), t0.Add(-20*time.Minute)),
		Job: runningJob(), Pods: []corev1.Pod{p}, Now: t0})
	checkDiag(t, d, BuildPendingTooLong, []string{"Pending for 20m"}, []string{"CreateContainerConfigError", "not found"}, nil)

	// Prepared, Job without pods.
	b := newMOSB(mosbConds(false, false, false, false, t0.Add(-30*time.Minute)), time.Time{})
	b.Status.Conditions[0].Status = metav1.ConditionTrue
	job := runningJob()
	job.Status = batchv1.JobStatus{}
	d = DiagnoseBuild(BuildSnapshot{Build: b, Job: job, Now: t0})
	checkDiag(t, d, BuildPendingTooLong, []string{"no build pod for 30m"}, []string{"has no pod"}, nil)
}

func TestDiagnoseBuildStuck(t *testing.T) {
	running := buildPod("build-"+mosbName+"-run", t0.Add(-3*time.Hour), corev1.PodPending)
	running.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "image-build", State: corev1.ContainerState{
		Running: &corev1.ContainerStateRunning{}}}}
	s := BuildSnapshot{Build: newMOSB(mosbConds(true, false, false, false, t0.Add(-3*time.Hour)), t0.Add(-3*time.Hour)),
		Job: runningJob(), Pods: []corev1.Pod{running}, Now: t0}
	if !NeedsLog(s) {
		t.Error("NeedsLog = false for a stuck build")
	}
	d := DiagnoseBuild(s)
	checkDiag(t, d, BuildStuck, []string{"Building for 3h (limit 2h)", "sets no deadline", "machineconfiguration.openshift.io/rebuild"}, nil, nil)
	if d.Severity != SeverityWarning {
		t.Errorf("severity %s", d.Severity)
	}
	s.Log = logPreamble + logBaseOK + "STEP 2/2: RUN dnf install -y tmux\n" +
		"Curl error (28): Timeout was reached for https://repo.corp.example/repodata/repomd.xml [Operation timed out after 30000 milliseconds]\n"
	d = DiagnoseBuild(s)
	checkDiag(t, d, BuildStuck, []string{"its log shows RepoUnreachable"}, []string{"Curl error (28)"}, nil)

	s.Limits = BuildLimits{StuckAfter: 4 * time.Hour}
	if d := DiagnoseBuild(s); !d.Healthy() {
		t.Errorf("custom limit: %+v", d)
	}
}

func TestDiagnoseBuildEvidenceScrubbed(t *testing.T) {
	msg := logCommitAndPushStart +
		`time="2026-08-20T09:31:00Z" level=warning msg="request headers: Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.c2VjcmV0.sig"
config: {"auths":{"registry.example.com":{"auth":"dXNlcjpodW50ZXIy","email":"x@example.com"}}} password=hunter2 https://robot:s3cr3tPass@registry.example.com/v2/
Error: pushing image "registry.example.com/ocl/os-image:x" to "docker://registry.example.com/ocl/os-image:x": writing blob: initiating layer upload to /v2/ocl/os-image/blobs/uploads/ in registry.example.com: unauthorized: token=abc123secret Authorization: Basic dXNlcjpodW50ZXIy`
	s := failedSnapshot(msg, layoutInit)
	d := DiagnoseBuild(s)
	checkDiag(t, d, PushAuth, nil, []string{"<redacted>"}, []string{"dXNlcjpodW50ZXIy", "abc123secret", "eyJhbGci"})

	// Unknown evidence (last lines) is scrubbed too.
	s = failedSnapshot(`Error: login: {"auths":{"r.example.com":{"auth":"dXNlcjpodW50ZXIy"}}} password=hunter2 --creds robot:s3cr3t curl -u admin:pa55word https://robot:s3cr3tPass@r.example.com/`, layoutInit)
	d = DiagnoseBuild(s)
	checkDiag(t, d, Unknown, nil, []string{`"auth":"<redacted>"`, "password=<redacted>"}, []string{"dXNlcjpodW50ZXIy", "hunter2", "s3cr3t", "pa55word"})
}

func TestDiagnoseBuildEvidenceBounded(t *testing.T) {
	long := strings.Repeat("x", 3000)
	msg := logCommitAndPushStart + `Error: pushing image "` + long + `": writing blob: initiating layer upload to /v2/ocl/os-image/blobs/uploads/ in registry.example.com: unauthorized: authentication required ✓`
	d := DiagnoseBuild(failedSnapshot(msg, layoutInit))
	checkDiag(t, d, PushAuth, nil, []string{"Error: pushing image", "…", "authentication required ✓"}, nil)
	if len(d.Evidence) > MaxEvidenceBytes {
		t.Fatalf("evidence %d bytes", len(d.Evidence))
	}
}

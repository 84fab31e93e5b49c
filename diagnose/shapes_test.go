package diagnose

import (
	"strings"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Failure shapes real clusters printed; each fixture is written from the public source in its name.
var realWorldCases = []buildCase{
	{
		// containers/image#1293 (podman push to a Docker Hub repository without write access): the registry says
		// "denied", then c/image cannot parse the empty 401 body on the next line.
		name: "containers/image#1293: Docker Hub denied, then an HTTP 401 parse error",
		msg: logCommitAndPushStart + `Error: pushing image "docker.io/acme/os-image:x" to "docker://docker.io/acme/os-image:x": writing blob: initiating layer upload to /v2/acme/os-image/blobs/uploads/ in registry-1.docker.io: errors:
denied: requested access to the resource is denied
error parsing HTTP 401 response body: unexpected end of JSON input: ""`,
		reason: PushDenied,
		inMsg:  []string{"accepted the push credentials but denied writing"},
		inEv:   []string{"errors:", "denied: requested access"},
	},
	{
		// opendatahub-io/notebooks#2408: dnf inside a RUN step of an unentitled RHEL build.
		name: "opendatahub-io/notebooks#2408: There are no enabled repositories",
		msg: `STEP 2/2: RUN dnf install -y jq libtool gcc-toolset-13
+ dnf install -y jq libtool gcc-toolset-13
Updating Subscription Management repositories.
Unable to read consumer identity

This system is not registered with an entitlement server. You can use subscription-manager to register.

Error: There are no enabled repositories in "/etc/yum.repos.d", "/etc/yum/repos.d", "/etc/distro.repos.d".
subprocess exited with status 1
Error: building at STEP "RUN dnf install -y jq libtool gcc-toolset-13": exit status 1`,
		reason: EntitlementMissing,
		inMsg:  []string{"step RUN dnf install -y jq libtool gcc-toolset-13 needed Red Hat content", "etc-pki-entitlement", "not a mistake in the command"},
		inEv:   []string{"There are no enabled repositories"},
	},
	{
		// ot4i/ace-docker#21 (RHEL build host without entitlement), with a RHEL-only package: not found because the
		// repository that ships it is not enabled.
		name: "ot4i/ace-docker#21: not registered with an entitlement server, then no match",
		msg: `STEP 2/2: RUN dnf install -y kernel-devel
Updating Subscription Management repositories.
This system is not registered with an entitlement server. You can use subscription-manager to register.
No match for argument: kernel-devel
Error: Unable to find a match: kernel-devel
subprocess exited with status 1
Error: building at STEP "RUN dnf install -y kernel-devel": exit status 1`,
		reason: EntitlementMissing,
		inEv:   []string{"not registered with an entitlement server", "Unable to find a match: kernel-devel"},
	},
	{
		// containers/buildah#4573 and containers/podman#14350 print only "no stage or image found with that name";
		// c/common libimage/pull.go logs the real pull error at debug level ("Error pulling candidate %s: %v"), and
		// the MCO runs buildah with --log-level=DEBUG.
		name: "containers/podman#14350: COPY --from hides the pull error on a DEBUG line",
		msg: `STEP 2/3: COPY --from=quay.io/acme/tools:1.2 /usr/bin/tool /usr/bin/tool
time="2026-08-20T09:26:00Z" level=debug msg="Trying to pull \"quay.io/acme/tools:1.2\""
time="2026-08-20T09:26:01Z" level=debug msg="Error pulling candidate quay.io/acme/tools:1.2: initializing source docker://quay.io/acme/tools:1.2: reading manifest 1.2 in quay.io/acme/tools: unauthorized: access to the requested resource is not authorized"
Error: COPY --from=quay.io/acme/tools:1.2: no stage or image found with that name`,
		reason: BaseImagePullAuth,
		inMsg:  []string{"quay.io refused the credentials for pulling image quay.io/acme/tools:1.2 (used by COPY --from or FROM)", "openshift-config/pull-secret"},
		inEv:   []string{"no stage or image found", "Error pulling candidate quay.io/acme/tools:1.2"},
	},
	{
		name: "containers/buildah#4573: COPY --from a stage that does not exist",
		msg: `STEP 4/4: COPY --from=biulder /out /opt
Error: COPY --from=biulder: no stage or image found with that name`,
		reason: ContainerfileSyntax,
		inMsg:  []string{"COPY --from in spec.containerFile of MachineOSConfig worker names no earlier stage"},
	},
	{
		// knative/client#1308: buildah in a pod, FROM alpine:3.
		name: "knative/client#1308: short-name resolution enforced but cannot prompt without a TTY",
		msg: `STEP 1/2: FROM alpine:3
Error: creating build container: short-name resolution enforced but cannot prompt without a TTY`,
		reason: ImageShortName,
		inMsg:  []string{"has no registry host", "registry.access.redhat.com/ubi9/ubi:latest"},
	},
	{
		// kata-containers/tests#3832 and docker/hub-feedback#2429: Docker Hub's anonymous pull limit, here through
		// c/image's manifest read of the base image.
		name: "kata-containers/tests#3832: toomanyrequests: You have reached your pull rate limit",
		msg: `STEP 1/2: FROM docker.io/library/fedora:40
Error: creating build container: unable to copy from source docker://docker.io/library/fedora:40: initializing source docker://docker.io/library/fedora:40: reading manifest 40 in docker.io/library/fedora: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit`,
		reason: RegistryRateLimited,
		inMsg:  []string{"docker.io throttled the build", "rebuild"},
		inEv:   []string{"toomanyrequests"},
	},
}

func TestDiagnoseBuildRealWorldShapes(t *testing.T) {
	for _, tc := range append(realWorldCases, publicReportBuildCases...) {
		t.Run(tc.name, func(t *testing.T) {
			s := failedSnapshot(tc.msg, layoutInit)
			d := DiagnoseBuild(s)
			checkDiag(t, d, tc.reason, tc.inMsg, tc.inEv, tc.notInEv)
			if NeedsLog(s) != tc.needsLog {
				t.Errorf("NeedsLog = %v", !tc.needsLog)
			}
			if d.Severity != SeverityError {
				t.Errorf("severity %s", d.Severity)
			}
			// The same text read from the pod log (the termination message keeps only its last 2 KiB).
			s = failedSnapshot("subprocess exited with status 1", layoutInit)
			s.Log = logPreamble + tc.msg
			checkDiag(t, DiagnoseBuild(s), tc.reason, nil, tc.inEv, nil)
		})
	}
}

// A pod-less failure: MCO 5.0+ fails the MachineOSBuild before creating a Job when the rendered Containerfile does
// not validate (openshift/machine-config-operator pkg/controller/build reconciler startBuild: "has an invalid
// Containerfile; marking as failed", status replaced by the generic Failed conditions, no status.builder).
func TestDiagnoseBuildFailedBeforeJob(t *testing.T) {
	podless := func(containerfile string) BuildSnapshot {
		b := newMOSB(mosbConds(false, false, true, false, t0), time.Time{})
		b.Status.Builder = nil
		mosc := newMOSC()
		mosc.Spec.Containerfile = []mcfgv1.MachineOSContainerfile{{ContainerfileArch: mcfgv1.NoArch, Content: containerfile}}
		return BuildSnapshot{Build: b, Config: mosc, Now: t0, Events: []Event{
			{Kind: "MachineOSBuild", Name: mosbName, Type: "Warning", Reason: "BuildFailed", Message: `Build failed; see MachineOSBuild "` + mosbName + `" status conditions for details`, Time: t0},
			{Kind: "MachineOSBuild", Name: mosbName, Type: "Normal", Reason: "BuildStarted", Message: "Started build", Time: t0.Add(-time.Second)},
			{Kind: "MachineOSBuild", Name: "other", Type: "Warning", Reason: "BuildFailed", Message: "not ours", Time: t0},
		}}
	}
	s := podless("FROM configs AS final\nRUNN dnf install -y tmux\n")
	d := DiagnoseBuild(s)
	checkDiag(t, d, ContainerfileSyntax, []string{"failed before any build Job was created", "MachineOSConfig worker does not parse", "RUNN"},
		[]string{"spec.containerFile[0].content", "Event BuildFailed on MachineOSBuild " + mosbName}, []string{"not ours", "BuildStarted"})
	if strings.Contains(d.Message, "oc logs") || NeedsLog(s) {
		t.Errorf("points at a log that does not exist: %s", d.Message)
	}

	s = podless("FROM configs AS final\nRUN dnf install -y tmux\n")
	d = DiagnoseBuild(s)
	checkDiag(t, d, FailedBeforeJob, []string{"no Job build-" + mosbName, "deployment/machine-os-builder"}, []string{"Failed=True Failed: Build Failed", "Event BuildFailed"}, nil)
	if strings.Contains(d.Message, "job/") {
		t.Errorf("points at the Job that does not exist: %s", d.Message)
	}

	s.Config = nil
	checkDiag(t, DiagnoseBuild(s), FailedBeforeJob, []string{"MachineOSConfig worker is gone"}, nil, nil)
	s.Config = newMOSC()

	// The MCO's ConfigReconcileFailed Event carries a cause (ocl_events.go "Failed to reconcile MachineOSConfig
	// spec change: %v"): it is read before anything else.
	s.Events = append(s.Events, Event{Kind: "MachineOSConfig", Name: "worker", Type: "Warning", Reason: "ConfigReconcileFailed",
		Message: "Failed to reconcile MachineOSConfig spec change: Containerfile validation failed: unknown Dockerfile instruction: RUNN", Time: t0})
	checkDiag(t, DiagnoseBuild(s), ContainerfileSyntax, []string{"the Containerfile does not parse"}, []string{"unknown Dockerfile instruction: RUNN"}, nil)
}

// A Failed condition whose message is not the generic "Build Failed" (MCO PRs #6431/#6463) is evidence before the
// pod log.
func TestDiagnoseBuildFailedConditionCause(t *testing.T) {
	s := failedSnapshot("subprocess exited with status 1\nError: building at STEP \"RUN x\": exit status 1", layoutInit)
	for i := range s.Build.Status.Conditions {
		if s.Build.Status.Conditions[i].Type == "Failed" {
			s.Build.Status.Conditions[i].Message = `Failed to push image: writing blob: initiating layer upload to /v2/ocl/os-image/blobs/uploads/ in registry.example.com: unauthorized: authentication required`
		}
	}
	checkDiag(t, DiagnoseBuild(s), PushAuth, []string{"refused the push credentials"}, []string{"initiating layer upload"}, nil)
	if NeedsLog(s) {
		t.Error("NeedsLog with a cause in the condition")
	}
}

func TestDiagnoseBuildPodKilled(t *testing.T) {
	evicted := failedBuildPod("build-"+mosbName+"-ev", t0.Add(-5*time.Minute), layoutInit, "Copying blob sha256:7e49dc6156b0\nCopying blob sha256:1111")
	// kubernetes pkg/kubelet/eviction/helpers.go: nodeLowMessageFmt "The node was low on resource: %v. " plus the
	// container's usage.
	evicted.Status.Reason = "Evicted"
	evicted.Status.Message = "The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 8Gi. Container image-build was using 40Gi, request is 0, has larger consumption of ephemeral-storage."
	evicted.Spec.NodeName = "worker-2"

	oom := failedBuildPod("build-"+mosbName+"-oom", t0.Add(-5*time.Minute), layoutInit, "Installing: kernel-devel\nRunning scriptlet")
	oom.Status.InitContainerStatuses[0].State.Terminated.Reason = "OOMKilled"
	oom.Status.InitContainerStatuses[0].State.Terminated.ExitCode = 137

	for _, tc := range []struct {
		name   string
		pod    corev1.Pod
		reason Reason
		inMsg  []string
		inEv   []string
	}{
		{"evicted for ephemeral-storage", evicted, BuildPodEvicted, []string{"evicted build pod", "node worker-2", "ephemeral-storage"}, []string{"Evicted: The node was low on resource"}},
		{"image-build OOMKilled", oom, BuildOOMKilled, []string{"container image-build", "ran out of memory"}, []string{"OOMKilled (exit code 137)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := failedSnapshot("", layoutInit)
			s.Pods = append(s.Pods, tc.pod)
			d := DiagnoseBuild(s)
			checkDiag(t, d, tc.reason, tc.inMsg, tc.inEv, []string{"Copying blob", "Installing:"})
			if d.Severity != SeverityError || NeedsLog(s) {
				t.Errorf("severity %s, NeedsLog %v", d.Severity, NeedsLog(s))
			}

			// While the Job retries: a Warning, gone once a newer pod runs.
			s.Build = newMOSB(mosbConds(true, false, false, false, t0.Add(-10*time.Minute)), t0.Add(-10*time.Minute))
			s.Job = runningJob()
			s.Pods = []corev1.Pod{tc.pod}
			d = DiagnoseBuild(s)
			checkDiag(t, d, tc.reason, []string{"the Job retries up to 4 attempts"}, nil, nil)
			if d.Severity != SeverityWarning {
				t.Errorf("severity %s", d.Severity)
			}
			next := buildPod("build-"+mosbName+"-next", t0.Add(-time.Minute), corev1.PodPending)
			next.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "image-build", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(t0)}}}}
			s.Pods = append(s.Pods, next)
			if d := DiagnoseBuild(s); !d.Healthy() {
				t.Errorf("after a new pod runs: %+v", d)
			}
		})
	}
}

func TestClassifyNewShapes(t *testing.T) {
	for _, tc := range []struct {
		line string
		want class
	}{
		{`Error: There are no enabled repositories in "/etc/yum.repos.d", "/etc/yum/repos.d", "/etc/distro.repos.d".`, clsEntitlement},
		{`There are no enabled repos.`, clsEntitlement},
		{`Error: creating build container: short-name resolution enforced but cannot prompt without a TTY`, clsShortName},
		{`Error: short-name "ubi9" did not resolve to an alias and no unqualified-search registries are defined in "/etc/containers/registries.conf"`, clsShortName},
		{`toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit`, clsRateLimit},
		// subscription-manager says this on successful runs too (devfile/developer-images#249): no class of its own.
		{`This system is not registered with an entitlement server. You can use subscription-manager to register.`, clsNone},
	} {
		if got := classifyLine(tc.line, dirNone); got != tc.want {
			t.Errorf("%q: class %d, want %d", tc.line, got, tc.want)
		}
	}
	// A successful unentitled dnf run followed by a plain RUN failure stays a RUN failure.
	r := scanLog("STEP 2/2: RUN dnf clean all && false\nThis system is not registered with an entitlement server.\n25 files removed\nsubprocess exited with status 1\nError: building at STEP \"RUN dnf clean all && false\": exit status 1")
	if r.cls != clsRunStep {
		t.Errorf("class %d, want RUN step", r.cls)
	}
}

// "Grep a reason, find its rule": every reason is a row of a table, every node cause a rollout rule, and every
// reason has one severity wherever it stands.
func TestEveryReasonHasARule(t *testing.T) {
	ruled := map[Reason]Severity{}
	note := func(r Reason, sev Severity, table string) {
		if r == "" {
			return
		}
		if prev, ok := ruled[r]; ok && sev != "" && prev != "" && prev != sev {
			t.Errorf("%s: reason %s is %s here and %s elsewhere", table, r, sev, prev)
		}
		if ruled[r] == "" {
			ruled[r] = sev
		}
	}
	for _, r := range buildChain.rules {
		note(r.Reason, r.Severity, "buildChain")
	}
	for _, c := range causeTable {
		note(c.reason, c.severity, "causeTable")
		if c.scope == scopeBuild && c.reason != "" && (c.severity == "" || c.message == nil || c.rank == 0) {
			t.Errorf("build cause %s has no severity, message or rank", c.reason)
		}
	}
	for _, r := range poolChain.rules {
		note(r.Reason, r.Severity, "poolChain")
	}
	for _, r := range nodeCauseReasons() {
		if poolChain.rankOf(r) == len(poolChain.rules) {
			t.Errorf("node cause %s has no rollout rule", r)
		}
	}
	for _, r := range Reasons() {
		if _, ok := ruled[r]; !ok {
			t.Errorf("reason %s has no rule", r)
		}
		if DefaultSeverity(r) == "" {
			t.Errorf("reason %s has no severity", r)
		}
	}
	for r, want := range map[Reason]Severity{Interrupted: SeverityInfo, RolloutPaused: SeverityInfo, PoolPaused: SeverityInfo,
		BuildStuck: SeverityWarning, BuildPendingTooLong: SeverityWarning, RolloutStalled: SeverityWarning, RolloutNotStarted: SeverityWarning,
		NodeRebootStuck: SeverityWarning, PushAuth: SeverityError, NodeDegraded: SeverityError, ConfigCheckFailed: SeverityError, "": ""} {
		if got := DefaultSeverity(r); got != want {
			t.Errorf("DefaultSeverity(%q) = %q, want %q", r, got, want)
		}
	}
}

// A cache lists nodes in no fixed order; the diagnosis must not change with it, or the checker would rewrite the
// pool's annotations on every reconcile.
func TestDiagnosePoolIndependentOfNodeOrder(t *testing.T) {
	s := pool1000()
	want, _ := DiagnosePool(s)
	reversed := make([]NodeInfo, len(s.Nodes))
	for i, n := range s.Nodes {
		reversed[len(s.Nodes)-1-i] = n
	}
	s.Nodes = reversed
	if got, _ := DiagnosePool(s); got != want {
		t.Errorf("node order changed the diagnosis:\n%+v\n%+v", got, want)
	}
}

// docker/hub-feedback#2429: the kubelet's pull of a build image throttled by Docker Hub.
func TestBuilderImagePullRateLimited(t *testing.T) {
	p := buildPod("build-"+mosbName+"-pull", t0.Add(-3*time.Minute), corev1.PodPending)
	p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "image-build", Image: "docker.io/acme/builder:1", State: corev1.ContainerState{
		Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: `rpc error: code = Unknown desc = reading manifest 1 in docker.io/acme/builder: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit`}}}}
	s := BuildSnapshot{Build: newMOSB(mosbConds(true, false, false, false, t0.Add(-3*time.Minute)), t0.Add(-3*time.Minute)), Job: runningJob(), Pods: []corev1.Pod{p}, Now: t0}
	checkDiag(t, DiagnoseBuild(s), BuilderImagePull, []string{"ErrImagePull, rate limited", "docker.io"}, []string{"toomanyrequests"}, nil)
}

func TestNeedsEvents(t *testing.T) {
	if !NeedsEvents(failedSnapshot("x", layoutInit)) {
		t.Error("a failed build needs its Events")
	}
	running := BuildSnapshot{Build: newMOSB(mosbConds(true, false, false, false, t0), t0), Job: runningJob(), Now: t0}
	if NeedsEvents(running) || NeedsEvents(BuildSnapshot{}) {
		t.Error("a running build's Events are never read")
	}
}

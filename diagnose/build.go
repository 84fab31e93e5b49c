package diagnose

import (
	"fmt"
	"strings"
	"time"

	"github.com/ocl-guard/ocl-guard/mco"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// BuildLimits are the thresholds of the build rules.
type BuildLimits struct {
	// StuckAfter: a build Building for longer is BuildStuck (the MCO sets no deadline on build Jobs).
	StuckAfter time.Duration
	// PendingAfter: a build pod Pending (or a Job without pod) for longer is BuildPendingTooLong.
	PendingAfter time.Duration
}

// DefaultBuildLimits returns StuckAfter 2h, PendingAfter 15m.
func DefaultBuildLimits() BuildLimits {
	return BuildLimits{StuckAfter: 2 * time.Hour, PendingAfter: 15 * time.Minute}
}

func (l BuildLimits) withDefaults() BuildLimits {
	d := DefaultBuildLimits()
	return BuildLimits{StuckAfter: limitOr(l.StuckAfter, d.StuckAfter), PendingAfter: limitOr(l.PendingAfter, d.PendingAfter)}
}

// limitOr is a limit as set, or its default when unset (zero) or meaningless (negative).
func limitOr(limit, fallback time.Duration) time.Duration {
	if limit <= 0 {
		return fallback
	}
	return limit
}

// BuildSnapshot is everything DiagnoseBuild looks at.
type BuildSnapshot struct {
	Build *mcfgv1.MachineOSBuild
	// Config is the build's MachineOSConfig, optional: when set, messages name its secrets, and a build that failed
	// before any Job existed has its Containerfile re-checked.
	Config *mcfgv1.MachineOSConfig
	// Job is the build Job (mco.BuildJobName), nil if not found.
	Job *batchv1.Job
	// Pods are the pods of the build Job, in any order.
	Pods []corev1.Pod
	// Events are the Events about the build and its MachineOSConfig, in any order. Only the MCO's own Warning Events
	// (5.0+: BuildFailed, JobFailed, ConfigReconcileFailed, ...) are read, as evidence before the pod log, and only
	// when NeedsEvents says so.
	Events []Event
	// Log is a bounded tail of the image-build container's log of the latest failed (or running) pod. The checker
	// reads it only when NeedsLog says so; it may be empty.
	Log string
	// Now is the time of the snapshot.
	Now    time.Time
	Limits BuildLimits
}

// buildView is what the build rules read: the snapshot with its phase, names and newest-first pods worked out once.
type buildView struct {
	s      BuildSnapshot
	lim    BuildLimits
	phase  mco.BuildPhase
	since  time.Time // start of a Pending or Building phase
	mosc   string
	job    string
	pods   []*corev1.Pod // newest first
	subjID string        // "MachineOSBuild <name>"
}

func newBuildView(s BuildSnapshot) *buildView {
	b := s.Build
	v := &buildView{s: s, lim: s.Limits.withDefaults(), mosc: b.Spec.MachineOSConfig.Name, subjID: "MachineOSBuild " + b.Name}
	v.phase, v.since = mco.PhaseOf(b, s.Job)
	v.job = mco.BuildJobName(b)
	if !mco.JobRecorded(b) && s.Job != nil && s.Job.Name != "" {
		v.job = s.Job.Name
	}
	if v.mosc == "" && s.Config != nil {
		v.mosc = s.Config.Name
	}
	v.pods = mco.PodsNewestFirst(s.Pods)
	return v
}

// DiagnoseBuild diagnoses one MachineOSBuild: the first rule of buildChain that finds something decides. A succeeded
// build is healthy (Reason "").
func DiagnoseBuild(s BuildSnapshot) Diagnosis {
	return evaluateBuild(s).Diagnosis
}

// NeedsLog reports whether the checker should read the image-build log. It runs the rules without the log: the log
// is needed when the deciding rule says the log could name a more specific cause (a failed build with no cause or
// only a RUN step failure, whose package or repository error may lie above the 2 KiB the kubelet keeps, and a stuck
// build).
func NeedsLog(s BuildSnapshot) bool {
	s.Log = ""
	return evaluateBuild(s).wantsLog
}

func (v *buildView) logCmd() string {
	return fmt.Sprintf("oc logs -n %s job/%s -c %s", mco.Namespace, v.job, mco.ImageBuildContainer)
}

func (v *buildView) moscRef() string {
	if v.mosc == "" {
		return "the MachineOSConfig"
	}
	return "MachineOSConfig " + v.mosc
}

func (v *buildView) moscOrPlaceholder() string {
	if v.mosc == "" {
		return "<pool>"
	}
	return v.mosc
}

func (v *buildView) pushSecret() string {
	if c := v.s.Config; c != nil && c.Spec.RenderedImagePushSecret.Name != "" {
		return mco.Namespace + "/" + c.Spec.RenderedImagePushSecret.Name
	}
	return "spec.renderedImagePushSecret"
}

func (v *buildView) baseSecret() string {
	c := v.s.Config
	if c != nil && c.Spec.BaseImagePullSecret != nil && c.Spec.BaseImagePullSecret.Name != "" {
		return mco.Namespace + "/" + c.Spec.BaseImagePullSecret.Name
	}
	if c != nil {
		return "openshift-config/pull-secret (copied to global-pull-secret-copy; spec.baseImagePullSecret is unset)"
	}
	return "spec.baseImagePullSecret (or openshift-config/pull-secret when unset)"
}

func jobAttempts(job *batchv1.Job) int32 {
	if job != nil && job.Spec.BackoffLimit != nil {
		return *job.Spec.BackoffLimit + 1
	}
	return 4
}

func conditionText(reason, msg string) string {
	switch {
	case reason == "":
		return msg
	case msg == "":
		return reason
	}
	return reason + ": " + msg
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// podStarted reports whether any container of the pod has run.
func podStarted(p *corev1.Pod) bool {
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range list {
			if cs.State.Running != nil || cs.State.Terminated != nil || cs.LastTerminationState.Terminated != nil {
				return true
			}
		}
	}
	return false
}

func specImage(p *corev1.Pod, name string) string {
	for _, list := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for _, ct := range list {
			if ct.Name == name {
				return ct.Image
			}
		}
	}
	return ""
}

// terminatedContainer is a failed container of a build pod.
type terminatedContainer struct {
	pod  *corev1.Pod
	name string
	t    *corev1.ContainerStateTerminated
}

// failedContainer returns the newest failed image-build container, else any other failed container.
func (v *buildView) failedContainer() (terminatedContainer, bool) {
	var other terminatedContainer
	for _, p := range v.pods {
		for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
			for i := range list {
				cs := &list[i]
				t := cs.State.Terminated
				if t == nil || t.ExitCode == 0 {
					t = cs.LastTerminationState.Terminated
				}
				if t == nil || t.ExitCode == 0 {
					continue
				}
				if cs.Name == mco.ImageBuildContainer {
					return terminatedContainer{p, cs.Name, t}, true
				}
				if other.t == nil {
					other = terminatedContainer{p, cs.Name, t}
				}
			}
		}
	}
	return other, other.t != nil
}

// attemptResult classifies the termination message of the newest failed container.
func (v *buildView) attemptResult() scanResult {
	tc, ok := v.failedContainer()
	if !ok || tc.t.Message == "" {
		return scanResult{}
	}
	return scanLog(tc.t.Message)
}

// repoOf strips the tag from a push spec.
func repoOf(spec string) string {
	slash := strings.LastIndexByte(spec, '/')
	if i := strings.LastIndexByte(spec, ':'); i > slash {
		return spec[:i]
	}
	return spec
}

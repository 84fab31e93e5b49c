package mco

import (
	"slices"
	"strings"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BuildPhase is where a MachineOSBuild is in its life, read from its conditions.
type BuildPhase uint8

const (
	PhasePending     BuildPhase = iota // Prepared, or no condition yet
	PhaseBuilding                      // Building=True
	PhaseSucceeded                     // Succeeded=True
	PhaseFailed                        // Failed=True, or its Job failed before the MCO noticed
	PhaseInterrupted                   // Interrupted=True
)

// Terminal reports whether the MCO will not change the build any more (its conditions are then immutable).
func (p BuildPhase) Terminal() bool {
	return p == PhaseSucceeded || p == PhaseFailed || p == PhaseInterrupted
}

func (p BuildPhase) String() string {
	return [...]string{"Pending", "Building", "Succeeded", "Failed", "Interrupted"}[p]
}

// PhaseOf reads a build's phase from its conditions, terminal ones first, as the MCO's own
// MachineOSBuildState does (pkg/controller/common/layered_node_state.go, pkg/apihelpers). job, when not nil, is the
// build's Job: a Job that completed or failed decides a build the MCO has not updated yet. since is when a Pending or
// Building phase started (zero for terminal phases).
func PhaseOf(b *mcfgv1.MachineOSBuild, job *batchv1.Job) (phase BuildPhase, since time.Time) {
	conds := b.Status.Conditions
	switch {
	case ConditionTrue(conds, mcfgv1.MachineOSBuildSucceeded) != nil:
		return PhaseSucceeded, time.Time{}
	case ConditionTrue(conds, mcfgv1.MachineOSBuildInterrupted) != nil:
		return PhaseInterrupted, time.Time{}
	case ConditionTrue(conds, mcfgv1.MachineOSBuildFailed) != nil, JobCondition(job, batchv1.JobFailed) != nil:
		return PhaseFailed, time.Time{}
	case JobCondition(job, batchv1.JobComplete) != nil:
		return PhaseSucceeded, time.Time{}
	}
	if c := ConditionTrue(conds, mcfgv1.MachineOSBuilding); c != nil {
		since = c.LastTransitionTime.Time
		if b.Status.BuildStart != nil && !b.Status.BuildStart.IsZero() {
			since = b.Status.BuildStart.Time
		}
		if since.IsZero() {
			since = b.CreationTimestamp.Time
		}
		return PhaseBuilding, since
	}
	since = b.CreationTimestamp.Time
	if c := ConditionTrue(conds, mcfgv1.MachineOSBuildPrepared); c != nil && !c.LastTransitionTime.IsZero() {
		since = c.LastTransitionTime.Time
	}
	return PhasePending, since
}

// jobPrefix is how the MCO names a build's Job: "build-" + the MachineOSBuild's name
// (pkg/controller/build/utils GetBuildJobName).
const jobPrefix = "build-"

// BuildJobName is the name of a build's Job: status.builder.job once the MCO has recorded it, else the name the
// MCO gives build Jobs.
func BuildJobName(b *mcfgv1.MachineOSBuild) string {
	if JobRecorded(b) {
		return b.Status.Builder.Job.Name
	}
	return jobPrefix + b.Name
}

// buildHashLength: the MCO names a MachineOSBuild "<MachineOSConfig>-<32 hex characters>", a hash of what it builds
// (pkg/controller/build/buildrequest/machineosbuild.go).
const buildHashLength = 32

// JobNameLength is the length of the name of every build Job the MCO creates for the MachineOSConfig named config.
// The Job controller copies that name into the pods' job-name label, whose value holds at most 63 characters
// (validation.LabelValueMaxLength).
func JobNameLength(config string) int { return len(jobPrefix) + len(config) + 1 + buildHashLength }

// JobNameShape shows the Job name the MCO gives builds of config, for messages.
func JobNameShape(config string) string { return jobPrefix + config + "-<32 hex>" }

// BuildNameOfJob is the MachineOSBuild a build Job (or a pod's job-name label) belongs to; ok is false for Jobs
// the MCO did not name after a build.
func BuildNameOfJob(job string) (build string, ok bool) {
	build, ok = strings.CutPrefix(job, jobPrefix)
	return build, ok && build != ""
}

// JobRecorded reports whether the MCO recorded a Job for the build (status.builder.job).
func JobRecorded(b *mcfgv1.MachineOSBuild) bool {
	r := b.Status.Builder
	return r != nil && r.Job != nil && r.Job.Name != ""
}

// CurrentBuildName names a MachineOSConfig's current build, the one the MCO follows: the annotation it sets when a
// build starts, else (a config the MCO has not annotated, e.g. seeded at install time) the last successful build of
// its status (pkg/controller/node/node_controller.go reads the annotation first in the same way). The status lags
// behind during a rebuild or after a failed one: it names the image the nodes should run, not the build underway.
func CurrentBuildName(config *mcfgv1.MachineOSConfig) string {
	if name := config.Annotations[AnnotationCurrentBuild]; name != "" {
		return name
	}
	if b := config.Status.MachineOSBuild; b != nil {
		return b.Name
	}
	return ""
}

// PodsNewestFirst orders a build's pods newest first: the Job replaces a failed pod with a new one, and the newest
// is the attempt that counts. Within one second (the timestamps' resolution) a finished pod is older than its
// replacement; names break the remaining ties so that every reader picks the same pod.
func PodsNewestFirst(pods []corev1.Pod) []*corev1.Pod {
	out := make([]*corev1.Pod, len(pods))
	for i := range pods {
		out[i] = &pods[i]
	}
	slices.SortStableFunc(out, func(a, b *corev1.Pod) int {
		if c := b.CreationTimestamp.Compare(a.CreationTimestamp.Time); c != 0 {
			return c
		}
		if fa, fb := PodFinished(a), PodFinished(b); fa != fb {
			if fa {
				return 1
			}
			return -1
		}
		return strings.Compare(b.Name, a.Name)
	})
	return out
}

// NewestPod is the first of PodsNewestFirst, nil when there is none.
func NewestPod(pods []corev1.Pod) *corev1.Pod {
	if len(pods) == 0 {
		return nil
	}
	return PodsNewestFirst(pods)[0]
}

// PodFinished reports whether a pod has ended.
func PodFinished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// ConditionTrue returns the build condition of type t when it is True, else nil.
func ConditionTrue(conds []metav1.Condition, t mcfgv1.BuildProgress) *metav1.Condition {
	c := apimeta.FindStatusCondition(conds, string(t))
	if c != nil && c.Status == metav1.ConditionTrue {
		return c
	}
	return nil
}

// PoolCondition returns the pool's condition of type t when it is True, else nil: the MCO's statements about a pool
// (Updated, Updating, NodeDegraded, ImageBuildDegraded...), read as the MCO reads them (pkg/apihelpers/apihelpers.go
// IsMachineConfigPoolConditionTrue).
func PoolCondition(pool *mcfgv1.MachineConfigPool, t mcfgv1.MachineConfigPoolConditionType) *mcfgv1.MachineConfigPoolCondition {
	for i := range pool.Status.Conditions {
		if c := &pool.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// JobCondition returns the Job's condition of type t when it is True, else nil.
func JobCondition(job *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	if job == nil {
		return nil
	}
	for i := range job.Status.Conditions {
		if c := &job.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

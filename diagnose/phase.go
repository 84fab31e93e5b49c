package diagnose

import (
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

// PhaseOf reads a build's phase from its conditions (terminal ones first). job, when not nil, is the build's Job:
// a Job that completed or failed decides a build the MCO has not updated yet. since is when a Pending or Building
// phase started (zero for terminal phases).
func PhaseOf(b *mcfgv1.MachineOSBuild, job *batchv1.Job) (phase BuildPhase, since time.Time) {
	conds := b.Status.Conditions
	switch {
	case condTrue(conds, mcfgv1.MachineOSBuildSucceeded) != nil:
		return PhaseSucceeded, time.Time{}
	case condTrue(conds, mcfgv1.MachineOSBuildInterrupted) != nil:
		return PhaseInterrupted, time.Time{}
	case condTrue(conds, mcfgv1.MachineOSBuildFailed) != nil, jobCondition(job, batchv1.JobFailed) != nil:
		return PhaseFailed, time.Time{}
	case jobCondition(job, batchv1.JobComplete) != nil:
		return PhaseSucceeded, time.Time{}
	}
	if c := condTrue(conds, mcfgv1.MachineOSBuilding); c != nil {
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
	if c := condTrue(conds, mcfgv1.MachineOSBuildPrepared); c != nil && !c.LastTransitionTime.IsZero() {
		since = c.LastTransitionTime.Time
	}
	return PhasePending, since
}

// jobPrefix is how the MCO names a build's Job: "build-" + the MachineOSBuild's name
// (openshift/machine-config-operator pkg/controller/build/utils GetBuildJobName).
const jobPrefix = "build-"

// BuildJobName is the name of a build's Job: status.builder.job once the MCO has recorded it, else the name the
// MCO gives build Jobs.
func BuildJobName(b *mcfgv1.MachineOSBuild) string {
	if r := b.Status.Builder; r != nil && r.Job != nil && r.Job.Name != "" {
		return r.Job.Name
	}
	return jobPrefix + b.Name
}

// BuildNameOfJob is the MachineOSBuild a build Job (or a pod's job-name label) belongs to; ok is false for Jobs
// the MCO did not name after a build.
func BuildNameOfJob(job string) (build string, ok bool) {
	build, ok = strings.CutPrefix(job, jobPrefix)
	return build, ok && build != ""
}

// jobRecorded reports whether the MCO recorded a Job for the build (status.builder.job).
func jobRecorded(b *mcfgv1.MachineOSBuild) bool {
	r := b.Status.Builder
	return r != nil && r.Job != nil && r.Job.Name != ""
}

func condTrue(conds []metav1.Condition, t mcfgv1.BuildProgress) *metav1.Condition {
	c := apimeta.FindStatusCondition(conds, string(t))
	if c != nil && c.Status == metav1.ConditionTrue {
		return c
	}
	return nil
}

func jobCondition(job *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
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

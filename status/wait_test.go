package status

import (
	"strings"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/mco"
)

// waitPool is the snapshots of pool "worker" (2 nodes) as the MCO leaves them at each step of a rebuild to image,
// after an earlier build put oldImage on every node; each table row edits them.
type waitPool struct {
	mosc  *mcfgv1.MachineOSConfig
	pool  *mcfgv1.MachineConfigPool
	build *mcfgv1.MachineOSBuild
	nodes []diagnose.NodeInfo
}

const waitBuild = "worker-0123456789abcdef0123456789abcdef"

// newWaitPool: the config's generation 2 was observed, its current build succeeded with image, the config points
// at it, and the rollout is over: the happy end of a wait.
func newWaitPool() *waitPool {
	start := metav1.NewTime(now.Add(-20 * time.Minute))
	end := metav1.NewTime(now.Add(-10 * time.Minute))
	p := &waitPool{
		mosc: &mcfgv1.MachineOSConfig{
			ObjectMeta: metav1.ObjectMeta{Name: "worker", Generation: 2, CreationTimestamp: metav1.NewTime(now.Add(-24 * time.Hour)),
				Annotations: map[string]string{mco.AnnotationCurrentBuild: waitBuild}},
			Spec: mcfgv1.MachineOSConfigSpec{MachineConfigPool: mcfgv1.MachineConfigPoolReference{Name: "worker"}},
			Status: mcfgv1.MachineOSConfigStatus{ObservedGeneration: 2, CurrentImagePullSpec: image,
				MachineOSBuild: &mcfgv1.ObjectReference{Name: waitBuild}},
		},
		pool: &mcfgv1.MachineConfigPool{
			ObjectMeta: metav1.ObjectMeta{Name: "worker"},
			Spec:       mcfgv1.MachineConfigPoolSpec{Configuration: mcfgv1.MachineConfigPoolStatusConfiguration{ObjectReference: corev1.ObjectReference{Name: "rendered-worker-2"}}},
			Status: mcfgv1.MachineConfigPoolStatus{MachineCount: 2, UpdatedMachineCount: 2, ReadyMachineCount: 2,
				Conditions: []mcfgv1.MachineConfigPoolCondition{{Type: mcfgv1.MachineConfigPoolUpdated, Status: corev1.ConditionTrue}}},
		},
		build: &mcfgv1.MachineOSBuild{
			ObjectMeta: metav1.ObjectMeta{Name: waitBuild, CreationTimestamp: start},
			Spec: mcfgv1.MachineOSBuildSpec{MachineOSConfig: mcfgv1.MachineOSConfigReference{Name: "worker"},
				MachineConfig: mcfgv1.MachineConfigReference{Name: "rendered-worker-2"}},
			Status: mcfgv1.MachineOSBuildStatus{BuildStart: &start, BuildEnd: &end, DigestedImagePushSpec: image},
		},
	}
	p.setPhase(mcfgv1.MachineOSBuildSucceeded)
	for _, n := range []string{"worker-a", "worker-b"} {
		p.nodes = append(p.nodes, diagnose.NodeInfo{Name: n, Annotations: map[string]string{
			mco.AnnotationDesiredImage: image, mco.AnnotationCurrentImage: image, mco.AnnotationState: mco.StateDone}})
	}
	return p
}

// setPhase gives the build the conditions the MCO sets for a phase (pkg/apihelpers/machineosbuild.go).
func (p *waitPool) setPhase(t mcfgv1.BuildProgress) {
	p.build.Status.Conditions = nil
	for _, c := range []mcfgv1.BuildProgress{mcfgv1.MachineOSBuildPrepared, mcfgv1.MachineOSBuilding, mcfgv1.MachineOSBuildFailed,
		mcfgv1.MachineOSBuildInterrupted, mcfgv1.MachineOSBuildSucceeded} {
		status := metav1.ConditionFalse
		if c == t {
			status = metav1.ConditionTrue
		}
		p.build.Status.Conditions = append(p.build.Status.Conditions, metav1.Condition{Type: string(c), Status: status, Reason: string(c),
			LastTransitionTime: metav1.NewTime(now.Add(-time.Minute))})
	}
	if t != mcfgv1.MachineOSBuildSucceeded {
		p.build.Status.DigestedImagePushSpec = ""
	}
	if t == mcfgv1.MachineOSBuilding || t == mcfgv1.MachineOSBuildPrepared {
		started := metav1.NewTime(now.Add(-time.Minute))
		p.build.Status.BuildStart, p.build.Status.BuildEnd, p.build.CreationTimestamp = &started, nil, started
	}
}

// rolloutAt puts the rollout where `updated` of the 2 nodes run image and the others still run oldImage.
func (p *waitPool) rolloutAt(updated int) {
	p.pool.Status.UpdatedMachineCount = int32(updated)
	p.pool.Status.Conditions = []mcfgv1.MachineConfigPoolCondition{{Type: mcfgv1.MachineConfigPoolUpdating, Status: corev1.ConditionTrue}}
	for i := range p.nodes {
		if i >= updated {
			p.nodes[i].Annotations[mco.AnnotationCurrentImage] = oldImage
			p.nodes[i].Annotations[mco.AnnotationState] = mco.StateWorking
		}
	}
}

func (p *waitPool) snapshots() Snapshots {
	s := Snapshots{
		Config: diagnose.ConfigSnapshot{Config: p.mosc, Pool: p.pool, Now: now},
		Pool:   diagnose.PoolSnapshot{Pool: p.pool, Config: p.mosc, Nodes: p.nodes, Now: now},
	}
	if p.build != nil {
		s.Config.CurrentBuild, s.Pool.LatestBuild = p.build, p.build
		s.Build = &diagnose.BuildSnapshot{Build: p.build, Config: p.mosc, Now: now}
	}
	return s
}

// decideCase is one moment of a rebuild, and what a wait for goal decides on it.
type decideCase struct {
	name string
	goal Goal
	edit func(p *waitPool)
	want Outcome
	// why is part of the verdict's line; reason, for a failure, the diagnosis it stands on.
	why    string
	reason diagnose.Reason
}

// decideCases are TestDecide's table, which TestNextAgreesWithDecide also reads: status's next line must say what
// wait decides on each of them.
func decideCases() []decideCase {
	return []decideCase{
		{"rollout over: every node runs the build's image", GoalRollout, func(*waitPool) {}, Done, "2/2 nodes run " + image, ""},
		{"build succeeded with a digested image", GoalBuild, func(p *waitPool) { p.rolloutAt(0) }, Done, "succeeded: " + image, ""},

		{"right after oc apply: the MCO has not observed the new generation", GoalRollout, func(p *waitPool) { p.mosc.Generation = 3 },
			Waiting, "has not acted on generation 3", ""},
		{"right after oc apply, for a build too", GoalBuild, func(p *waitPool) { p.mosc.Generation = 3 }, Waiting, "observed 2", ""},
		{"right after oc apply on a failed build: the MCO has not started the next one", GoalRollout,
			func(p *waitPool) { p.mosc.Generation = 3; p.setPhase(mcfgv1.MachineOSBuildFailed) }, Waiting, "has not acted on generation 3", ""},
		{"the annotation names a build not created yet", GoalBuild, func(p *waitPool) { p.build = nil }, Waiting, "does not exist yet", ""},
		{"no build ever", GoalRollout, func(p *waitPool) {
			p.build, p.mosc.Annotations, p.mosc.Status.MachineOSBuild, p.mosc.Status.CurrentImagePullSpec = nil, nil, nil, ""
		}, Waiting, "has not started a build", ""},
		{"a MachineConfig changed: the pool renders a config the current build did not build", GoalRollout, func(p *waitPool) {
			p.pool.Spec.Configuration.Name = "rendered-worker-3"
		}, Waiting, "now renders rendered-worker-3", ""},
		{"build pending", GoalBuild, func(p *waitPool) { p.setPhase(mcfgv1.MachineOSBuildPrepared) }, Waiting, "is Pending", ""},
		{"build building", GoalRollout, func(p *waitPool) { p.setPhase(mcfgv1.MachineOSBuilding) }, Waiting, "is Building", ""},
		{"succeeded, digested image not recorded yet", GoalBuild, func(p *waitPool) { p.build.Status.DigestedImagePushSpec = "" },
			Waiting, "has not recorded its digested image", ""},

		{"build failed", GoalBuild, func(p *waitPool) { p.setPhase(mcfgv1.MachineOSBuildFailed) }, Failed, "is Failed", diagnose.FailedBeforeJob},
		{"build failed, waiting for the rollout", GoalRollout, func(p *waitPool) { p.setPhase(mcfgv1.MachineOSBuildFailed) }, Failed, "is Failed", diagnose.FailedBeforeJob},
		{"build interrupted", GoalBuild, func(p *waitPool) { p.setPhase(mcfgv1.MachineOSBuildInterrupted) }, Failed, "is Interrupted", diagnose.Interrupted},

		{"the config still points at the previous image", GoalRollout, func(p *waitPool) { p.mosc.Status.CurrentImagePullSpec = oldImage },
			Waiting, "does not point at", ""},
		{"rollout underway", GoalRollout, func(p *waitPool) { p.rolloutAt(1) }, Waiting, "1/2 nodes updated: node worker-b", ""},
		{"pool status still Updated from the previous rollout, nodes not started", GoalRollout, func(p *waitPool) {
			for i := range p.nodes {
				p.nodes[i].Annotations[mco.AnnotationCurrentImage] = oldImage
			}
		}, Waiting, "0/2 nodes updated: node worker-a does not run", ""},
		{"the node named is the first by name, whatever the order the cache lists them in", GoalRollout, func(p *waitPool) {
			p.nodes[0], p.nodes[1] = p.nodes[1], p.nodes[0]
			for i := range p.nodes {
				p.nodes[i].Annotations[mco.AnnotationCurrentImage] = oldImage
			}
		}, Waiting, "0/2 nodes updated: node worker-a does not run", ""},
		{"nodes run the image, the pool's status lags", GoalRollout, func(p *waitPool) {
			p.pool.Status.Conditions = []mcfgv1.MachineConfigPoolCondition{{Type: mcfgv1.MachineConfigPoolUpdating, Status: corev1.ConditionTrue}}
		}, Waiting, "is not Updated yet", ""},
		{"a node degraded", GoalRollout, func(p *waitPool) {
			p.rolloutAt(1)
			p.nodes[1].Annotations[mco.AnnotationState] = mco.StateDegraded
			p.nodes[1].Annotations[mco.AnnotationReason] = "failed to update OS to " + image + ": error running rpm-ostree rebase: reading manifest: unauthorized: authentication required"
		}, Failed, "the rollout of " + image + " to pool worker failed", diagnose.NodeImagePullAuth},
		{"a degraded node does not fail a wait for the build", GoalBuild, func(p *waitPool) {
			p.nodes[1].Annotations[mco.AnnotationState] = mco.StateDegraded
		}, Done, "succeeded", ""},
	}
}

func TestDecide(t *testing.T) {
	for _, tc := range decideCases() {
		t.Run(tc.name, func(t *testing.T) {
			p := newWaitPool()
			tc.edit(p)
			s := p.snapshots()
			v := Decide(s, tc.goal, mco.CurrentBuildName(s.Config.Config)) // the current build has not changed since the wait began
			if v.Outcome != tc.want || !strings.Contains(v.Why, tc.why) {
				t.Fatalf("%s: %q, want %s containing %q", v.Outcome, v.Why, tc.want, tc.why)
			}
			switch {
			case tc.reason == "" && v.Diagnosis != nil:
				t.Errorf("diagnosis %+v on a verdict %s", *v.Diagnosis, v.Outcome)
			case tc.reason != "" && (v.Diagnosis == nil || v.Diagnosis.Reason != tc.reason):
				t.Errorf("diagnosis %+v, want %s", v.Diagnosis, tc.reason)
			case tc.reason != "" && !strings.Contains(v.Why, v.Diagnosis.Message):
				t.Errorf("the failure %q does not say the diagnosis %q", v.Why, v.Diagnosis.Message)
			}
		})
	}
}

func TestParseGoal(t *testing.T) {
	for in, want := range map[string]Goal{"build": GoalBuild, "rollout": GoalRollout} {
		if g, err := ParseGoal(in); err != nil || g != want {
			t.Errorf("%s: %v %v", in, g, err)
		}
	}
	if _, err := ParseGoal("nodes"); err == nil || !strings.Contains(err.Error(), "--for \"nodes\": use build or rollout") {
		t.Errorf("--for nodes: %v", err)
	}
}

// MCOs before the observedGeneration-on-build-start change set status.observedGeneration only with
// currentImagePullSpec, after a success; they still name the new build in the current-machine-os-build annotation
// when it starts. A wait that began on another build follows the new one.
func TestDecideWhenTheMCOObservesOnlyOnSuccess(t *testing.T) {
	for _, tc := range []struct {
		name  string
		phase mcfgv1.BuildProgress
		want  Outcome
		why   string
	}{
		{"the new build runs", mcfgv1.MachineOSBuilding, Waiting, "is Building"},
		{"the new build failed", mcfgv1.MachineOSBuildFailed, Failed, "is Failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newWaitPool()
			p.mosc.Generation = 3 // observed 2: this MCO would catch up only on a success
			p.setPhase(tc.phase)
			v := Decide(p.snapshots(), GoalRollout, "worker-previous")
			if v.Outcome != tc.want || !strings.Contains(v.Why, tc.why) {
				t.Fatalf("%s: %q, want %s containing %q", v.Outcome, v.Why, tc.want, tc.why)
			}
		})
	}
}

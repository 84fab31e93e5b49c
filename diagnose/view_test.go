package diagnose

import (
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestBuildPhase(t *testing.T) {
	started := time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		cond  mcfgv1.BuildProgress
		want  string
		since bool
	}{
		{mcfgv1.MachineOSBuildPrepared, PhasePending, true},
		{mcfgv1.MachineOSBuilding, PhaseBuilding, true},
		{mcfgv1.MachineOSBuildSucceeded, PhaseSucceeded, false},
		{mcfgv1.MachineOSBuildFailed, PhaseFailed, false},
		{mcfgv1.MachineOSBuildInterrupted, PhaseInterrupted, false},
	} {
		b := &mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(started)}, Status: mcfgv1.MachineOSBuildStatus{
			Conditions: []metav1.Condition{{Type: string(tc.cond), Status: metav1.ConditionTrue, LastTransitionTime: metav1.NewTime(started)}}}}
		got, since := BuildPhase(BuildSnapshot{Build: b})
		if got != tc.want || since.IsZero() == tc.since {
			t.Errorf("%s: phase %q since %v, want %q (since set: %v)", tc.cond, got, since, tc.want, tc.since)
		}
	}
	if got, _ := BuildPhase(BuildSnapshot{}); got != "" {
		t.Errorf("no build: %q", got)
	}
}

func TestNodeProblems(t *testing.T) {
	image := "quay.io/acme/os@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	node := func(name, state, reason string) NodeInfo {
		return NodeInfo{Name: name, Annotations: map[string]string{AnnotationDesiredImage: image, AnnotationState: state, AnnotationReason: reason}}
	}
	// The daemon's wording, as in pool_test.go's fixtures.
	auth := "failed to update OS to " + image + " after retries: error running rpm-ostree rebase: reading manifest sha256:0123 in quay.io/acme/os: unauthorized: access to the requested resource is not authorized"
	s := PoolSnapshot{
		Pool:   &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: "worker"}},
		Config: &mcfgv1.MachineOSConfig{Status: mcfgv1.MachineOSConfigStatus{CurrentImagePullSpec: mcfgv1.ImageDigestFormat(image)}},
		Nodes: []NodeInfo{
			node("w-2", StateDegraded, auth), node("w-1", StateDegraded, auth), node("w-3", StateDone, ""),
			node("w-4", StateUnreconcilable, "unexpected on-disk state validating against rendered-worker-abc: content mismatch for file \"/etc/chrony.conf\""),
		},
	}
	got := NodeProblems(s)
	if len(got) != 2 || got[0].Reason != NodeImagePullAuth || len(got[0].Nodes) != 2 || got[0].Nodes[0] != "w-1" || got[1].Reason != NodeDegraded || got[1].Nodes[0] != "w-4" {
		t.Fatalf("NodeProblems = %+v", got)
	}
	if NodeProblems(PoolSnapshot{}) != nil {
		t.Error("no pool: no problems")
	}
}

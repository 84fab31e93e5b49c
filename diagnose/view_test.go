package diagnose

import (
	"testing"

	"github.com/ocl-guard/ocl-guard/mco"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNodeProblems(t *testing.T) {
	image := "quay.io/acme/os@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	node := func(name, state, reason string) NodeInfo {
		return NodeInfo{Name: name, Annotations: map[string]string{mco.AnnotationDesiredImage: image, mco.AnnotationState: state, mco.AnnotationReason: reason}}
	}
	// The daemon's wording, as in pool_test.go's fixtures.
	auth := "failed to update OS to " + image + " after retries: error running rpm-ostree rebase: reading manifest sha256:0123 in quay.io/acme/os: unauthorized: access to the requested resource is not authorized"
	s := PoolSnapshot{
		Pool:   &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: "worker"}},
		Config: &mcfgv1.MachineOSConfig{Status: mcfgv1.MachineOSConfigStatus{CurrentImagePullSpec: mcfgv1.ImageDigestFormat(image)}},
		Nodes: []NodeInfo{
			node("w-2", mco.StateDegraded, auth), node("w-1", mco.StateDegraded, auth), node("w-3", mco.StateDone, ""),
			node("w-4", mco.StateUnreconcilable, "unexpected on-disk state validating against rendered-worker-abc: content mismatch for file \"/etc/chrony.conf\""),
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

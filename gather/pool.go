package gather

import (
	"context"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ocl-guard/ocl-guard/diagnose"
)

// AnnotationProgress is the pool's rollout memory, which the checker writes (diagnose.Progress.Encode), so that a
// restart of the checker, or a one-shot `ocl-guard status`, does not reset the clock of RolloutStalled and
// NodeRebootStuck.
const AnnotationProgress = "ocl-guard.io/progress"

var nodeListGVK = schema.GroupVersionKind{Version: "v1", Kind: "NodeList"}

// GatherPool reads what diagnose.DiagnosePool looks at, except the clock: the pool's MachineOSConfig, its current
// build (CurrentBuild), the metadata of its nodes, and the rollout memory the checker left on the pool
// (AnnotationProgress; an unreadable one is logged and read as none).
func GatherPool(ctx context.Context, c client.Reader, pool *mcfgv1.MachineConfigPool) (diagnose.PoolSnapshot, error) {
	s := diagnose.PoolSnapshot{Pool: pool}
	if p, err := diagnose.DecodeProgress(pool.Annotations[AnnotationProgress]); err == nil {
		s.Previous = p
	} else {
		log.FromContext(ctx).Info("ignoring an unreadable progress annotation", "pool", pool.Name, "error", err.Error())
	}
	// A MachineOSConfig must be named after its pool (a CEL rule of the CRD).
	var config mcfgv1.MachineOSConfig
	if err := c.Get(ctx, client.ObjectKey{Name: pool.Name}, &config); err != nil {
		return s, client.IgnoreNotFound(err)
	}
	s.Config = &config
	var err error
	if s.LatestBuild, err = CurrentBuild(ctx, c, &config); err != nil {
		return s, err
	}

	selector, err := metav1.LabelSelectorAsSelector(pool.Spec.NodeSelector)
	if err != nil || pool.Spec.NodeSelector == nil {
		return s, nil // a pool without a usable selector has no nodes
	}
	var nodes metav1.PartialObjectMetadataList
	nodes.SetGroupVersionKind(nodeListGVK)
	// Read-only use, so the cached objects are not copied: a pool of 1,000 nodes would otherwise cost a deep copy
	// of every node's metadata on every reconcile.
	if err := c.List(ctx, &nodes, client.MatchingLabelsSelector{Selector: selector}, client.UnsafeDisableDeepCopy); err != nil {
		return s, err
	}
	for _, n := range nodes.Items {
		s.Nodes = append(s.Nodes, diagnose.NodeInfo{Name: n.Name, Annotations: n.Annotations})
	}
	return s, nil
}

package checker

import (
	"context"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/gather"
	"github.com/ocl-guard/ocl-guard/mco"
)

// PoolReconciler diagnoses the rollout of a layered pool (stage 3) from its nodes' annotations.
type PoolReconciler struct {
	Clients
	Limits diagnose.RolloutLimits
	// Recheck is how often a pool is looked at again while its diagnosis depends on time passing.
	Recheck time.Duration
	Now     func() time.Time
}

func (r *PoolReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var pool mcfgv1.MachineConfigPool
	if found, err := readReconciled(ctx, r.Client, r.Metrics, req, &pool); !found {
		return reconcile.Result{}, err
	}
	snapshot, err := gather.GatherPool(ctx, r.Client, &pool)
	if err != nil {
		return reconcile.Result{}, err
	}
	snapshot.Now, snapshot.Limits = r.Now(), r.Limits
	d, progress := diagnose.DiagnosePool(snapshot)
	changes := PoolAnnotationChanges(pool.Annotations, d, progress, snapshot.Config != nil, snapshot.Now)
	if _, err := r.writer().apply(ctx, &pool, d, changes); err != nil {
		return reconcile.Result{}, err
	}
	if snapshot.Config == nil {
		return reconcile.Result{}, nil
	}
	return reconcile.Result{RequeueAfter: r.Recheck}, nil
}

// SetupWithManager watches pools, their MachineOSConfigs and builds, and the metadata (never the spec or status)
// of nodes.
func (r *PoolReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.recordThrough(mgr)
	node := &metav1.PartialObjectMetadata{}
	node.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "Node"})
	return ctrl.NewControllerManagedBy(mgr).
		Named("machineconfigpool-diagnosis").
		For(&mcfgv1.MachineConfigPool{}).
		Watches(&mcfgv1.MachineOSConfig{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: o.GetName()}}}
		})).
		Watches(&mcfgv1.MachineOSBuild{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			pool := o.GetLabels()[mco.LabelTargetPool]
			if pool == "" {
				return nil
			}
			return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: pool}}}
		})).
		Watches(node, handler.EnqueueRequestsFromMapFunc(r.poolsOfNode)).
		Complete(r)
}

func (r *PoolReconciler) poolsOfNode(ctx context.Context, node client.Object) []reconcile.Request {
	var pools mcfgv1.MachineConfigPoolList
	if err := r.Client.List(ctx, &pools); err != nil {
		return nil
	}
	var requests []reconcile.Request
	for _, p := range pools.Items {
		selector, err := metav1.LabelSelectorAsSelector(p.Spec.NodeSelector)
		if err == nil && p.Spec.NodeSelector != nil && selector.Matches(labels.Set(node.GetLabels())) {
			requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKey{Name: p.Name}})
		}
	}
	return requests
}

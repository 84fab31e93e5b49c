package checker

import (
	"context"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/mco"
)

var nodeListGVK = schema.GroupVersionKind{Version: "v1", Kind: "NodeList"}

// PoolReconciler diagnoses the rollout of a layered pool (stage 3) from its nodes' annotations.
type PoolReconciler struct {
	Client client.Client
	// Recorder records Events; SetupWithManager provides one.
	Recorder events.EventRecorder
	Limits   diagnose.RolloutLimits
	// Metrics receives the diagnoses written; nil records none.
	Metrics *Metrics
	// Recheck is how often a pool is looked at again while its diagnosis depends on time passing.
	Recheck time.Duration
	Now     func() time.Time
}

func (r *PoolReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var pool mcfgv1.MachineConfigPool
	if err := r.Client.Get(ctx, req.NamespacedName, &pool); err != nil {
		if apierrors.IsNotFound(err) {
			r.Metrics.gone(&pool, req.NamespacedName)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	snapshot, err := GatherPool(ctx, r.Client, &pool)
	if err != nil {
		return reconcile.Result{}, err
	}
	snapshot.Now, snapshot.Limits = r.Now(), r.Limits
	if p, err := diagnose.DecodeProgress(pool.Annotations[AnnotationProgress]); err == nil {
		snapshot.Previous = p
	} else {
		log.FromContext(ctx).Info("ignoring an unreadable progress annotation", "error", err.Error())
	}
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

// GatherPool reads what diagnose.DiagnosePool looks at, except the clock and the memory: the pool's
// MachineOSConfig, its current build and the metadata of its nodes.
func GatherPool(ctx context.Context, c client.Reader, pool *mcfgv1.MachineConfigPool) (diagnose.PoolSnapshot, error) {
	s := diagnose.PoolSnapshot{Pool: pool}
	// A MachineOSConfig must be named after its pool (a CEL rule of the CRD).
	var config mcfgv1.MachineOSConfig
	if err := c.Get(ctx, client.ObjectKey{Name: pool.Name}, &config); err != nil {
		return s, client.IgnoreNotFound(err)
	}
	s.Config = &config

	// The build the MCO follows: the one it started last, recorded in an annotation when it starts. The status
	// (machineOSBuild, currentImagePullSpec) names the last successful build, the image the nodes should run, and
	// lags behind during a rebuild or after a failed one.
	if buildName := mco.CurrentBuildName(&config); buildName != "" {
		var build mcfgv1.MachineOSBuild
		if err := c.Get(ctx, client.ObjectKey{Name: buildName}, &build); err == nil {
			s.LatestBuild = &build
		} else if client.IgnoreNotFound(err) != nil {
			return s, err
		}
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

// SetupWithManager watches pools, their MachineOSConfigs and builds, and the metadata (never the spec or status)
// of nodes.
func (r *PoolReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder(eventSource)
	}
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

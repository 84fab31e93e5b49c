package checker

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/gather"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
)

// ConfigReconciler diagnoses MachineOSConfigs: it re-runs the admission rules after admission (a config admitted
// yesterday breaks when its push secret is deleted or rotated today, and GitOps tools such as Argo CD do not show
// admission warnings), and says why the MCO builds nothing ("nothing happens"). It writes only annotations; spec
// and status belong to the user and the MCO.
type ConfigReconciler struct {
	Clients
	// Env is what the admission rules run in (app.RuleEnv: the same as the webhook's).
	Env    validators.Env
	Limits diagnose.ConfigLimits
	// Resync re-checks every config this often, for what no watch sees (a registry that went away).
	Resync time.Duration
	Now    func() time.Time
	// Report, when set, also receives every verdict (the ClusterPolicyReport, policyreport.go).
	Report AuditSink

	// waits holds each config's diagnose.ConfigWait in memory: the clocks restart with the checker, which delays a
	// wait diagnosis by at most the limit and costs no write while the MCO is on time.
	waits sync.Map // name → diagnose.ConfigWait
}

func (r *ConfigReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var config mcfgv1.MachineOSConfig
	if found, err := readReconciled(ctx, r.Client, r.Metrics, req, &config); !found {
		if err == nil { // gone
			r.waits.Delete(req.Name)
			if r.Report != nil {
				return reconcile.Result{}, r.Report.Forget(ctx, req.Name)
			}
		}
		return reconcile.Result{}, err
	}
	s, err := gather.GatherConfig(ctx, r.Client, r.Env, &config)
	if err != nil {
		return reconcile.Result{}, err
	}
	if prev, ok := r.waits.Load(config.Name); ok {
		s.Previous = prev.(diagnose.ConfigWait)
	}
	s.Now, s.Limits = r.Now(), r.Limits
	d := diagnose.DiagnoseConfig(s)
	changes := ConfigAnnotationChanges(config.Annotations, d, s.Now)
	// Remembered before writing: a write that conflicts (another writer, a stale cache) must not restart the clocks.
	r.waits.Store(config.Name, d.Wait)
	if _, err := r.writer().apply(ctx, &config, d.Diagnosis, changes); err != nil {
		return reconcile.Result{}, err
	}
	if r.Report != nil {
		if err := r.Report.Record(ctx, &config, s.Findings); err != nil {
			return reconcile.Result{}, err
		}
	}
	requeue := r.Resync
	if in := d.RecheckIn(s.Now, r.Limits); in > 0 && (requeue <= 0 || in < requeue) {
		requeue = in
	}
	return reconcile.Result{RequeueAfter: requeue}, nil
}

func joinRules(ids []validators.RuleID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	return strings.Join(s, ",")
}

// SetupWithManager watches MachineOSConfigs, the Secrets of the MCO's namespace they name, their pools, the MCO's
// ClusterOperator and its build controller's Deployment.
func (r *ConfigReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.recordThrough(mgr)
	return ctrl.NewControllerManagedBy(mgr).
		Named("machineosconfig-diagnosis").
		// Reacting to our own annotation writes would only re-run the rules.
		For(&mcfgv1.MachineOSConfig{}, builder.WithPredicates(configChanged)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.configsUsingSecret)).
		Watches(&mcfgv1.MachineConfigPool{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: o.GetName()}}} // named after its pool (CRD rule)
		}), builder.WithPredicates(poolStateChanged)).
		Watches(&mcfgv1.MachineOSBuild{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			b, ok := o.(*mcfgv1.MachineOSBuild)
			if !ok || b.Spec.MachineOSConfig.Name == "" {
				return nil
			}
			return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: b.Spec.MachineOSConfig.Name}}}
		}), builder.WithPredicates(buildConditionsChanged)).
		Watches(&configv1.ClusterOperator{}, handler.EnqueueRequestsFromMapFunc(r.allConfigs)).
		Watches(&appsv1.Deployment{}, handler.EnqueueRequestsFromMapFunc(r.allConfigs)).
		Complete(r)
}

func (r *ConfigReconciler) allConfigs(ctx context.Context, _ client.Object) []reconcile.Request {
	var configs mcfgv1.MachineOSConfigList
	if err := r.Client.List(ctx, &configs); err != nil {
		return nil
	}
	requests := make([]reconcile.Request, 0, len(configs.Items))
	for _, c := range configs.Items {
		requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKey{Name: c.Name}})
	}
	return requests
}

func (r *ConfigReconciler) configsUsingSecret(ctx context.Context, secret client.Object) []reconcile.Request {
	if secret.GetNamespace() != mco.Namespace {
		return nil
	}
	var configs mcfgv1.MachineOSConfigList
	if err := r.Client.List(ctx, &configs); err != nil {
		return nil
	}
	var requests []reconcile.Request
	for _, c := range configs.Items {
		pull := mco.GlobalPullSecretCopy
		if c.Spec.BaseImagePullSecret != nil && c.Spec.BaseImagePullSecret.Name != "" {
			pull = c.Spec.BaseImagePullSecret.Name
		}
		if secret.GetName() == c.Spec.RenderedImagePushSecret.Name || secret.GetName() == pull {
			requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKey{Name: c.Name}})
		}
	}
	return requests
}

// configChanged passes a MachineOSConfig update when its spec, its status or an annotation of the MCO's changed:
// not on the checker's own annotations.
var configChanged = predicate.Funcs{UpdateFunc: updated(func(o, n *mcfgv1.MachineOSConfig) bool {
	if o.Generation != n.Generation || !sameStatus(o, n) {
		return true
	}
	for _, key := range []string{mco.AnnotationCurrentBuild, mco.AnnotationRebuild} {
		ov, oOK := o.Annotations[key]
		nv, nOK := n.Annotations[key]
		if ov != nv || oOK != nOK {
			return true
		}
	}
	return false
})}

// updated adapts a comparison of an object's old and new versions to an update predicate; an update of another
// type passes.
func updated[T client.Object](changed func(o, n T) bool) func(event.UpdateEvent) bool {
	return func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(T)
		n, ok2 := e.ObjectNew.(T)
		return !ok1 || !ok2 || changed(o, n)
	}
}

func sameStatus(o, n *mcfgv1.MachineOSConfig) bool {
	ob, nb := o.Status.MachineOSBuild, n.Status.MachineOSBuild
	return o.Status.ObservedGeneration == n.Status.ObservedGeneration && o.Status.CurrentImagePullSpec == n.Status.CurrentImagePullSpec &&
		(ob == nil) == (nb == nil) && (ob == nil || ob.Name == nb.Name)
}

// buildConditionsChanged passes a MachineOSBuild's creation, deletion and condition changes, not the checker's own
// annotation writes.
var buildConditionsChanged = predicate.Funcs{UpdateFunc: updated(func(o, n *mcfgv1.MachineOSBuild) bool {
	return !sameConditions(o.Status.Conditions, n.Status.Conditions)
}), GenericFunc: func(event.GenericEvent) bool { return false }}

// sameConditions compares two condition lists pairwise by type and status.
func sameConditions[C metav1.Condition | mcfgv1.MachineConfigPoolCondition](o, n []C) bool {
	return slices.EqualFunc(o, n, func(a, b C) bool { return conditionKey(a) == conditionKey(b) })
}

func conditionKey[C metav1.Condition | mcfgv1.MachineConfigPoolCondition](c C) string {
	switch c := any(c).(type) {
	case metav1.Condition:
		return c.Type + "=" + string(c.Status)
	case mcfgv1.MachineConfigPoolCondition:
		return string(c.Type) + "=" + string(c.Status)
	}
	return ""
}

// poolStateChanged passes pool creation and deletion, and updates that pause or unpause it or flip a condition:
// not the machine counts that change all through a rollout.
var poolStateChanged = predicate.Funcs{UpdateFunc: updated(func(o, n *mcfgv1.MachineConfigPool) bool {
	return o.Spec.Paused != n.Spec.Paused || !sameConditions(o.Status.Conditions, n.Status.Conditions)
}), GenericFunc: func(event.GenericEvent) bool { return false }}

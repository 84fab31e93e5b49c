package checker

import (
	"context"
	"fmt"
	"strings"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/validators"
)

// AuditReconciler re-runs the admission rules on MachineOSConfigs after admission: a config admitted yesterday
// breaks when its push secret is deleted or rotated today, and GitOps tools such as Argo CD do not show admission
// warnings. It writes only annotations; spec and status belong to the user and the MCO.
type AuditReconciler struct {
	Client client.Client
	// Recorder records Events; SetupWithManager provides one.
	Recorder events.EventRecorder
	Lookups  validators.Lookups
	Actions  validators.ActionFor
	// Resync re-checks every config this often, for what no watch sees (a registry that went away).
	Resync time.Duration
	Now    func() time.Time
	// Report, when set, also receives every verdict (the ClusterPolicyReport, policyreport.go).
	Report AuditSink
}

// maxAuditMessage bounds the message annotation, which lists every finding.
const maxAuditMessage = 2048

func (r *AuditReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var config mcfgv1.MachineOSConfig
	if err := r.Client.Get(ctx, req.NamespacedName, &config); err != nil {
		if apierrors.IsNotFound(err) {
			diagnosed.forget(&config, req.NamespacedName)
			if r.Report != nil {
				return reconcile.Result{}, r.Report.Forget(ctx, req.Name)
			}
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	verdict := validators.Evaluate(ctx, &config, r.Lookups, r.Actions)
	d := auditDiagnosis(verdict)
	changes := annotationChanges(config.Annotations, d, r.Now())
	if _, err := r.writer().applyWithEventReason(ctx, &config, d, changes, "ConfigCheckFailed"); err != nil {
		return reconcile.Result{}, err
	}
	if r.Report != nil {
		if err := r.Report.Record(ctx, &config, verdict); err != nil {
			return reconcile.Result{}, err
		}
	}
	return reconcile.Result{RequeueAfter: r.Resync}, nil
}

// auditDiagnosis summarises a verdict: the diagnosis names the rules with errors, the message lists them.
func auditDiagnosis(v validators.Verdict) diagnose.Diagnosis {
	var rules, lines []string
	severity := diagnose.SeverityWarning
	for _, result := range v.Results {
		if len(result.Findings.Errs) == 0 {
			continue
		}
		rules = append(rules, string(result.Rule))
		if result.Action == validators.ActionDeny {
			severity = diagnose.SeverityError
		}
		for _, err := range result.Findings.Errs {
			lines = append(lines, err.Error())
		}
	}
	if len(rules) == 0 {
		return diagnose.Diagnosis{}
	}
	message := strings.Join(lines, "; ")
	if len(message) > maxAuditMessage {
		message = message[:maxAuditMessage-3] + "..."
	}
	outlook := "a build of this MachineOSConfig would fail"
	if severity == diagnose.SeverityWarning {
		outlook = "a build of this MachineOSConfig may fail"
	}
	return diagnose.Diagnosis{
		Reason: diagnose.Reason(strings.Join(rules, ",")), Severity: severity,
		Message: fmt.Sprintf("%s: %s", outlook, message),
	}
}

// SetupWithManager watches MachineOSConfigs, the Secrets of the MCO's namespace they name, and pools.
func (r *AuditReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder(eventSource)
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("machineosconfig-audit").
		// Only spec changes matter; reacting to our own annotation writes would loop.
		For(&mcfgv1.MachineOSConfig{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.configsUsingSecret)).
		Watches(&mcfgv1.MachineConfigPool{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: o.GetName()}}}
		}), builder.WithPredicates(createOrDelete)). // pool-exists cares only whether the pool is there
		Complete(r)
}

func (r *AuditReconciler) configsUsingSecret(ctx context.Context, secret client.Object) []reconcile.Request {
	if secret.GetNamespace() != validators.MCONamespace {
		return nil
	}
	var configs mcfgv1.MachineOSConfigList
	if err := r.Client.List(ctx, &configs); err != nil {
		return nil
	}
	var requests []reconcile.Request
	for _, c := range configs.Items {
		pull := validators.GlobalPullSecretCopy
		if c.Spec.BaseImagePullSecret != nil && c.Spec.BaseImagePullSecret.Name != "" {
			pull = c.Spec.BaseImagePullSecret.Name
		}
		if secret.GetName() == c.Spec.RenderedImagePushSecret.Name || secret.GetName() == pull {
			requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKey{Name: c.Name}})
		}
	}
	return requests
}

var createOrDelete = predicate.Funcs{
	UpdateFunc:  func(event.UpdateEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
}

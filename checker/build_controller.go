package checker

import (
	"context"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/gather"
	"github.com/ocl-guard/ocl-guard/mco"
)

// BuildReconciler diagnoses MachineOSBuilds (stage 2).
type BuildReconciler struct {
	Clients
	Logs gather.LogReader
	// LogLimit caps the bytes of build log read for one diagnosis.
	LogLimit int64
	Limits   diagnose.BuildLimits
	// Recheck is how often a build that is still running is looked at again, to notice it being stuck.
	Recheck time.Duration
	Now     func() time.Time
}

func (r *BuildReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var build mcfgv1.MachineOSBuild
	if found, err := readReconciled(ctx, r.Client, r.Metrics, req, &build); !found {
		return reconcile.Result{}, err
	}
	snapshot, err := gather.GatherBuild(ctx, r.Client, &build, gather.LogOptions{Logs: r.Logs, Limit: r.LogLimit}, r.Now(), r.Limits)
	if err != nil {
		return reconcile.Result{}, err
	}
	d := diagnose.DiagnoseBuild(snapshot)
	if _, err := r.writer().apply(ctx, &build, d, AnnotationChanges(build.Annotations, d, snapshot.Now)); err != nil {
		return reconcile.Result{}, err
	}
	if phase, _ := mco.PhaseOf(&build, snapshot.Job); phase.Terminal() {
		return reconcile.Result{}, nil
	}
	return reconcile.Result{RequeueAfter: r.Recheck}, nil
}

// SetupWithManager watches builds, and the Jobs and pods of builds in the MCO's namespace.
func (r *BuildReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.recordThrough(mgr)
	if err := gather.IndexEvents(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	toBuild := func(jobName string) []reconcile.Request {
		name, ok := mco.BuildNameOfJob(jobName)
		if !ok {
			return nil
		}
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: name}}}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("machineosbuild-diagnosis").
		For(&mcfgv1.MachineOSBuild{}).
		Watches(&batchv1.Job{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return toBuild(o.GetName())
		})).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return toBuild(o.GetLabels()[mco.LabelJobName])
		})).
		// The MCO's Events (5.0+) may follow the status change they explain.
		Watches(&corev1.Event{}, handler.EnqueueRequestsFromMapFunc(r.buildsOfEvent), builder.WithPredicates(notOurs)).
		Complete(r)
}

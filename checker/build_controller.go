package checker

import (
	"context"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/mco"
)

// BuildReconciler diagnoses MachineOSBuilds (stage 2).
type BuildReconciler struct {
	Client client.Client
	// Recorder records Events; SetupWithManager provides one.
	Recorder events.EventRecorder
	Logs     LogReader
	// LogLimit caps the bytes of build log read for one diagnosis.
	LogLimit int64
	Limits   diagnose.BuildLimits
	// Metrics receives the diagnoses written; nil records none.
	Metrics *Metrics
	// Recheck is how often a build that is still running is looked at again, to notice it being stuck.
	Recheck time.Duration
	Now     func() time.Time
}

func (r *BuildReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var build mcfgv1.MachineOSBuild
	if err := r.Client.Get(ctx, req.NamespacedName, &build); err != nil {
		if apierrors.IsNotFound(err) {
			r.Metrics.gone(&build, req.NamespacedName)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	snapshot, err := GatherBuild(ctx, r.Client, &build, LogOptions{Logs: r.Logs, Limit: r.LogLimit}, r.Now(), r.Limits)
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

// LogOptions say how GatherBuild reads a build log: through Logs (nil: no log), at most Limit bytes.
type LogOptions struct {
	Logs  LogReader
	Limit int64
}

// GatherBuild reads what diagnose.DiagnoseBuild looks at: the build's MachineOSConfig, Job and pods, and the build
// log when the diagnosis needs it. The clock and the limits are part of the snapshot because whether the log is
// needed depends on them.
func GatherBuild(ctx context.Context, c client.Reader, build *mcfgv1.MachineOSBuild, logs LogOptions, now time.Time, limits diagnose.BuildLimits) (diagnose.BuildSnapshot, error) {
	s := diagnose.BuildSnapshot{Build: build, Now: now, Limits: limits}

	var config mcfgv1.MachineOSConfig
	if err := c.Get(ctx, client.ObjectKey{Name: build.Spec.MachineOSConfig.Name}, &config); err == nil {
		s.Config = &config
	} else if client.IgnoreNotFound(err) != nil {
		return s, err
	}

	jobName := mco.BuildJobName(build)
	var job batchv1.Job
	if err := c.Get(ctx, client.ObjectKey{Namespace: mco.Namespace, Name: jobName}, &job); err == nil {
		s.Job = &job
	} else if client.IgnoreNotFound(err) != nil {
		return s, err
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(mco.Namespace), client.MatchingLabels{mco.LabelJobName: jobName}); err != nil {
		return s, err
	}
	s.Pods = pods.Items
	if diagnose.NeedsEvents(s) {
		events, err := eventsAbout(ctx, c, build)
		if err != nil {
			// Events are evidence, not the diagnosis: say why they are missing and go on.
			log.FromContext(ctx).Info("could not read the Events about the build", "build", build.Name, "error", err.Error())
		}
		s.Events = events
	}

	if diagnose.NeedsLog(s) && logs.Logs != nil {
		if pod := mco.NewestPod(s.Pods); pod != nil {
			logText, err := logs.Logs.TailLog(ctx, pod.Namespace, pod.Name, mco.ImageBuildContainer, logs.Limit)
			if err != nil {
				// The diagnosis still stands on the termination message; say why the log is missing and go on.
				log.FromContext(ctx).Info("could not read the build log", "pod", pod.Name, "error", err.Error())
			}
			s.Log = logText
		}
	}
	return s, nil
}

// SetupWithManager watches builds, and the Jobs and pods of builds in the MCO's namespace.
func (r *BuildReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder(eventSource)
	}
	if err := IndexEvents(context.Background(), mgr.GetFieldIndexer()); err != nil {
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

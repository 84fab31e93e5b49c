package checker

import (
	"context"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ocl-guard/ocl-guard/mco"
)

// notOurs keeps the checker's own Events from waking it up.
var notOurs = predicate.NewPredicateFuncs(func(o client.Object) bool {
	e, ok := o.(*corev1.Event)
	return ok && e.ReportingController != eventSource && e.Source.Component != eventSource
})

// buildsOfEvent maps an Event about a MachineOSBuild to that build, and one about a MachineOSConfig (such as the
// MCO's ConfigReconcileFailed) to the build the MCO last started for it.
func (r *BuildReconciler) buildsOfEvent(ctx context.Context, o client.Object) []reconcile.Request {
	e, ok := o.(*corev1.Event)
	if !ok || e.InvolvedObject.Name == "" {
		return nil
	}
	build := ""
	switch e.InvolvedObject.Kind {
	case "MachineOSBuild":
		build = e.InvolvedObject.Name
	case "MachineOSConfig":
		var config mcfgv1.MachineOSConfig
		if err := r.Client.Get(ctx, client.ObjectKey{Name: e.InvolvedObject.Name}, &config); err != nil {
			return nil
		}
		build = config.Annotations[mco.AnnotationCurrentBuild]
	}
	if build == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: build}}}
}

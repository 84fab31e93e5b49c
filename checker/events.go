package checker

import (
	"context"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/mco"
)

// eventObjectIndex indexes cached Events by the object they are about, "<kind>/<name>".
const eventObjectIndex = "ocl-guard.io/involved-object"

func eventObjectKey(kind, name string) string { return kind + "/" + name }

// IndexEvents registers the index of cached Events that the build controller reads; SetupWithManager calls it, a
// cache used without a manager needs it too.
func IndexEvents(ctx context.Context, indexer client.FieldIndexer) error {
	return indexer.IndexField(ctx, &corev1.Event{}, eventObjectIndex, func(o client.Object) []string {
		e := o.(*corev1.Event)
		return []string{eventObjectKey(e.InvolvedObject.Kind, e.InvolvedObject.Name)}
	})
}

// eventsAbout reads the cached Events about the build and its MachineOSConfig.
func eventsAbout(ctx context.Context, c client.Reader, build *mcfgv1.MachineOSBuild) ([]diagnose.Event, error) {
	var out []diagnose.Event
	for _, about := range [][2]string{{"MachineOSBuild", build.Name}, {"MachineOSConfig", build.Spec.MachineOSConfig.Name}} {
		var list corev1.EventList
		if err := c.List(ctx, &list, client.InNamespace(mco.EventNamespace), client.MatchingFields{eventObjectIndex: eventObjectKey(about[0], about[1])}, client.UnsafeDisableDeepCopy); err != nil {
			// An uncached reader (ocl-guard status) has no index: the API server's own Event field selectors do it.
			list = corev1.EventList{}
			if liveErr := c.List(ctx, &list, client.InNamespace(mco.EventNamespace),
				client.MatchingFields{"involvedObject.kind": about[0], "involvedObject.name": about[1]}); liveErr != nil {
				return nil, err
			}
		}
		for i := range list.Items {
			e := &list.Items[i]
			out = append(out, diagnose.Event{Kind: e.InvolvedObject.Kind, Name: e.InvolvedObject.Name, Type: e.Type,
				Reason: e.Reason, Message: e.Message, Time: eventTime(e)})
		}
	}
	return out, nil
}

// eventTime is the last time the Event was seen, whichever API wrote it.
func eventTime(e *corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

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

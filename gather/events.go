package gather

import (
	"context"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/mco"
)

// eventObjectIndex indexes cached Events by the object they are about, "<kind>/<name>".
const eventObjectIndex = "ocl-guard.io/involved-object"

func eventObjectKey(kind, name string) string { return kind + "/" + name }

// IndexEvents registers the index of cached Events that GatherBuild reads; the checker's build controller calls it,
// a cache used without a manager needs it too. An uncached reader needs none.
func IndexEvents(ctx context.Context, indexer client.FieldIndexer) error {
	return indexer.IndexField(ctx, &corev1.Event{}, eventObjectIndex, func(o client.Object) []string {
		e := o.(*corev1.Event)
		return []string{eventObjectKey(e.InvolvedObject.Kind, e.InvolvedObject.Name)}
	})
}

// eventsAbout reads the Events about the build and its MachineOSConfig.
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

package checker

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

func TestOwnEventsDoNotWakeTheChecker(t *testing.T) {
	mco := &corev1.Event{Reason: "BuildFailed", Source: corev1.EventSource{Component: "machineosbuilder"}}
	ours := &corev1.Event{Reason: "PushAuth", ReportingController: eventSource}
	if !notOurs.Create(event.CreateEvent{Object: mco}) || notOurs.Create(event.CreateEvent{Object: ours}) {
		t.Error("the predicate lets the checker's own Events through, or drops the MCO's")
	}
}

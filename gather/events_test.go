package gather

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestEventTime(t *testing.T) {
	t1 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	for _, tc := range []struct {
		name string
		e    corev1.Event
		want time.Time
	}{
		{"core/v1 recorder (the MCO's): lastTimestamp", corev1.Event{LastTimestamp: metav1.NewTime(t2), ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(t1)}}, t2},
		{"events/v1 recorder: eventTime", corev1.Event{EventTime: metav1.NewMicroTime(t1)}, t1},
		{"events/v1 series: last observed", corev1.Event{EventTime: metav1.NewMicroTime(t1), Series: &corev1.EventSeries{Count: 3, LastObservedTime: metav1.NewMicroTime(t2)}}, t2},
		{"nothing but the object", corev1.Event{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(t1)}}, t1},
	} {
		if got := eventTime(&tc.e); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

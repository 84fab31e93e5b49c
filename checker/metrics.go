package checker

import (
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/diagnose"
)

// MetricDiagnosesMade counts new diagnoses by object kind and reason (a bounded set: rule IDs are never a label), so
// an alert can fire on, say, a rise in NodeImagePullAuth without scraping annotations.
const MetricDiagnosesMade = "ocl_guard_checker_diagnoses_total"

const diagnosesMadeHelp = "Diagnoses written by the checker when an object's diagnosis changed, by kind and reason (\"\" when cleared)."

// Metrics are the checker's collectors: the counter of diagnoses made and the gauge of objects holding one now.
// The composition root (app.NewCheckerManager) makes one per checker, registers it with the registry its metrics
// endpoint serves, and gives it to every reconciler; a test registers its own with a registry of its own. A nil
// *Metrics records nothing.
type Metrics struct {
	diagnosesMade *prometheus.CounterVec
	diagnosed     *currentDiagnoses
}

// NewMetrics returns the checker's collectors, registered nowhere yet.
func NewMetrics() *Metrics {
	return &Metrics{
		diagnosesMade: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricDiagnosesMade, Help: diagnosesMadeHelp}, []string{"kind", "reason"}),
		diagnosed:     &currentDiagnoses{byObject: map[objectKey][]reasonLevel{}},
	}
}

var _ prometheus.Collector = (*Metrics)(nil)

// Describe implements prometheus.Collector, so that one Register call registers every collector of the checker.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.diagnosesMade.Describe(ch)
	m.diagnosed.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.diagnosesMade.Collect(ch)
	m.diagnosed.Collect(ch)
}

// made counts a diagnosis written onto obj whose reason changed (d healthy: the reason "").
func (m *Metrics) made(obj client.Object, d diagnose.Diagnosis) {
	if m != nil {
		m.diagnosesMade.WithLabelValues(kindOf(obj), string(d.Reason)).Inc()
	}
}

// holds notes that obj now holds d (healthy: nothing).
func (m *Metrics) holds(obj client.Object, d diagnose.Diagnosis) {
	if m != nil {
		m.diagnosed.record(obj, d)
	}
}

// gone drops an object that no longer exists from the gauge.
func (m *Metrics) gone(obj client.Object, name types.NamespacedName) {
	if m != nil {
		m.diagnosed.forget(obj, name)
	}
}

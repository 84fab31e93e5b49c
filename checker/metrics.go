package checker

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// diagnosesMade counts new diagnoses by object kind and reason (a bounded set: rule IDs are never a label), so an alert can
// fire on, say, a rise in NodeImagePullAuth without scraping annotations.
var diagnosesMade = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "ocl_guard_checker_diagnoses_total",
	Help: "Diagnoses written by the checker when an object's diagnosis changed, by kind and reason (\"\" when cleared).",
}, []string{"kind", "reason"})

func init() { metrics.Registry.MustRegister(diagnosesMade) }

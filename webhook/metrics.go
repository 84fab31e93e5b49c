package webhook

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ocl-guard/ocl-guard/validators"
)

var ruleFindings = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "ocl_guard_admission_rule_findings_total",
	Help: "Errors found by each rule at admission, by the action taken (deny, warn, or warn-unchanged for spec-preserving updates).",
}, []string{"rule", "action"})

func init() { metrics.Registry.MustRegister(ruleFindings) }

func recordVerdict(v validators.Verdict, unchangedSpec bool) {
	for _, r := range v.Results {
		if len(r.Findings.Errs) == 0 {
			continue
		}
		action := string(r.Action)
		if unchangedSpec {
			action = "warn-unchanged"
		}
		ruleFindings.WithLabelValues(string(r.Rule), action).Add(float64(len(r.Findings.Errs)))
	}
}

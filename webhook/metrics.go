package webhook

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/validators"
)

var ruleFindings = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "ocl_guard_admission_rule_findings_total",
	Help: "Errors found by each rule at admission, by the action taken (deny, warn, or warn-unchanged for spec-preserving updates).",
}, []string{"rule", "action"})

func init() { metrics.Registry.MustRegister(ruleFindings) }

// recordVerdict counts the rules' errors by the action they took: a Fail was denied, a Warn admitted with a warning.
func recordVerdict(v validators.Verdict, unchangedSpec bool) {
	for _, f := range v.Findings.Problems() {
		if !f.IsError() {
			continue
		}
		action := string(validators.ActionWarn)
		switch {
		case unchangedSpec:
			action = "warn-unchanged"
		case f.Outcome == findings.Fail:
			action = string(validators.ActionDeny)
		}
		ruleFindings.WithLabelValues(string(f.Rule), action).Inc()
	}
}

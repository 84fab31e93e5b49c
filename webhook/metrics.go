package webhook

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/validators"
)

// MetricRuleFindings counts the errors each rule finds at admission.
const MetricRuleFindings = "ocl_guard_admission_rule_findings_total"

// Metrics are the webhook's collectors. The composition root (app.NewWebhookManager) makes one per webhook,
// registers it with the registry its metrics endpoint serves and gives it to the Validator; a test registers its
// own with a registry of its own. A nil *Metrics records nothing.
type Metrics struct {
	ruleFindings *prometheus.CounterVec
}

// NewMetrics returns the webhook's collectors, registered nowhere yet.
func NewMetrics() *Metrics {
	return &Metrics{ruleFindings: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricRuleFindings,
		Help: "Errors found by each rule at admission, by the action taken (deny, warn, or warn-unchanged for spec-preserving updates).",
	}, []string{"rule", "action"})}
}

var _ prometheus.Collector = (*Metrics)(nil)

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) { m.ruleFindings.Describe(ch) }

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) { m.ruleFindings.Collect(ch) }

// recordVerdict counts the rules' errors by the action they took: a Fail was denied, a Warn admitted with a warning.
func (m *Metrics) recordVerdict(v validators.Verdict, unchangedSpec bool) {
	if m == nil {
		return
	}
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
		m.ruleFindings.WithLabelValues(string(f.Rule), action).Inc()
	}
}

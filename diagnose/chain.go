package diagnose

import (
	"slices"
	"strings"
)

// rule is one row of a ranked diagnosis table (buildChain, poolChain, configChain), in the way cert-manager's
// policies.Chain is a list of checks (github.com/cert-manager/cert-manager internal/controller/certificates/policies):
// Reason and Severity are what the row reports, check says whether it applies.
//
// A row with an empty Reason reports what its finding names: the healthy stop of a succeeded build (nothing), or a
// cause of the classifier's table (causeTable), which carries its own reason and severity. A finding's severity
// overrides the row's, and the row's the reason's.
type rule[V any] struct {
	Reason   Reason
	Severity Severity
	check    func(v V) (finding, bool)
}

// finding is what a rule found.
type finding struct {
	// reason overrides the row's: a row that reports error text names the cause's reason.
	reason Reason
	// severity overrides the row's: a failed attempt while the Job still retries is a Warning whatever its cause.
	severity          Severity
	message, evidence string
	// summary is how another row's message names this finding after "also:"; the reason when empty.
	summary string
	// wantsLog: the build log could make the finding more specific.
	wantsLog bool
}

// chain is a ranked table of rules: the first row that finds something decides. With also > 0 every row runs and up
// to that many other findings are named after the deciding one ("(also: NodeDiskFull on 2 nodes, RolloutStalled)");
// with also == 0 the chain stops at the first finding.
type chain[V any] struct {
	rules []rule[V]
	also  int
}

// verdict is the chain's answer: the deciding diagnosis, and whether the build log could make it more specific.
type verdict struct {
	Diagnosis
	wantsLog bool
}

// evaluate runs the chain on v.
func (c chain[V]) evaluate(v V) verdict {
	var (
		decided  finding
		row      *rule[V]
		also     []string
		alsoSeen []Reason
	)
	for i := range c.rules {
		r := &c.rules[i]
		f, ok := r.check(v)
		if !ok {
			continue
		}
		reason := orDefault(string(f.reason), string(r.Reason))
		if row == nil {
			decided, row = f, r
			decided.reason = Reason(reason)
			if c.also == 0 {
				break
			}
			continue
		}
		if len(also) < c.also && Reason(reason) != decided.reason && !slices.Contains(alsoSeen, Reason(reason)) {
			alsoSeen = append(alsoSeen, Reason(reason))
			also = append(also, orDefault(f.summary, reason))
		}
	}
	if row == nil || decided.reason == "" {
		return verdict{}
	}
	msg := decided.message
	if len(also) > 0 {
		msg += " (also: " + strings.Join(also, ", ") + ")"
	}
	sev := orDefault(string(decided.severity), string(row.Severity)) // else the reason's own (DefaultSeverity)
	return verdict{Diagnosis: newDiagnosis(decided.reason, Severity(sev), msg, decided.evidence), wantsLog: decided.wantsLog}
}

// reasons lists the rows' reasons, each once, in rank order.
func (c chain[V]) reasons() []Reason {
	var out []Reason
	for _, r := range c.rules {
		if r.Reason != "" && !slices.Contains(out, r.Reason) {
			out = append(out, r.Reason)
		}
	}
	return out
}

// severityOf is the severity of the first row that reports r.
func (c chain[V]) severityOf(r Reason) (Severity, bool) {
	for _, row := range c.rules {
		if row.Reason == r {
			return row.Severity, true
		}
	}
	return "", false
}

// rankOf is the place of the first row that reports r; len(rules) when none does.
func (c chain[V]) rankOf(r Reason) int {
	for i, row := range c.rules {
		if row.Reason == r {
			return i
		}
	}
	return len(c.rules)
}

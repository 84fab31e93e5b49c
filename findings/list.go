package findings

import (
	"slices"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// List is the findings of one evaluation, in the order the rules ran.
type List []Finding

// With returns the findings whose outcome is one of outcomes.
func (l List) With(outcomes ...Outcome) List {
	var out List
	for _, f := range l {
		if slices.Contains(outcomes, f.Outcome) {
			out = append(out, f)
		}
	}
	return out
}

// Problems are the Fail and Warn findings.
func (l List) Problems() List { return l.With(Fail, Warn) }

// Denied reports whether any finding fails the object.
func (l List) Denied() bool {
	return slices.ContainsFunc(l, func(f Finding) bool { return f.Outcome == Fail })
}

// Denials are the Fail findings as field errors for the API server's Invalid status, each tagged with its rule.
func (l List) Denials() field.ErrorList {
	var errs field.ErrorList
	for _, f := range l.With(Fail) {
		errs = append(errs, f.Denial())
	}
	return errs
}

// Rules lists the rules that ran (any outcome), each once, in order.
func (l List) Rules() []RuleID {
	var ids []RuleID
	for _, f := range l {
		if !slices.Contains(ids, f.Rule) {
			ids = append(ids, f.Rule)
		}
	}
	return ids
}

// ErringRules lists, sorted, the rules with an error (Fail or Warn), whatever their action: the
// ocl-guard.io/rules annotation.
func (l List) ErringRules() []RuleID {
	var ids []RuleID
	for _, f := range l {
		if f.IsError() && f.Outcome.Problem() && !slices.Contains(ids, f.Rule) {
			ids = append(ids, f.Rule)
		}
	}
	slices.Sort(ids)
	return ids
}

// Of returns the findings of one rule.
func (l List) Of(rule RuleID) List {
	var out List
	for _, f := range l {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// Worst is the worst outcome of the list (Outcomes order); Pass for an empty list.
func (l List) Worst() Outcome {
	for _, o := range Outcomes() {
		if slices.ContainsFunc(l, func(f Finding) bool { return f.Outcome == o }) {
			return o
		}
	}
	return Pass
}

package validators

import (
	"context"
	"strings"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"

	"github.com/ocl-guard/ocl-guard/findings"
)

// ActionFor tells the action configured for a rule.
type ActionFor func(RuleID) Action

// Verdict is the outcome of running every enabled rule on one object.
type Verdict struct {
	// Findings holds, in rule order, every rule's errors and warnings with their outcome, a Skip for what a rule
	// could not judge, and a Pass for each rule that ran and found nothing. Rules that are off have none.
	Findings findings.List
}

// Evaluate gathers the facts about mosc once and runs every rule whose action is not off. A MachineOSConfig over
// the CRD's own limits is refused before any rule parses it (see RuleCRDBounds).
func Evaluate(ctx context.Context, mosc *mcfgv1.MachineOSConfig, env Env) Verdict {
	if errs := CheckCRDBounds(mosc); len(errs) > 0 {
		var v Verdict
		for _, err := range errs {
			v.Findings = append(v.Findings, findings.FromError(RuleCRDBounds, findings.Fail, err))
		}
		return v
	}
	in := NewInput(ctx, mosc, env)
	partial, _ := env.Source.(PartialSource)
	var v Verdict
	for _, rule := range Stage1Rules() {
		action := env.Actions(rule.ID)
		if action == ActionOff {
			continue
		}
		if partial != nil {
			if why := partial.NotJudged(rule.ID); why != "" {
				v.Findings = append(v.Findings, findings.Finding{Rule: rule.ID, Message: why, Outcome: findings.Skip})
				continue
			}
		}
		v.Findings = append(v.Findings, rule.Validate(ctx, in).decide(rule, action)...)
	}
	return v
}

// decide gives each of a rule's findings its outcome: the one place where an action becomes an outcome. A rule's
// errors fail under deny and warn under warn; its warnings warn whatever its action; what it could not judge is
// skipped; a rule with nothing to say passes.
func (f Findings) decide(rule Rule, action Action) findings.List {
	errOutcome := findings.Warn
	if action == ActionDeny {
		errOutcome = findings.Fail
	}
	evidence := strings.Join(f.Evidence, "; ")
	out := make(findings.List, 0, max(1, len(f.Errs)+len(f.Warnings)+len(f.Skipped)))
	for _, err := range f.Errs {
		found := findings.FromError(rule.ID, errOutcome, err)
		found.Evidence = evidence
		out = append(out, found)
	}
	for _, w := range f.Warnings {
		out = append(out, findings.Finding{Rule: rule.ID, Message: w, Evidence: evidence, Outcome: findings.Warn})
	}
	for _, s := range f.Skipped {
		out = append(out, findings.Finding{Rule: rule.ID, Message: s, Outcome: findings.Skip})
	}
	if len(out) == 0 {
		out = append(out, findings.Finding{Rule: rule.ID, Message: rule.Summary, Outcome: findings.Pass})
	}
	return out
}

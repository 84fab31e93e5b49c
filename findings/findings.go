// Package findings is ocl-guard's one vocabulary for what its rules found: every evaluation yields Findings, each
// with its rule ID, field path, message, evidence and Outcome, decided once where the rule ran (validators.Evaluate
// for the admission rules). Every surface (the admission answer, `ocl-guard check` in each format, the policy
// report, `ocl-guard status`, the MachineOSConfig diagnosis, metrics) renders from them and re-derives nothing; the
// rule ID is rendered here and nowhere else (render.go).
//
// Like Kyverno's one rule-status vocabulary (kyverno/kyverno api/kyverno/v1 policy report results: pass, fail,
// warn, error, skip), the outcomes are few and fixed, and wgpolicyk8s.io reports take them as they are.
package findings

import (
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// RuleID is the stable name of a rule. It appears in settings, messages, metrics, reports and docs.
type RuleID string

// Outcome is what a finding means for the object it is about.
type Outcome string

const (
	// Fail: a rule whose action is deny found an error; admission refuses the object.
	Fail Outcome = "fail"
	// Warn: a rule whose action is warn found an error, or a rule warned; admitted, and shown.
	Warn Outcome = "warn"
	// Info: nothing to fix, worth knowing.
	Info Outcome = "info"
	// Pass: the rule ran and found nothing.
	Pass Outcome = "pass"
	// Skip: the rule could not judge (its registry was not probed, its data is not available): neither passed nor
	// failed, and said so rather than guessed.
	Skip Outcome = "skip"
)

// Outcomes lists every outcome, worst first.
func Outcomes() []Outcome { return []Outcome{Fail, Warn, Info, Skip, Pass} }

// Problem reports whether the outcome asks someone to act.
func (o Outcome) Problem() bool { return o == Fail || o == Warn }

// Finding is one thing a rule found about one object.
type Finding struct {
	Rule RuleID
	// Field is the field path the finding is about ("spec.renderedImagePushSecret.name"); empty for the object.
	Field string
	// Message says what is wrong and how to fix it, or for Pass what the rule checked. It depends only on the facts
	// judged, never on when or how they were read, so an unchanged object gets the same message on every audit and
	// nothing is rewritten (issue: the ClusterPolicyReport was rewritten with the same configs).
	Message string
	// Evidence is detail that may vary between two looks at the same facts (a registry's exact error text, an
	// address, a duration): shown to people, never compared or stored where a change would cause a write.
	Evidence string
	Outcome  Outcome
	// Cause is the field error of a rule's error (nil for a rule's warnings, passes and skips): its type and value
	// are what a denial carries to the API server's Invalid status.
	Cause *field.Error
}

// IsError reports whether the finding is a rule's error (which its action turned into Fail or Warn), as opposed
// to a warning a rule gives whatever its action.
func (f Finding) IsError() bool { return f.Cause != nil }

// FromError is a rule's error with the outcome its action gives it. Its message is worded as the API server words
// the error after its field ("Invalid value: ...: detail", field.Error.ErrorBody), so a finding reads the same in a
// denial, a warning, `ocl-guard check` and `ocl-guard status`.
func FromError(rule RuleID, outcome Outcome, err *field.Error) Finding {
	return Finding{Rule: rule, Field: err.Field, Message: err.ErrorBody(), Outcome: outcome, Cause: err}
}

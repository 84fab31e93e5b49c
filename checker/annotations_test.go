package checker

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/validators"
)

func TestAnnotationChanges(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	earlier := "2026-11-25T10:00:00Z"
	pushAuth := diagnose.Diagnosis{Reason: diagnose.PushAuth, Message: "m", Evidence: "e"}
	current := map[string]string{AnnotationDiagnosis: "PushAuth", AnnotationMessage: "m", AnnotationEvidence: "e", AnnotationSince: earlier, "other": "x"}
	ptr := func(s string) *string { return &s }

	for _, tc := range []struct {
		name    string
		current map[string]string
		d       diagnose.Diagnosis
		want    map[string]*string
	}{
		{"same diagnosis: nothing to write", current, pushAuth, map[string]*string{}},
		{"new message, same reason: since is kept", current, diagnose.Diagnosis{Reason: diagnose.PushAuth, Message: "m2", Evidence: "e"},
			map[string]*string{AnnotationMessage: ptr("m2")}},
		{"new reason: since restarts, evidence dropped", current, diagnose.Diagnosis{Reason: diagnose.PushDenied, Message: "m"},
			map[string]*string{AnnotationDiagnosis: ptr("PushDenied"), AnnotationEvidence: nil, AnnotationSince: ptr(now.Format(time.RFC3339))}},
		{"healthy: only our annotations go", current, diagnose.Diagnosis{},
			map[string]*string{AnnotationDiagnosis: nil, AnnotationMessage: nil, AnnotationEvidence: nil, AnnotationSince: nil}},
		{"healthy and nothing written: nothing to do", map[string]string{"other": "x"}, diagnose.Diagnosis{}, map[string]*string{}},
		{"first diagnosis", nil, pushAuth, map[string]*string{AnnotationDiagnosis: ptr("PushAuth"), AnnotationMessage: ptr("m"),
			AnnotationEvidence: ptr("e"), AnnotationSince: ptr(now.Format(time.RFC3339))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := annotationChanges(tc.current, tc.d, now)
			if len(got) != len(tc.want) {
				t.Fatalf("changes = %v, want %v", render(got), render(tc.want))
			}
			for k, v := range tc.want {
				g, ok := got[k]
				if !ok || (g == nil) != (v == nil) || (g != nil && *g != *v) {
					t.Errorf("changes = %v, want %v", render(got), render(tc.want))
				}
			}
		})
	}
}

func render(m map[string]*string) string {
	var b strings.Builder
	for k, v := range m {
		if v == nil {
			b.WriteString(k + "=<remove> ")
		} else {
			b.WriteString(k + "=" + *v + " ")
		}
	}
	return b.String()
}

func TestAuditDiagnosis(t *testing.T) {
	result := func(id validators.RuleID, action validators.Action, errs ...string) validators.RuleResult {
		r := validators.RuleResult{Rule: id, Action: action}
		for _, e := range errs {
			r.Findings.Errs = append(r.Findings.Errs, field.Invalid(field.NewPath("spec", "x"), "v", e))
		}
		return r
	}
	if d := auditDiagnosis(validators.Verdict{Results: []validators.RuleResult{result(validators.RuleSecretExists, validators.ActionDeny)}}); !d.Healthy() {
		t.Errorf("no errors: %+v", d)
	}
	d := auditDiagnosis(validators.Verdict{Results: []validators.RuleResult{
		result(validators.RulePushSpecReachable, validators.ActionWarn, "unreachable"),
		result(validators.RuleSecretExists, validators.ActionDeny, "gone"),
	}})
	if d.Reason != "pushspec-reachable,secret-exists" || d.Severity != diagnose.SeverityError ||
		!strings.HasPrefix(d.Message, "a build of this MachineOSConfig would fail: spec.x: Invalid value") {
		t.Errorf("deny and warn: %+v", d)
	}
	d = auditDiagnosis(validators.Verdict{Results: []validators.RuleResult{result(validators.RulePushSpecReachable, validators.ActionWarn, "unreachable")}})
	if d.Severity != diagnose.SeverityWarning || !strings.HasPrefix(d.Message, "a build of this MachineOSConfig may fail") {
		t.Errorf("warn only: %+v", d)
	}
	long := auditDiagnosis(validators.Verdict{Results: []validators.RuleResult{result(validators.RuleSecretFormat, validators.ActionDeny, strings.Repeat("x", 5000))}})
	if len(long.Message) > maxAuditMessage+len("a build of this MachineOSConfig would fail: ") {
		t.Errorf("message of %d bytes is not bounded", len(long.Message))
	}
}

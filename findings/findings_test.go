package findings

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestRendering(t *testing.T) {
	err := field.NotFound(field.NewPath("spec", "renderedImagePushSecret", "name"), "push")
	err.Detail = "no Secret \"push\""
	denied := FromError("secret-exists", Fail, err)
	advice := Finding{Rule: "pushspec-syntax", Message: "the tag is replaced", Outcome: Warn}
	for _, tc := range []struct{ name, got, want string }{
		{"text puts the rule first, then the API server's words", denied.Text(), `[secret-exists] spec.renderedImagePushSecret.name: Not found: "push": no Secret "push"`},
		{"text of a finding about the object", advice.Text(), "[pushspec-syntax] the tag is replaced"},
		{"body leaves the rule out", denied.Body(), `spec.renderedImagePushSecret.name: Not found: "push": no Secret "push"`},
		{"a denial ends in the rule, after the API server's field", denied.DenialText(), `spec.renderedImagePushSecret.name: Not found: "push": no Secret "push" [secret-exists]`},
	} {
		if tc.got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, tc.got, tc.want)
		}
	}
	if err.Detail != "no Secret \"push\"" {
		t.Errorf("Denial changed the rule's own error: %q", err.Detail)
	}
	if d := advice.Denial(); d.Field != "" || !strings.HasSuffix(d.Detail, "[pushspec-syntax]") {
		t.Errorf("a warning refused by choice = %#v", d)
	}
}

func TestList(t *testing.T) {
	errOf := func(path string) *field.Error { return field.Invalid(field.NewPath(path), "v", "bad") }
	l := List{
		{Rule: "pool-exists", Message: "checked", Outcome: Pass},
		FromError("secret-format", Warn, errOf("a")),
		{Rule: "pushspec-syntax", Message: "the tag is replaced", Outcome: Warn},
		FromError("secret-exists", Fail, errOf("b")),
		{Rule: "pushspec-reachable", Message: "not probed", Outcome: Skip},
	}
	if got := l.ErringRules(); strings.Join(ruleStrings(got), ",") != "secret-exists,secret-format" {
		t.Errorf("ErringRules = %v: the rules with errors, whatever their outcome, sorted; not a rule's warnings", got)
	}
	if got := l.Rules(); len(got) != 5 || got[0] != "pool-exists" {
		t.Errorf("Rules = %v, want every rule in order", got)
	}
	if !l.Denied() || len(l.Denials()) != 1 || l.Worst() != Fail {
		t.Errorf("Denied %v, Denials %v, Worst %v", l.Denied(), l.Denials(), l.Worst())
	}
	if got := l.With(Skip, Pass).Worst(); got != Skip {
		t.Errorf("Worst of skip and pass = %v, want skip: what could not be judged is not a pass", got)
	}
	if got := (List{}).Worst(); got != Pass {
		t.Errorf("Worst of nothing = %v", got)
	}
	if got := len(l.Problems()); got != 3 {
		t.Errorf("Problems = %d, want the fail and the two warns", got)
	}
}

func ruleStrings(ids []RuleID) []string {
	var out []string
	for _, id := range ids {
		out = append(out, string(id))
	}
	return out
}

func TestAdmissionWarningsWrap(t *testing.T) {
	long := "no Secret \"push\" in namespace openshift-machine-config-operator; " +
		"create it with 'oc create secret docker-registry push -n openshift-machine-config-operator' " +
		strings.Repeat("x", 200)
	lines := AdmissionWarnings(List{{Rule: "secret-exists", Field: "spec.renderedImagePushSecret.name", Message: long, Outcome: Warn}})
	if len(lines) < 3 {
		t.Fatalf("lines = %q", lines)
	}
	var rebuilt []string
	for _, l := range lines {
		if n := len([]rune(l)); n > MaxWarningLength {
			t.Errorf("line of %d characters: %q", n, l)
		}
		if !strings.HasPrefix(l, "[secret-exists] ") {
			t.Errorf("line without rule ID: %q", l)
		}
		rebuilt = append(rebuilt, strings.TrimPrefix(l, "[secret-exists] "))
	}
	want := "spec.renderedImagePushSecret.name: " + long
	if got := strings.ReplaceAll(strings.Join(rebuilt, " "), " ", ""); got != strings.ReplaceAll(want, " ", "") {
		t.Errorf("wrapping lost text:\n got %s\nwant %s", got, want)
	}
	if got := AdmissionWarnings(List{{Rule: "containerfile", Message: "short", Outcome: Warn}}); len(got) != 1 || got[0] != "[containerfile] short" {
		t.Errorf("short = %q", got)
	}
}

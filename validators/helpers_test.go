package validators

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// want describes the expected findings of one rule run: each error as "field|type|detail substring", each warning
// as a substring.
type want struct {
	errs     []string
	warnings []string
	// evidence, when set, is the rule's evidence: detail that changes between two looks at the same facts.
	evidence string
}

func checkFindings(t *testing.T, got Findings, w want) {
	t.Helper()
	if len(got.Errs) != len(w.errs) {
		t.Fatalf("got %d errors %v, want %d %v", len(got.Errs), got.Errs, len(w.errs), w.errs)
	}
	for i, spec := range w.errs {
		parts := strings.SplitN(spec, "|", 3)
		e := got.Errs[i]
		if e.Field != parts[0] || string(e.Type) != parts[1] || !strings.Contains(e.Detail, parts[2]) {
			t.Errorf("error %d = %s %q %q; want %s %q containing %q", i, e.Field, e.Type, e.Detail, parts[0], parts[1], parts[2])
		}
	}
	if len(got.Warnings) != len(w.warnings) {
		t.Fatalf("got %d warnings %q, want %d %q", len(got.Warnings), got.Warnings, len(w.warnings), w.warnings)
	}
	for i, sub := range w.warnings {
		if !strings.Contains(got.Warnings[i], sub) {
			t.Errorf("warning %d = %q, want it to contain %q", i, got.Warnings[i], sub)
		}
	}
	if w.evidence != "" && strings.Join(got.Evidence, "; ") != w.evidence {
		t.Errorf("evidence = %q, want %q", got.Evidence, w.evidence)
	}
	noSecrets(t, got)
}

// noSecrets fails when a credential from the fixtures appears in any message.
func noSecrets(t *testing.T, f Findings) {
	t.Helper()
	all := strings.Join(f.Warnings, "\n")
	for _, e := range f.Errs {
		all += "\n" + e.Error()
	}
	for _, secret := range []string{testPassword, basicAuth()} {
		if strings.Contains(all, secret) {
			t.Errorf("a credential leaked into a message: %s", all)
		}
	}
}

var (
	notFound = string(field.ErrorTypeNotFound)
	invalid  = string(field.ErrorTypeInvalid)
	tooLong  = string(field.ErrorTypeTooLong)
)

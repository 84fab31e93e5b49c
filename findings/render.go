package findings

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The rule ID is rendered here and nowhere else. Two forms, each where its readers look for it:
//   - at the start, "[rule] field: message": `oc apply` warnings (so the wrapped lines of one message stay
//     together), `ocl-guard check`, `ocl-guard status`;
//   - at the end of a field error's detail, "field: Invalid value: ...: detail [rule]": the API server's Invalid
//     status prints the field first (k8s.io/apimachinery/pkg/api/errors NewInvalid), so the ID follows the text.

// MaxWarningLength is the length Kubernetes recommends for one admission warning (k8s.io/apiserver
// pkg/warning, "less than 120 characters"); longer ones are wrapped over several.
const MaxWarningLength = 120

// Text is the finding as one line: "[rule] field: message", or "[rule] message" for the whole object.
func (f Finding) Text() string { return tag(f.Rule) + " " + f.Body() }

// Body is the finding without its rule ID, "field: message", for surfaces that show the rule apart (a policy
// report result's rule, a JUnit test case).
func (f Finding) Body() string {
	if f.Field == "" {
		return f.Message
	}
	return f.Field + ": " + f.Message
}

func tag(rule RuleID) string { return "[" + string(rule) + "]" }

// Denial is the finding as a field error for the API server's Invalid status, its detail ending in the rule ID.
// A finding without a Cause (a warning refused by a caller's choice) becomes an Invalid error of its field.
func (f Finding) Denial() *field.Error {
	if f.Cause == nil {
		return &field.Error{Type: field.ErrorTypeInvalid, Field: f.Field, BadValue: field.OmitValueType{}, Detail: f.Message + " " + tag(f.Rule)}
	}
	tagged := *f.Cause
	if tagged.Detail == "" {
		tagged.Detail = tag(f.Rule)
	} else {
		tagged.Detail += " " + tag(f.Rule)
	}
	return &tagged
}

// DenialText is Denial as one line, "field: Invalid value: ...: detail [rule]".
func (f Finding) DenialText() string { return f.Denial().Error() }

// AdmissionWarnings renders findings as admission warnings: each Text wrapped into lines of at most
// MaxWarningLength characters, breaking between words, every line starting with the rule ID so that the lines of
// one message stay together in `oc apply` output.
func AdmissionWarnings(l List) []string {
	var out []string
	for _, f := range l {
		out = append(out, wrap(tag(f.Rule)+" ", f.Body())...)
	}
	return out
}

func wrap(prefix, msg string) []string {
	limit := MaxWarningLength - len([]rune(prefix))
	var out []string
	line := ""
	for _, word := range strings.Fields(msg) {
		for len([]rune(word)) > limit { // a single over-long word, e.g. a long image reference
			if line != "" {
				out, line = append(out, prefix+line), ""
			}
			r := []rune(word)
			out, word = append(out, prefix+string(r[:limit])), string(r[limit:])
		}
		switch {
		case line == "":
			line = word
		case len([]rune(line))+1+len([]rune(word)) <= limit:
			line += " " + word
		default:
			out, line = append(out, prefix+line), word
		}
	}
	if line != "" {
		out = append(out, prefix+line)
	}
	return out
}

// String is Text, for logs and test failures.
func (f Finding) String() string { return fmt.Sprintf("%s (%s)", f.Text(), f.Outcome) }

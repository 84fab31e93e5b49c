package app

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/validators"
)

// JoinWarnings gives back each message the webhook wrapped (Verdict.Warnings), as Verdict.WarningMessages has it.
func TestJoinWarningsUndoesTheWebhooksWrapping(t *testing.T) {
	longImage := "quay.io/acme/" + strings.Repeat("a", 150) + ":latest"
	type finding struct {
		rule validators.RuleID
		text string
	}
	for _, tc := range []struct {
		name     string
		findings []finding
	}{
		{"one short warning", []finding{{validators.RuleSecretExists, "baseImagePullSecret unset: the MCO uses global-pull-secret-copy"}}},
		{"one long warning", []finding{{validators.RuleSecretExists, "spec.renderedImagePushSecret.name: no Secret \"push\" in namespace openshift-machine-config-operator; " +
			"the MCO reads the push secret only there: create it with 'oc create secret docker-registry push -n openshift-machine-config-operator --docker-server=<registry> ...' or name an existing one"}}},
		{"a word longer than a line", []finding{{validators.RulePushSpecReachable, "could not reach " + longImage + " within 3s; check the network path from the cluster"}}},
		{"two short warnings of one rule stay two", []finding{
			{validators.RulePushSpecSyntax, `tag "latest" is not used: each build pushes quay.io/acme/os:<MachineOSBuild name>`},
			{validators.RulePushSpecSyntax, "a second, separate remark"}}},
		{"long warnings of different rules", []finding{
			{validators.RuleSecretFormat, strings.Repeat("format words ", 25)},
			{validators.RuleContainerfile, strings.Repeat("containerfile words ", 20)},
			{validators.RuleSecretFormat, "short again"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var found findings.List
			var want []string
			for _, f := range tc.findings {
				w := findings.Finding{Rule: f.rule, Message: strings.TrimSpace(f.text), Outcome: findings.Warn}
				found = append(found, w)
				want = append(want, w.Text())
			}
			wrapped := findings.AdmissionWarnings(found)
			if got := JoinWarnings(wrapped); !slices.Equal(got, want) {
				t.Errorf("JoinWarnings(%q)\n got %q\nwant %q", wrapped, got, want)
			}
			if got := JoinWarnings(want); !slices.Equal(got, want) {
				t.Errorf("joining whole warnings again changed them:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// A denial turned into warnings (an UPDATE that leaves spec alone is always admitted) is wrapped the same way.
func TestJoinWarningsOfDenials(t *testing.T) {
	denial := findings.FromError(validators.RulePushSpecSyntax, findings.Warn, field.Invalid(field.NewPath("spec", "renderedImagePushSpec"), "quay.io/acme/OS:latest",
		`repository path "acme/OS" must be lowercase, or the MCO's reference parser refuses it; use quay.io/acme/os:latest`))
	got := JoinWarnings(findings.AdmissionWarnings(findings.List{denial}))
	if len(got) != 1 || !strings.HasPrefix(got[0], "[pushspec-syntax] spec.renderedImagePushSpec: Invalid value:") || !strings.HasSuffix(got[0], "use quay.io/acme/os:latest") {
		t.Errorf("JoinWarnings = %q, want one warning", got)
	}
}

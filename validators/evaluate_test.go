package validators

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ocl-guard/ocl-guard/findings"
)

func denyAll(RuleID) Action { return ActionDeny }

func TestEvaluateGoodConfig(t *testing.T) {
	cluster := newClusterFixture().withSecret(pushSecretFor("quay.io"))
	v := evaluate(context.Background(), goodConfig(), cluster, denyAll)
	if d := v.Findings.Denials(); len(d) != 0 {
		t.Fatalf("denials for a good config: %v", d)
	}
	// The fallback notice and the tag notice, nothing else.
	if w := v.Findings.With(findings.Warn); len(w) != 2 {
		t.Fatalf("warnings = %v", w)
	}
	// Every other rule passed, with its summary, and the registry rules were not probed: a fixture without a
	// prober says so rather than passing them.
	for _, f := range v.Findings.With(findings.Pass) {
		if f.Message == "" {
			t.Errorf("pass without the rule's summary: %v", f)
		}
	}
	if got, want := len(v.Findings.Rules()), len(Stage1Rules()); got != want {
		t.Errorf("%d rules have a finding, want every one of the %d", got, want)
	}
	if cluster.secretLookups > 2 {
		t.Errorf("each secret must be read once per evaluation; got %d lookups for 2 secrets", cluster.secretLookups)
	}
}

func TestEvaluateActions(t *testing.T) {
	mosc := goodConfig()
	mosc.Spec.RenderedImagePushSpec = "quay.io/Acme/os:latest"
	cluster := newClusterFixture().withSecret(pushSecretFor("quay.io"))

	deny := evaluate(context.Background(), mosc, cluster, denyAll)
	if d := deny.Findings.Denials(); len(d) != 1 || !strings.HasSuffix(d[0].Detail, "[pushspec-syntax]") {
		t.Fatalf("deny: denials = %v, want one tagged [pushspec-syntax]", d)
	}

	warn := evaluate(context.Background(), mosc, cluster, func(id RuleID) Action {
		if id == RulePushSpecSyntax {
			return ActionWarn
		}
		return ActionDeny
	})
	if d := warn.Findings.Denials(); len(d) != 0 {
		t.Fatalf("warn: denials = %v", d)
	}
	joined := strings.Join(findings.AdmissionWarnings(warn.Findings.With(findings.Warn)), "\n")
	if !strings.Contains(joined, "[pushspec-syntax] spec.renderedImagePushSpec: Invalid value:") {
		t.Errorf("warn: warnings = %s", joined)
	}

	off := evaluate(context.Background(), mosc, cluster, func(id RuleID) Action {
		if id == RulePushSpecSyntax {
			return ActionOff
		}
		return ActionDeny
	})
	if slices.Contains(off.Findings.Rules(), RulePushSpecSyntax) {
		t.Errorf("a rule that is off ran: %v", off.Findings.Of(RulePushSpecSyntax))
	}
	// The outcome is decided once, from the action: deny fails, warn warns, the same error either way.
	failed, warned := deny.Findings.Of(RulePushSpecSyntax).With(findings.Fail), warn.Findings.Of(RulePushSpecSyntax).With(findings.Warn)
	if len(failed) != 1 || len(warned) == 0 || failed[0].Message != warned[0].Message || !failed[0].IsError() {
		t.Errorf("deny gave %v, warn gave %v", failed, warned)
	}
}

func TestRuleIDsAreUniqueAndDocumented(t *testing.T) {
	seen := map[RuleID]bool{}
	for _, r := range Stage1Rules() {
		if seen[r.ID] {
			t.Errorf("duplicate rule ID %s", r.ID)
		}
		seen[r.ID] = true
		if r.Summary == "" || r.Validate == nil {
			t.Errorf("rule %s lacks a summary or a function", r.ID)
		}
		switch r.DefaultAction {
		case ActionDeny, ActionWarn, ActionOff:
		default:
			t.Errorf("rule %s has default action %q", r.ID, r.DefaultAction)
		}
	}
}

// Without a prober the registry rules say they did not probe, rather than pass or invent a finding.
func TestEvaluateWithoutProberSkipsTheRegistryRules(t *testing.T) {
	env := envOf(newClusterFixture().withSecret(pushSecretFor("quay.io")), denyAll)
	env.Prober = nil
	v := Evaluate(context.Background(), goodConfig(), env)
	skipped := v.Findings.With(findings.Skip).Rules()
	for _, rule := range []RuleID{RulePushSpecReachable, RulePushSpecPushPermission, RulePushSpecDeletePermission} {
		if !slices.Contains(skipped, rule) {
			t.Errorf("%s not skipped; skipped: %v", rule, skipped)
		}
		if slices.Contains(v.Findings.With(findings.Pass).Rules(), rule) {
			t.Errorf("%s passed without a probe", rule)
		}
	}
	for _, f := range v.Findings.With(findings.Skip) {
		if !strings.Contains(f.Message, "not probed") {
			t.Errorf("skip without saying why: %v", f)
		}
	}
}

// partialSource holds Secrets without their data, as a must-gather does.
type partialSource struct{ Source }

func (partialSource) NotJudged(id RuleID) string {
	if ReadsSecretContent(id) {
		return "not judged: no Secret data"
	}
	return ""
}

// A source that cannot judge a rule makes it a skip with its reason, never a pass or a fail: here a push secret
// whose data is elided would fail secret-format, and the registry rules would pass without probing.
func TestEvaluatePartialSource(t *testing.T) {
	elided := pushSecretFor("quay.io")
	for key := range elided.Data {
		elided.Data[key] = []byte("123 bytes long") // oc adm inspect's elideSecret
	}
	env := envOf(newClusterFixture().withSecret(elided), denyAll)
	env.Source = partialSource{env.Source}
	v := Evaluate(context.Background(), goodConfig(), env)
	for _, f := range v.Findings {
		switch {
		case ReadsSecretContent(f.Rule) && (f.Outcome != findings.Skip || f.Message != "not judged: no Secret data"):
			t.Errorf("%s: %s %q, want skipped as not judged", f.Rule, f.Outcome, f.Message)
		case !ReadsSecretContent(f.Rule) && f.Outcome == findings.Skip:
			t.Errorf("%s skipped, though it needs no Secret data", f.Rule)
		}
	}
	if v.Findings.Denied() {
		t.Errorf("denials %v from Secret data that is not there", v.Findings.Denials())
	}
	if !slices.Contains(v.Findings.Rules(), RuleSecretExists) || v.Findings.With(findings.Skip).Worst() != findings.Skip {
		t.Errorf("findings %v", v.Findings)
	}
}

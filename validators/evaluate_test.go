package validators

import (
	"context"
	"strings"
	"testing"
)

func denyAll(RuleID) Action { return ActionDeny }

func TestEvaluateGoodConfig(t *testing.T) {
	cluster := newClusterFixture().withSecret(pushSecretFor("quay.io"))
	v := Evaluate(context.Background(), goodConfig(), cluster, denyAll)
	if d := v.Denials(); len(d) != 0 {
		t.Fatalf("denials for a good config: %v", d)
	}
	// The fallback notice and the tag notice, nothing else.
	if w := v.Warnings(); len(w) != 2 {
		t.Fatalf("warnings = %q", w)
	}
	if cluster.secretLookups > 2 {
		t.Errorf("each secret must be read once per evaluation; got %d lookups for 2 secrets", cluster.secretLookups)
	}
}

func TestEvaluateActions(t *testing.T) {
	mosc := goodConfig()
	mosc.Spec.RenderedImagePushSpec = "quay.io/Acme/os:latest"
	cluster := newClusterFixture().withSecret(pushSecretFor("quay.io"))

	deny := Evaluate(context.Background(), mosc, cluster, denyAll)
	if d := deny.Denials(); len(d) != 1 || !strings.HasSuffix(d[0].Detail, "[pushspec-syntax]") {
		t.Fatalf("deny: denials = %v, want one tagged [pushspec-syntax]", d)
	}

	warn := Evaluate(context.Background(), mosc, cluster, func(id RuleID) Action {
		if id == RulePushSpecSyntax {
			return ActionWarn
		}
		return ActionDeny
	})
	if d := warn.Denials(); len(d) != 0 {
		t.Fatalf("warn: denials = %v", d)
	}
	joined := strings.Join(warn.Warnings(), "\n")
	if !strings.Contains(joined, "[pushspec-syntax] spec.renderedImagePushSpec: repository path") {
		t.Errorf("warn: warnings = %s", joined)
	}

	off := Evaluate(context.Background(), mosc, cluster, func(id RuleID) Action {
		if id == RulePushSpecSyntax {
			return ActionOff
		}
		return ActionDeny
	})
	for _, r := range off.Results {
		if r.Rule == RulePushSpecSyntax {
			t.Errorf("a rule that is off ran: %+v", r)
		}
	}
	if all := deny.AllAsWarnings(); !strings.Contains(strings.Join(all, " "), "must be lowercase") {
		t.Errorf("AllAsWarnings lost the denial: %q", all)
	}
}

func TestWrapWarning(t *testing.T) {
	long := "spec.renderedImagePushSecret.name: no Secret \"push\" in namespace openshift-machine-config-operator; " +
		"create it with 'oc create secret docker-registry push -n openshift-machine-config-operator' " +
		strings.Repeat("x", 200)
	lines := wrapWarning(RuleSecretExists, long)
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
	if got := strings.ReplaceAll(strings.Join(rebuilt, " "), " ", ""); got != strings.ReplaceAll(long, " ", "") {
		t.Errorf("wrapping lost text:\n got %s\nwant %s", got, long)
	}
	if got := wrapWarning(RuleContainerfile, "short"); len(got) != 1 || got[0] != "[containerfile] short" {
		t.Errorf("short = %q", got)
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

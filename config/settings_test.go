package config

import (
	"strings"
	"testing"
	"time"

	"github.com/ocl-guard/ocl-guard/validators"
)

func TestParse(t *testing.T) {
	s, err := Parse([]byte(`
rules:
  pool-exists: warn
  containerfile: "off"
registry:
  budget: 2s
  insecureHosts: ["registry.lab:5000"]
  allowedCIDRs: ["10.0.0.0/8"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.ActionFor(validators.RulePoolExists); got != validators.ActionWarn {
		t.Errorf("pool-exists = %s", got)
	}
	if got := s.ActionFor(validators.RuleContainerfile); got != validators.ActionOff {
		t.Errorf("containerfile = %s", got)
	}
	if got := s.ActionFor(validators.RuleSecretExists); got != validators.ActionDeny {
		t.Errorf("secret-exists default = %s", got)
	}
	if s.Registry.Budget.Duration != 2*time.Second || s.Registry.SuccessTTL.Duration != DefaultSuccessTTL {
		t.Errorf("registry = %+v", s.Registry)
	}
	if p := s.Registry.AllowedPrefixes(); len(p) != 1 || p[0].String() != "10.0.0.0/8" {
		t.Errorf("allowedCIDRs = %v", p)
	}
}

func TestDefaultsCoverEveryRule(t *testing.T) {
	d := Defaults()
	for _, r := range validators.Stage1Rules() {
		if d.ActionFor(r.ID) != r.DefaultAction {
			t.Errorf("%s: default %s, rule says %s", r.ID, d.ActionFor(r.ID), r.DefaultAction)
		}
	}
	if d.Registry.Budget.Duration != DefaultRegistryBudget {
		t.Errorf("budget = %s", d.Registry.Budget.Duration)
	}
}

func TestParseRejectsBadSettings(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown top-level key", "rulez: {}", `unknown field "rulez"`},
		{"unknown rule", "rules: {secret-exist: deny}", "rules.secret-exist: unknown rule; known rules are"},
		{"policy report mode", "checker: {policyReport: \"on\"}", `checker.policyReport: "on": use auto or off`},
		{"bad action", "rules: {secret-exists: block}", `rules.secret-exists: "block" is not an action; use deny, warn or off`},
		{"unknown registry key", "registry: {timeout: 3s}", `unknown field "timeout"`},
		{"budget too long", "registry: {budget: 30s}", "registry.budget: 30s is out of range"},
		{"bad duration", "registry: {budget: soon}", "settings:"},
		{"bad CIDR", "registry: {allowedCIDRs: [10.0.0.0]}", `registry.allowedCIDRs[0]: "10.0.0.0" is not a CIDR`},
		{"duplicate key", "rules: {pool-exists: warn, pool-exists: deny}", "already set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

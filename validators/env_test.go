package validators

import (
	"context"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
)

// fixture is an in-memory cluster for rule tests: the facts' Source and the registry Prober at once.
type fixture interface {
	Source
	Prober
}

// clocked fixtures fix the evaluation's time.
type clocked interface{ clock() time.Time }

func envOf(f fixture, actions ActionFor) Env {
	if f == nil {
		f = newClusterFixture()
	}
	env := Env{Source: f, Prober: f, Actions: actions}
	if c, ok := f.(clocked); ok && !c.clock().IsZero() {
		now := c.clock()
		env.Now = func() time.Time { return now }
	}
	return env
}

// evaluate is Evaluate on a fixture.
func evaluate(ctx context.Context, mosc *mcfgv1.MachineOSConfig, f fixture, actions ActionFor) Verdict {
	return Evaluate(ctx, mosc, envOf(f, actions))
}

// validate runs one rule on a fixture as Evaluate runs it; a nil fixture is an empty cluster.
func validate(ctx context.Context, rule func(context.Context, *Input) Findings, mosc *mcfgv1.MachineOSConfig, f fixture) Findings {
	return Check(ctx, rule, mosc, envOf(f, denyAll))
}

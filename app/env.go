package app

import (
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/validators"
)

// RuleEnv is the one way every face of ocl-guard (webhook, checker, `check --live`, `status`) builds what the rules
// run in, from the settings it was given: so they all judge with the same actions, settings and prober. source
// reads the cluster (informer caches in the webhook and the checker, the live API in the CLI); prober nil leaves
// the registry rules "not probed".
func RuleEnv(settings config.Settings, source *lookups.Cluster, prober validators.Prober) validators.Env {
	if source.Rendered == nil {
		source.Rendered = &lookups.RenderedImages{}
	}
	return validators.Env{
		Source:    source,
		Prober:    prober,
		Actions:   settings.ActionFor,
		Preflight: settings.Preflight.Rules(),
	}
}

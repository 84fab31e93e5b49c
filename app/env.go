package app

import (
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/validators"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/manager"
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

// managerRuleEnv is RuleEnv for a process with a manager: Secrets and pools from the manager's cache, the
// cluster-wide facts from a facts cache of their own (returned, for the readiness check), misses confirmed and
// rendered MachineConfigs read uncached. actions, when set, overrides the settings' (tests switch rules).
func managerRuleEnv(mgr manager.Manager, settings config.Settings, prober validators.Prober, actions validators.ActionFor) (validators.Env, cache.Cache, error) {
	facts, err := NewFactsCache(mgr)
	if err != nil {
		return validators.Env{}, nil, err
	}
	env := RuleEnv(settings, &lookups.Cluster{Cached: mgr.GetClient(), Direct: mgr.GetAPIReader(), Facts: facts}, prober)
	if actions != nil {
		env.Actions = actions
	}
	return env, facts, nil
}

package validators

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/registry"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	RulePushSpecReachable      RuleID = "pushspec-reachable"
	RulePushSpecPushPermission RuleID = "pushspec-push-permission"
)

// ValidatePushSpecReachable is rule pushspec-reachable: the registry of renderedImagePushSpec must answer its API
// (/v2/) from here over TLS this process trusts. Seen from the webhook, not from the build's node, so a refusal is
// strong evidence but not proof; no answer in time is only a warning.
func ValidatePushSpecReachable(ctx context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	repo, result, ok := probePushRegistry(ctx, mosc, in)
	if !ok {
		return f
	}
	switch result.Reachable {
	case registry.StatusFailed:
		f.add(field.Invalid(pushSpecPath, string(mosc.Spec.RenderedImagePushSpec), fmt.Sprintf(
			"%s; builds push there, so fix the registry host and port, the registry, or the trust of its certificate",
			result.ReachableDetail)))
	case registry.StatusUnknown:
		f.warn("%s: verdict unknown", unreachableDetail(repo, result))
	case registry.StatusSkipped:
		f.skip("%s not probed", repo.RegistryStr())
	}
	return f
}

// ValidatePushSpecPushPermission is rule pushspec-push-permission: the push secret's credentials must be accepted
// by the registry and must not be shown to lack push on the repository. An unproven push right is not an error:
// Basic auth and opaque tokens cannot show it without the opt-in write probe.
func ValidatePushSpecPushPermission(ctx context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	repo, result, ok := probePushRegistry(ctx, mosc, in)
	if ok && result.Reachable == registry.StatusSkipped {
		f.skip("push to %s not probed", repo.Name())
	}
	if !ok || result.Reachable != registry.StatusOK {
		return f // pushspec-reachable reports it
	}
	secretName := mosc.Spec.RenderedImagePushSecret.Name
	switch {
	case result.Push == registry.StatusFailed && result.CredentialsRefused:
		f.add(field.Invalid(pushSecretPath, secretName, fmt.Sprintf(
			"%s; update the credentials for %s in Secret %s/%s", result.PushDetail, repo.RegistryStr(), mco.Namespace, secretName)))
	case result.Push == registry.StatusFailed:
		f.add(field.Invalid(pushSecretPath, secretName, fmt.Sprintf(
			"%s; use credentials that may push to %s, or grant push to this account", result.PushDetail, repo.Name())))
	case result.Push == registry.StatusUnknown && result.PushDetail != "" && !registry.PushUnverifiedByDesign(result):
		f.warn("push to %s not verified: %s", repo.Name(), result.PushDetail)
	}
	return f
}

// probePushRegistry runs the probe both rules share (the prober caches it, so the second rule costs nothing). ok
// is false when another rule already reports why there is nothing to probe.
func probePushRegistry(ctx context.Context, mosc *mcfgv1.MachineOSConfig, in *Input) (name.Repository, registry.Result, bool) {
	repo, err := in.pushRepository()
	if err != nil {
		return repo, registry.Result{}, false // pushspec-syntax reports it
	}
	secretName := mosc.Spec.RenderedImagePushSecret.Name
	if secretName == "" {
		return repo, registry.Result{}, false // required by the CRD
	}
	secret, err := in.Facts.Secret(secretName)
	if err != nil {
		return repo, registry.Result{}, false // secret-exists reports it
	}
	canonical, ok := in.canonicalSecret(secret) // as the MCO hands it to the build, whichever layout it has
	if !ok {
		return repo, registry.Result{}, false // secret-format reports it
	}
	return repo, in.ProbePush(ctx, repo.Name(), canonical), true
}

func unreachableDetail(repo name.Repository, r registry.Result) string {
	if r.ReachableDetail != "" {
		return r.ReachableDetail
	}
	return "could not reach " + repo.RegistryStr()
}

package validators

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateImagePolicy is rule image-policy: the nodes pull the built image under the cluster's image policy,
// which the MCO writes into /etc/containers/policy.json from image.config.openshift.io/cluster
// spec.registrySources and from every ClusterImagePolicy. A blocked registry, an allow-list without it, or a
// signature requirement (the MCO does not sign what it builds) makes every node's rebase fail "is rejected by
// policy" after a build that succeeded.
func ValidateImagePolicy(ctx context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	spec := string(mosc.Spec.RenderedImagePushSpec)
	repo, err := in.pushRepository()
	if err != nil {
		return f
	}
	checkRegistrySources(ctx, repo, spec, in, &f)
	policies, err := in.Facts.ClusterImagePolicies.Get()
	if err != nil && !apierrors.IsNotFound(err) {
		f.warn("could not list ClusterImagePolicies: %v", err)
	}
	for _, p := range policies {
		for _, scope := range p.Spec.Scopes {
			if scopeCovers(string(scope), repo) {
				f.add(field.Invalid(pushSpecPath, spec, fmt.Sprintf(
					"ClusterImagePolicy %s requires signed images for scope %q, and the MCO does not sign the images it builds, "+
						"so nodes reject this one; narrow the policy's scopes or push to a repository outside them", p.Name, scope)))
			}
		}
	}
	return f
}

func checkRegistrySources(ctx context.Context, repo name.Repository, spec string, in *Input, f *Findings) {
	cfg, err := in.Facts.ImageConfig.Get()
	switch {
	case apierrors.IsNotFound(err):
		return
	case err != nil:
		f.warn("could not read image.config.openshift.io/cluster: %v", err)
		return
	}
	sources := cfg.Spec.RegistrySources
	for _, blocked := range sources.BlockedRegistries {
		if scopeCovers(blocked, repo) {
			f.add(field.Invalid(pushSpecPath, spec, fmt.Sprintf(
				"image.config.openshift.io/cluster spec.registrySources.blockedRegistries lists %q, so nodes refuse to pull the "+
					"built image; push elsewhere or remove that entry", blocked)))
		}
	}
	if len(sources.AllowedRegistries) > 0 && !anyCovers(sources.AllowedRegistries, repo) {
		f.add(field.Invalid(pushSpecPath, spec, fmt.Sprintf(
			"image.config.openshift.io/cluster spec.registrySources.allowedRegistries does not list %s, so nodes refuse to pull "+
				"the built image; add it to allowedRegistries", repo.RegistryStr())))
	}
}

func anyCovers(scopes []string, repo name.Repository) bool {
	for _, s := range scopes {
		if scopeCovers(s, repo) {
			return true
		}
	}
	return false
}

// scopeCovers reports whether a registries.conf / policy.json scope ("host[:port]", "host/namespace[/repo]", or
// "*.domain") covers every tag of repo. A scope naming one tag or digest never covers the builds' new tags.
func scopeCovers(scope string, repo name.Repository) bool {
	scope = strings.TrimSuffix(strings.TrimSpace(scope), "/")
	host := repo.RegistryStr()
	if host == name.DefaultRegistry {
		host = "docker.io" // how registries.conf and policy.json spell Docker Hub
	}
	full := host + "/" + repo.RepositoryStr()
	if suffix, ok := strings.CutPrefix(scope, "*."); ok {
		if h, _, found := strings.Cut(host, ":"); found {
			host = h
		}
		return strings.HasSuffix(host, "."+suffix)
	}
	if strings.Contains(scope, "@") || strings.LastIndex(scope, ":") > strings.LastIndex(scope, "/") && strings.Contains(scope, "/") {
		return false // one tag or digest
	}
	return full == scope || strings.HasPrefix(full, scope+"/")
}

package registry

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	k8schain "github.com/google/go-containerregistry/pkg/authn/kubernetes"
	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
)

// ProbeWithSecret probes repository with the credentials a docker config Secret holds for it, matched the way the
// kubelet and the build's tools match them. The Secret's UID and resourceVersion key the cache, so an edited
// Secret is probed anew. A nil Secret probes anonymously.
func (p *Prober) ProbeWithSecret(ctx context.Context, repository string, secret *corev1.Secret) Result {
	repo, err := name.NewRepository(repository, name.WeakValidation)
	if err != nil {
		return skipped(fmt.Sprintf("not probed: repository %q does not parse (%v)", repository, err))
	}
	key := cacheKey{host: repo.RegistryStr(), repository: repo.RepositoryStr(), credentialVersion: storedVersion(secret)}
	if r, ok := p.cached(key); ok {
		return r
	}
	auth, version, problem := credentialsFor(ctx, repo, secret)
	if problem != "" {
		return skipped(problem)
	}
	return p.Probe(ctx, Request{Repository: repository, Auth: auth, CredentialVersion: version})
}

// storedVersion is the cache key part of a stored Secret, "" for a Secret that is not stored (or nil).
func storedVersion(secret *corev1.Secret) string {
	if secret == nil || secret.UID == "" {
		return ""
	}
	return string(secret.UID) + "/" + secret.ResourceVersion
}

// cached answers from the cache before the Secret's credentials are resolved, which costs more than the lookup:
// a stored Secret's version alone keys its results.
func (p *Prober) cached(key cacheKey) (Result, bool) {
	if key.credentialVersion == "" {
		return Result{}, false
	}
	r, ok := p.cache.get(key, p.now())
	if ok {
		p.metrics.cacheHits.Inc()
		r.Cached = true
	}
	return r, ok
}

// credentialsFor resolves the Secret's credentials for repo and the version that keys the cache. problem is set
// (and never quotes the secret) when the Secret holds nothing usable for the host.
func credentialsFor(ctx context.Context, repo name.Repository, secret *corev1.Secret) (auth authn.Authenticator, version, problem string) {
	if secret == nil {
		return authn.Anonymous, "", ""
	}
	keychain, err := k8schain.NewFromPullSecrets(ctx, []corev1.Secret{*secret})
	if err != nil {
		// The parse error may quote the secret's content, so it is not passed on.
		return nil, "", fmt.Sprintf("not probed: Secret %q does not hold a docker config that parses", secret.Name)
	}
	auth, err = keychain.Resolve(repo)
	if err != nil {
		return nil, "", fmt.Sprintf("not probed: no usable credentials for %s in Secret %q", repo.RegistryStr(), secret.Name)
	}
	// A Secret that is not stored (a test double or a dry-run view) has no version: its result is not shared.
	return auth, storedVersion(secret), ""
}

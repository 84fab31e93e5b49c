package registry

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"

	"github.com/ocl-guard/ocl-guard/registry/authfile"
)

// ProbeWithSecret probes repository with the credentials a docker config Secret holds for it, picked the way the
// build's tools pick them (containers/image: package authfile). The Secret's UID and resourceVersion key the cache, so an edited
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
	auth, version, why, problem := credentialsFor(repo, secret)
	if problem != "" {
		return skipped(problem)
	}
	return p.probe(ctx, Request{Repository: repository, Auth: auth, CredentialVersion: version}, why)
}

// probeWithSecret is what every probe with a Secret does around its own requests: the cached answer for the same
// question and credentials, the credentials the build's tools would pick (unprobed says why there are none to
// use), and one run shared by concurrent callers.
func (p *Prober) probeWithSecret(ctx context.Context, repo name.Repository, question string, secret *corev1.Secret, unprobed func(detail string) Result, run func(probeRun) outcome) Result {
	key := cacheKey{host: repo.RegistryStr(), repository: question, credentialVersion: storedVersion(secret)}
	if r, ok := p.cached(key); ok {
		return r
	}
	auth, version, why, problem := credentialsFor(repo, secret)
	if problem != "" {
		return unprobed(problem)
	}
	return p.shared(ctx, key, version != "" || auth == authn.Anonymous, func(ctx context.Context) outcome {
		return run(probeRun{p: p, ctx: ctx, repo: repo, auth: auth, why: why})
	})
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

// credentialsFor picks the Secret's credentials for repo the way the build's tools pick them (containers/image, see
// package authfile), and the version that keys the cache. When the Secret holds none that they would send, auth is
// anonymous, as their request would be, and why says so for the probe's details. problem is set (and never quotes
// the secret) when the Secret cannot be read, or its matching entry would fail the request outright.
func credentialsFor(repo name.Repository, secret *corev1.Secret) (auth authn.Authenticator, version, why, problem string) {
	if secret == nil {
		return authn.Anonymous, "", "", ""
	}
	entries, ok := secretEntries(secret)
	if !ok {
		// The parse error may quote the secret's content, so it is not passed on.
		return nil, "", "", fmt.Sprintf("not probed: Secret %q does not hold a docker config that parses", secret.Name)
	}
	// A Secret that is not stored (a test double or a dry-run view) has no version: its result is not shared.
	version = storedVersion(secret)
	repoName := authfile.NameFor(repo.RegistryStr(), repo.RepositoryStr())
	m := authfile.Lookup(entries, repoName)
	switch {
	case m.OK:
		return &authn.Basic{Username: m.Credential.Username, Password: m.Credential.Password}, version, "", ""
	case m.Fails:
		return nil, "", "", fmt.Sprintf("not probed: the entry %q of Secret %q matches %s; %s",
			authfile.ShowKey(m.Key), secret.Name, repoName, m.Problem)
	case m.Key != "":
		return authn.Anonymous, version, fmt.Sprintf("the entry %q of Secret %q matches %s; %s, so the build sends no credentials",
			authfile.ShowKey(m.Key), secret.Name, repoName, m.Problem), ""
	}
	return authn.Anonymous, version, NoCredentialsWhy(secret.Name, entries, repoName), ""
}

// NoCredentialsWhy says that Secret secretName (its entries) holds no key the build's tools use for repoName, and
// why each key that looks meant for it misses.
func NoCredentialsWhy(secretName string, entries map[string]authfile.Entry, repoName string) string {
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	why := fmt.Sprintf("Secret %q has no key the build's tools use for %s, so they send no credentials", secretName, repoName)
	for _, miss := range authfile.Explain(keys, repoName) {
		why += fmt.Sprintf("; key %q: %s", authfile.ShowKey(miss.Key), miss.Reason)
	}
	return why
}

// secretEntries reads the docker config of a Secret of either docker type, in either layout (the MCO converts both).
func secretEntries(secret *corev1.Secret) (map[string]authfile.Entry, bool) {
	for _, key := range []string{corev1.DockerConfigJsonKey, corev1.DockerConfigKey} {
		if data, ok := secret.Data[key]; ok {
			return authfile.Parse(data)
		}
	}
	return nil, false
}

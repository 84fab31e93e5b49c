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
	if secret == nil {
		return p.Probe(ctx, Request{Repository: repository, Auth: authn.Anonymous})
	}
	repo, err := name.NewRepository(repository, name.WeakValidation)
	if err != nil {
		return skipped(fmt.Sprintf("not probed: repository %q does not parse (%v)", repository, err))
	}
	keychain, err := k8schain.NewFromPullSecrets(ctx, []corev1.Secret{*secret})
	if err != nil {
		// The parse error may quote the secret's content, so it is not passed on.
		return skipped(fmt.Sprintf("not probed: Secret %q does not hold a docker config that parses", secret.Name))
	}
	auth, err := keychain.Resolve(repo)
	if err != nil {
		return skipped(fmt.Sprintf("not probed: no usable credentials for %s in Secret %q", repo.RegistryStr(), secret.Name))
	}
	version := string(secret.UID) + "/" + secret.ResourceVersion
	if secret.UID == "" {
		version = "" // not a stored object (a test double or a dry-run view): do not share its result by name
	}
	return p.Probe(ctx, Request{Repository: repository, Auth: auth, CredentialVersion: version})
}

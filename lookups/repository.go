package lookups

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/ocl-guard/ocl-guard/registry"
	"github.com/ocl-guard/ocl-guard/validators"
)

// repositoryProber is the part of registry.Prober that tells whether a repository exists.
type repositoryProber interface {
	ProbeRepositoryWithSecret(ctx context.Context, repository string, secret *corev1.Secret) registry.Result
}

var (
	_ validators.RepositoryProber = (*Cluster)(nil)
	_ validators.RepositoryProber = (*Files)(nil)
	_ repositoryProber            = (*registry.Prober)(nil)
)

func (c *Cluster) ProbeRepository(ctx context.Context, repository string, secret *corev1.Secret) registry.Result {
	return probeRepository(ctx, c.Prober, repository, secret)
}

func (f *Files) ProbeRepository(ctx context.Context, repository string, secret *corev1.Secret) registry.Result {
	return probeRepository(ctx, f.Prober, repository, secret)
}

func probeRepository(ctx context.Context, p RegistryProber, repository string, secret *corev1.Secret) registry.Result {
	if rp, ok := p.(repositoryProber); ok {
		return rp.ProbeRepositoryWithSecret(ctx, repository, secret)
	}
	return registry.Result{Reachable: registry.StatusSkipped, Pull: registry.StatusSkipped, PullDetail: "not probed: registry probes are off"}
}

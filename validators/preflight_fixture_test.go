package validators

import (
	"context"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ocl-guard/ocl-guard/registry"
)

// preflightFixture is the preflight half of the rule fixtures. Its zero value is a cluster where nothing stands in
// the way: no rendered configs to probe, no image policy, RHEL entitlements present, probes not run.
type preflightFixture struct {
	rendered      map[string]OSImages
	imageConfig   *configv1.Image
	policies      []configv1.ClusterImagePolicy
	noEntitlement bool
	rpmGPGKeys    bool
	pulls         map[string]registry.Result // by image
	pulled        []string
	pulledWith    []*corev1.Secret
	deleteResult  registry.Result
	repositories  map[string]registry.Result // by repository, for the ECR rule
	now           time.Time
}

func (p *preflightFixture) RenderedOSImages(_ context.Context, name string) (OSImages, error) {
	if img, ok := p.rendered[name]; ok {
		return img, nil
	}
	return OSImages{}, apierrors.NewNotFound(schema.GroupResource{Group: "machineconfiguration.openshift.io", Resource: "machineconfigs"}, name)
}

func (p *preflightFixture) ImageConfig(context.Context) (*configv1.Image, error) {
	if p.imageConfig == nil {
		return nil, apierrors.NewNotFound(schema.GroupResource{Group: "config.openshift.io", Resource: "images"}, "cluster")
	}
	return p.imageConfig, nil
}

func (p *preflightFixture) ClusterImagePolicies(context.Context) ([]configv1.ClusterImagePolicy, error) {
	return p.policies, nil
}

func (p *preflightFixture) Entitlement(context.Context) (EntitlementSources, error) {
	return EntitlementSources{Secret: !p.noEntitlement, RPMGPGKeys: p.rpmGPGKeys}, nil
}

func (p *preflightFixture) ProbePullWithSecret(_ context.Context, image string, secret *corev1.Secret) registry.Result {
	p.pulled = append(p.pulled, image)
	p.pulledWith = append(p.pulledWith, secret)
	if r, ok := p.pulls[image]; ok {
		return r
	}
	return registry.Result{Reachable: registry.StatusSkipped, Pull: registry.StatusSkipped}
}

func (p *preflightFixture) ProbeDeleteWithSecret(context.Context, string, *corev1.Secret) registry.Result {
	return p.deleteResult
}

func (p *preflightFixture) clock() time.Time { return p.now }

func (p *preflightFixture) ProbeRepositoryWithSecret(_ context.Context, repository string, _ *corev1.Secret) registry.Result {
	if r, ok := p.repositories[repository]; ok {
		return r
	}
	return registry.Result{Reachable: registry.StatusSkipped, Pull: registry.StatusSkipped, PullDetail: "not probed: registry probes are off"}
}

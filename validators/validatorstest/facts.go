// Package validatorstest holds a fake of the preflight lookups for tests outside validators: embed Facts in a
// test's validators.Lookups and set only what the test is about.
package validatorstest

import (
	"context"

	configv1 "github.com/openshift/api/config/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ocl-guard/ocl-guard/registry"
	"github.com/ocl-guard/ocl-guard/validators"
)

// Facts implements validators.PreflightLookups. Its zero value is a cluster where nothing stands in the way: no
// rendered config, no image policy, a RHEL entitlement, and probes that are not run. When Pull or Delete is set,
// probes go there instead (e.g. to a real registry.Prober).
type Facts struct {
	Rendered      map[string]validators.OSImages
	ImageCfg      *configv1.Image
	Policies      []configv1.ClusterImagePolicy
	NoEntitlement bool
	Pull          func(ctx context.Context, image string, secret *corev1.Secret) registry.Result
	Delete        func(ctx context.Context, repository string, secret *corev1.Secret) registry.Result
	Settings      validators.PreflightSettings
}

var _ validators.PreflightLookups = Facts{}

func (f Facts) RenderedOSImages(_ context.Context, name string) (validators.OSImages, error) {
	if img, ok := f.Rendered[name]; ok {
		return img, nil
	}
	return validators.OSImages{}, apierrors.NewNotFound(schema.GroupResource{Group: "machineconfiguration.openshift.io", Resource: "machineconfigs"}, name)
}

func (f Facts) ImageConfig(context.Context) (*configv1.Image, error) {
	if f.ImageCfg == nil {
		return nil, apierrors.NewNotFound(configv1.Resource("images"), "cluster")
	}
	return f.ImageCfg, nil
}

func (f Facts) ClusterImagePolicies(context.Context) ([]configv1.ClusterImagePolicy, error) {
	return f.Policies, nil
}

func (f Facts) Entitlement(context.Context) (validators.EntitlementSources, error) {
	return validators.EntitlementSources{Secret: !f.NoEntitlement}, nil
}

func (f Facts) ProbePull(ctx context.Context, image string, secret *corev1.Secret) registry.Result {
	if f.Pull == nil {
		return registry.Result{Reachable: registry.StatusSkipped, Pull: registry.StatusSkipped}
	}
	return f.Pull(ctx, image, secret)
}

func (f Facts) ProbeDelete(ctx context.Context, repository string, secret *corev1.Secret) registry.Result {
	if f.Delete == nil {
		return registry.Result{Reachable: registry.StatusSkipped, Delete: registry.StatusSkipped}
	}
	return f.Delete(ctx, repository, secret)
}

func (f Facts) Preflight() validators.PreflightSettings { return f.Settings }

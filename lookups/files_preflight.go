package lookups

import (
	"context"

	configv1 "github.com/openshift/api/config/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
)

// Offline, the cluster-wide facts of the preflight rules are unknown. Image policy and rendered configs are
// treated as absent (nothing to check, nothing reported); the entitlement, which only matters when packages are
// installed, is reported as not checked.

func (f *Files) RenderedOSImages(_ context.Context, name string) (validators.OSImages, error) {
	return validators.OSImages{}, apierrors.NewNotFound(schema.GroupResource{Group: "machineconfiguration.openshift.io", Resource: "machineconfigs"}, name)
}

func (f *Files) ImageConfig(context.Context) (*configv1.Image, error) {
	return nil, apierrors.NewNotFound(configv1.Resource("images"), ImageConfigName)
}

func (f *Files) ClusterImagePolicies(context.Context) ([]configv1.ClusterImagePolicy, error) {
	return nil, nil
}

func (f *Files) Entitlement(context.Context) (validators.EntitlementSources, error) {
	return entitlementFrom(func(key string) bool { _, id := f.definitionOf(secretFact, key); return id != 0 })
}

var (
	entitlementSecretKey = mco.EntitlementSecretNamespace + "/" + mco.EntitlementSecretName
	rpmGPGSecretKey      = mco.Namespace + "/" + mco.RPMGPGSecretName
)

// entitlementFrom answers Entitlement from whether the files define the Secrets at namespace/name: only their
// existence matters, so they are not read.
func entitlementFrom(defined func(key string) bool) (validators.EntitlementSources, error) {
	if defined(entitlementSecretKey) {
		return validators.EntitlementSources{Secret: true, RPMGPGKeys: defined(rpmGPGSecretKey)}, nil
	}
	return validators.EntitlementSources{}, ErrNotInFiles
}

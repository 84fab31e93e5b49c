// Package validatorstest holds an in-memory cluster for tests outside validators: set only what a test is about
// and hand its Env to validators.Evaluate, the webhook or a rule.
package validatorstest

import (
	"context"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/registry"
	"github.com/ocl-guard/ocl-guard/validators"
)

// Cluster is a validators.Source and validators.Prober. Its zero value is a cluster where nothing stands in the
// way of the preflight rules: no rendered config, no image policy, a RHEL entitlement; Secrets and pools are
// missing unless listed, and probes are not run unless a probe function is set (e.g. to a real registry.Prober).
type Cluster struct {
	// Secrets of the MCO's namespace, by name; ClusterPull is openshift-config/pull-secret.
	Secrets     map[string]*corev1.Secret
	ClusterPull *corev1.Secret
	// Pools by name; AnyPool answers every pool name with an empty pool.
	Pools   map[string]*mcfgv1.MachineConfigPool
	AnyPool bool

	Rendered      map[string]validators.OSImages
	ImageCfg      *configv1.Image
	Policies      []configv1.ClusterImagePolicy
	NoEntitlement bool

	Push   func(ctx context.Context, repository string, secret *corev1.Secret) registry.Result
	Pull   func(ctx context.Context, image string, secret *corev1.Secret) registry.Result
	Delete func(ctx context.Context, repository string, secret *corev1.Secret) registry.Result
	// Repository answers whether a repository exists (registry.Prober.ProbeRepositoryWithSecret).
	Repository func(ctx context.Context, repository string, secret *corev1.Secret) registry.Result
}

var (
	_ validators.Source = (*Cluster)(nil)
	_ validators.Prober = (*Cluster)(nil)
)

// Env is the cluster as an evaluation's environment, every rule at its default action.
func (c *Cluster) Env() validators.Env {
	return validators.Env{Source: c, Prober: c, Actions: DefaultActions}
}

// DefaultActions gives every rule its default action.
func DefaultActions(id validators.RuleID) validators.Action {
	for _, r := range validators.Stage1Rules() {
		if r.ID == id {
			return r.DefaultAction
		}
	}
	return validators.ActionOff
}

func (c *Cluster) MCOSecret(_ context.Context, name string) (*corev1.Secret, error) {
	if s, ok := c.Secrets[name]; ok {
		return s, nil
	}
	return nil, apierrors.NewNotFound(corev1.Resource("secrets"), name)
}

func (c *Cluster) ClusterPullSecret(context.Context) (*corev1.Secret, error) {
	if c.ClusterPull == nil {
		return nil, apierrors.NewNotFound(corev1.Resource("secrets"), mco.ClusterPullSecretName)
	}
	return c.ClusterPull, nil
}

func (c *Cluster) MachineConfigPool(_ context.Context, name string) (*mcfgv1.MachineConfigPool, error) {
	if p, ok := c.Pools[name]; ok {
		return p, nil
	}
	if c.AnyPool {
		return &mcfgv1.MachineConfigPool{}, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Group: mcfgv1.GroupName, Resource: "machineconfigpools"}, name)
}

func (c *Cluster) RenderedOSImages(_ context.Context, name string) (validators.OSImages, error) {
	if img, ok := c.Rendered[name]; ok {
		return img, nil
	}
	return validators.OSImages{}, apierrors.NewNotFound(schema.GroupResource{Group: mcfgv1.GroupName, Resource: "machineconfigs"}, name)
}

func (c *Cluster) ImageConfig(context.Context) (*configv1.Image, error) {
	if c.ImageCfg == nil {
		return nil, apierrors.NewNotFound(configv1.Resource("images"), "cluster")
	}
	return c.ImageCfg, nil
}

func (c *Cluster) ClusterImagePolicies(context.Context) ([]configv1.ClusterImagePolicy, error) {
	return c.Policies, nil
}

func (c *Cluster) Entitlement(context.Context) (validators.EntitlementSources, error) {
	return validators.EntitlementSources{Secret: !c.NoEntitlement}, nil
}

func (c *Cluster) ProbeWithSecret(ctx context.Context, repository string, secret *corev1.Secret) registry.Result {
	return answer(ctx, c.Push, repository, secret)
}

func (c *Cluster) ProbePullWithSecret(ctx context.Context, image string, secret *corev1.Secret) registry.Result {
	return answer(ctx, c.Pull, image, secret)
}

func (c *Cluster) ProbeDeleteWithSecret(ctx context.Context, repository string, secret *corev1.Secret) registry.Result {
	return answer(ctx, c.Delete, repository, secret)
}

func (c *Cluster) ProbeRepositoryWithSecret(ctx context.Context, repository string, secret *corev1.Secret) registry.Result {
	return answer(ctx, c.Repository, repository, secret)
}

// answer is probe's answer, or "not probed" when the test set none.
func answer(ctx context.Context, probe func(context.Context, string, *corev1.Secret) registry.Result, target string, secret *corev1.Secret) registry.Result {
	if probe == nil {
		return notProbed
	}
	return probe(ctx, target, secret)
}

var notProbed = registry.Result{Reachable: registry.StatusSkipped, Push: registry.StatusSkipped, Pull: registry.StatusSkipped, Delete: registry.StatusSkipped}

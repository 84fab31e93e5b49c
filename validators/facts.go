package validators

import (
	"context"
	"errors"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
)

// Fact is one thing known about the cluster: its value, or why it is not known. Err satisfies
// apierrors.IsNotFound when the object does not exist; any other error means the fact is unknown.
type Fact[T any] struct {
	Value T
	Err   error
}

// Get returns the value and the error, for the rules' `v, err :=` idiom.
func (f Fact[T]) Get() (T, error) { return f.Value, f.Err }

func factOf[T any](v T, err error) Fact[T] { return Fact[T]{Value: v, Err: err} }

// Facts are what the rules know of the cluster about one MachineOSConfig, gathered once per evaluation by Gather.
// Rules read them as values and never read the cluster themselves. Adding a cluster fact is a field here, its line
// in Gather, and its read in Source (answered by lookups.Cluster from the API server's caches and by lookups.Files
// from manifests).
type Facts struct {
	// Pool is the MachineOSConfig's MachineConfigPool.
	Pool Fact[*mcfgv1.MachineConfigPool]
	// Secrets are the Secrets of the MCO's namespace that the config names, and global-pull-secret-copy, by name.
	Secrets map[string]Fact[*corev1.Secret]
	// ClusterPullSecret is openshift-config/pull-secret, from which the MCO copies global-pull-secret-copy.
	ClusterPullSecret Fact[*corev1.Secret]
	// OSImages are the base images of the pool's rendered MachineConfig (spec.configuration.name).
	OSImages Fact[OSImages]
	// ImageConfig is image.config.openshift.io/cluster, whose registrySources the nodes obey.
	ImageConfig Fact[*configv1.Image]
	// ClusterImagePolicies are every ClusterImagePolicy: scopes whose images the nodes accept only signed.
	ClusterImagePolicies Fact[[]configv1.ClusterImagePolicy]
	// Entitlement tells which sources of RHEL content the MCO would mount into a build.
	Entitlement Fact[EntitlementSources]
}

// Secret returns the fact of one Secret in the MCO's namespace; a name Gather did not read is unknown.
func (f *Facts) Secret(name string) (*corev1.Secret, error) {
	if s, ok := f.Secrets[name]; ok {
		return s.Get()
	}
	return nil, errNotGathered
}

// Source is where Gather reads facts: the API server (lookups.Cluster) or manifests (lookups.Files). Each method
// returns an error for which apierrors.IsNotFound is true when the object does not exist.
type Source interface {
	// MCOSecret returns the Secret of that name in openshift-machine-config-operator.
	MCOSecret(ctx context.Context, name string) (*corev1.Secret, error)
	// ClusterPullSecret returns openshift-config/pull-secret.
	ClusterPullSecret(ctx context.Context) (*corev1.Secret, error)
	// MachineConfigPool returns the pool of that name.
	MachineConfigPool(ctx context.Context, name string) (*mcfgv1.MachineConfigPool, error)
	// RenderedOSImages returns the base images of the rendered MachineConfig of that name.
	RenderedOSImages(ctx context.Context, renderedConfig string) (OSImages, error)
	// ImageConfig returns image.config.openshift.io/cluster.
	ImageConfig(ctx context.Context) (*configv1.Image, error)
	// ClusterImagePolicies returns every ClusterImagePolicy.
	ClusterImagePolicies(ctx context.Context) ([]configv1.ClusterImagePolicy, error)
	// Entitlement tells whether the entitlement Secret and the repository ConfigMap exist.
	Entitlement(ctx context.Context) (EntitlementSources, error)
}

// PartialSource is a Source that holds only part of what the rules judge: a must-gather keeps each Secret without
// its data (openshift/oc pkg/cli/admin/inspect/secret.go, elideSecret). Evaluate does not run a rule that NotJudged
// names: it reports it as one findings.Skip with the reason, since its facts would make it pass or fail wrongly.
type PartialSource interface {
	Source
	// NotJudged says why rule cannot be judged from this source; "" when it can.
	NotJudged(rule RuleID) string
}

// Gather reads, once, every fact the rules may judge mosc by.
func Gather(ctx context.Context, mosc *mcfgv1.MachineOSConfig, src Source) *Facts {
	f := &Facts{Secrets: map[string]Fact[*corev1.Secret]{}}
	for _, use := range secretUses(mosc) {
		if _, done := f.Secrets[use.name]; use.name != "" && !done {
			f.Secrets[use.name] = factOf(src.MCOSecret(ctx, use.name))
		}
	}
	f.ClusterPullSecret = factOf(src.ClusterPullSecret(ctx))
	f.Pool = factOf(src.MachineConfigPool(ctx, mosc.Spec.MachineConfigPool.Name))
	f.OSImages = gatherOSImages(ctx, f.Pool, src)
	f.ImageConfig = factOf(src.ImageConfig(ctx))
	f.ClusterImagePolicies = factOf(src.ClusterImagePolicies(ctx))
	f.Entitlement = factOf(src.Entitlement(ctx))
	return f
}

// gatherOSImages reads the base images of the pool's rendered MachineConfig: what the build starts FROM.
func gatherOSImages(ctx context.Context, pool Fact[*mcfgv1.MachineConfigPool], src Source) Fact[OSImages] {
	if pool.Err != nil {
		return Fact[OSImages]{Err: errNoPool}
	}
	rendered := pool.Value.Spec.Configuration.Name
	if rendered == "" {
		return Fact[OSImages]{Err: errNotRendered}
	}
	return factOf(src.RenderedOSImages(ctx, rendered))
}

// OSImages are the images a build of a pool starts from, as the MCO renders its Containerfile
// (machine-config-operator pkg/controller/build/buildrequest/buildrequest.go, renderContainerfile).
type OSImages struct {
	// OSImageURL is the rendered MachineConfig's spec.osImageURL: the FROM of the MCO's stages.
	OSImageURL string
	// ExtensionsImage is spec.baseOSExtensionsContainerImage, which the build mounts whenever it is set.
	ExtensionsImage string
}

// EntitlementSources are the objects the MCO copies or mounts into a build so that dnf can reach RHEL content
// (mco.EntitlementSecretName, mco.YumReposConfigMapName).
type EntitlementSources struct {
	// Secret is openshift-config-managed/etc-pki-entitlement, copied per pool as etc-pki-entitlement-<pool>.
	Secret bool
	// YumRepos is the ConfigMap etc-yum-repos-d in the MCO's namespace, mounted as /etc/yum.repos.d.
	YumRepos bool
	// RPMGPGKeys is the Secret etc-pki-rpm-gpg in the MCO's namespace, mounted as /etc/pki/rpm-gpg
	// (mco.RPMGPGSecretName).
	RPMGPGKeys bool
}

// Why a fact is unknown without asking its Source.
var (
	errNotGathered = errors.New("not gathered for this MachineOSConfig")
	errNoPool      = errors.New("the pool could not be read")
	errNotRendered = errors.New("the pool has no rendered MachineConfig yet")
)

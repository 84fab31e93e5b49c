package validators

import (
	"context"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/ocl-guard/ocl-guard/registry"
)

// PreflightLookups is the part of the cluster the preflight rules read: facts that decide a build or a rollout
// before the first build starts. Implementations return an error for which apierrors.IsNotFound is true when the
// object does not exist.
type PreflightLookups interface {
	// RenderedOSImages returns the base images of the rendered MachineConfig of that name (a pool's
	// spec.configuration.name): what the build starts FROM.
	RenderedOSImages(ctx context.Context, renderedConfig string) (OSImages, error)
	// ImageConfig returns image.config.openshift.io/cluster, whose registrySources the nodes obey.
	ImageConfig(ctx context.Context) (*configv1.Image, error)
	// ClusterImagePolicies returns every ClusterImagePolicy: scopes whose images the nodes accept only signed.
	ClusterImagePolicies(ctx context.Context) ([]configv1.ClusterImagePolicy, error)
	// Entitlement tells which sources of RHEL content the MCO would mount into a build.
	Entitlement(ctx context.Context) (EntitlementSources, error)
	// ProbePull checks that image (a full reference with a tag or digest) exists and that the secret's credentials
	// may pull it: a token with pull scope and a manifest HEAD, within the probe budget. A nil secret is anonymous.
	ProbePull(ctx context.Context, image string, secret *corev1.Secret) registry.Result
	// ProbeDelete asks the registry's token service whether the push secret may delete in repository.
	ProbeDelete(ctx context.Context, repository string, pushSecret *corev1.Secret) registry.Result
	// Preflight returns the clock and the thresholds of the preflight rules.
	Preflight() PreflightSettings
}

// OSImages are the images a build of a pool starts from, as the MCO renders its Containerfile
// (machine-config-operator pkg/controller/build/buildrequest/buildrequest.go, renderContainerfile).
type OSImages struct {
	// OSImageURL is the rendered MachineConfig's spec.osImageURL: the FROM of the MCO's stages.
	OSImageURL string
	// ExtensionsImage is spec.baseOSExtensionsContainerImage, which the build mounts whenever it is set.
	ExtensionsImage string
}

// EntitlementSources are the objects the MCO copies or mounts into a build so that dnf can reach RHEL content.
type EntitlementSources struct {
	// Secret is openshift-config-managed/etc-pki-entitlement, copied per pool as etc-pki-entitlement-<pool>.
	Secret bool
	// YumRepos is the ConfigMap etc-yum-repos-d in the MCO's namespace, mounted as /etc/yum.repos.d.
	YumRepos bool
}

// PreflightSettings are the clock and thresholds of the preflight rules.
type PreflightSettings struct {
	// Now is the time the rules judge expiry against; zero means time.Now().
	Now time.Time
	// ExpiryWindow: a push credential expiring sooner than this is reported. Zero means DefaultExpiryWindow.
	ExpiryWindow time.Duration
}

// DefaultExpiryWindow is how early push-secret-lifetime warns about an expiring credential: two weeks leaves time
// to replace it before a build fails on it.
const DefaultExpiryWindow = 14 * 24 * time.Hour

func (s PreflightSettings) now() time.Time {
	if s.Now.IsZero() {
		return time.Now()
	}
	return s.Now
}

func (s PreflightSettings) window() time.Duration {
	if s.ExpiryWindow <= 0 {
		return DefaultExpiryWindow
	}
	return s.ExpiryWindow
}

package lookups

import (
	"context"
	"sync"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/registry"
	"github.com/ocl-guard/ocl-guard/validators"
)

// ImageConfigName is the one image.config.openshift.io object the cluster obeys.
const ImageConfigName = "cluster"

// Default lifetimes of what Facts remembers. A rendered MachineConfig never changes once written (its name
// is a hash of its content), so what is read from it is kept longest; cluster-wide policy and the entitlement's
// presence are kept briefly, so a fix shows within a minute.
const (
	DefaultRenderedTTL = 30 * time.Minute
	DefaultFactTTL     = time.Minute
)

// Facts holds the preflight rules' settings and a small cache of the facts their lookups extract. None of
// these objects is watched: each is read by name (or, for ClusterImagePolicies, listed) uncached when needed, and
// only the extracted facts are kept, never the objects (a rendered MachineConfig is large and holds every file
// of the node's configuration). Safe for concurrent use.
type Facts struct {
	Settings    validators.PreflightSettings
	RenderedTTL time.Duration
	FactTTL     time.Duration
	now         func() time.Time

	mu    sync.Mutex
	facts map[string]fact
}

type fact struct {
	value   any
	err     error
	expires time.Time
}

// NewFacts returns a Facts keeping cluster-wide facts for factTTL (zero: DefaultFactTTL).
func NewFacts(settings validators.PreflightSettings, factTTL time.Duration) *Facts {
	if factTTL == 0 {
		factTTL = DefaultFactTTL
	}
	return &Facts{Settings: settings, RenderedTTL: DefaultRenderedTTL, FactTTL: factTTL, now: time.Now}
}

// remember returns the cached answer for key, or reads it and keeps it for ttl (a NotFound only for FactTTL: the
// object may be created any moment). Other errors are not kept: the next admission should try again.
func remember[T any](p *Facts, key string, ttl time.Duration, read func() (T, error)) (T, error) {
	if p == nil {
		return read()
	}
	p.mu.Lock()
	if f, ok := p.facts[key]; ok && p.now().Before(f.expires) {
		p.mu.Unlock()
		return f.value.(T), f.err
	}
	p.mu.Unlock()
	v, err := read()
	if apierrors.IsNotFound(err) {
		ttl = min(ttl, p.factTTL())
	}
	if err == nil || apierrors.IsNotFound(err) {
		p.mu.Lock()
		if p.facts == nil {
			p.facts = map[string]fact{}
		}
		p.facts[key] = fact{value: v, err: err, expires: p.now().Add(ttl)}
		p.mu.Unlock()
	}
	return v, err
}

func (p *Facts) renderedTTL() time.Duration {
	if p == nil || p.RenderedTTL == 0 {
		return DefaultRenderedTTL
	}
	return p.RenderedTTL
}

func (p *Facts) factTTL() time.Duration {
	if p == nil || p.FactTTL == 0 {
		return DefaultFactTTL
	}
	return p.FactTTL
}

// RenderedOSImages reads one rendered MachineConfig by name and keeps only its two image references.
func (c *Cluster) RenderedOSImages(ctx context.Context, name string) (validators.OSImages, error) {
	return remember(c.Facts, "rendered/"+name, c.Facts.renderedTTL(), func() (validators.OSImages, error) {
		var mc mcfgv1.MachineConfig
		if err := c.Direct.Get(ctx, client.ObjectKey{Name: name}, &mc); err != nil {
			return validators.OSImages{}, err
		}
		return validators.OSImages{OSImageURL: mc.Spec.OSImageURL, ExtensionsImage: mc.Spec.BaseOSExtensionsContainerImage}, nil
	})
}

func (c *Cluster) ImageConfig(ctx context.Context) (*configv1.Image, error) {
	return remember(c.Facts, "image.config", c.Facts.factTTL(), func() (*configv1.Image, error) {
		var img configv1.Image
		if err := c.Direct.Get(ctx, client.ObjectKey{Name: ImageConfigName}, &img); err != nil {
			return nil, err
		}
		// Only the registry sources are used: keep those, not the whole object.
		return &configv1.Image{ObjectMeta: metav1.ObjectMeta{Name: img.Name},
			Spec: configv1.ImageSpec{RegistrySources: img.Spec.RegistrySources}}, nil
	})
}

func (c *Cluster) ClusterImagePolicies(ctx context.Context) ([]configv1.ClusterImagePolicy, error) {
	return remember(c.Facts, "clusterimagepolicies", c.Facts.factTTL(), func() ([]configv1.ClusterImagePolicy, error) {
		var list configv1.ClusterImagePolicyList
		if err := c.Direct.List(ctx, &list); err != nil {
			return nil, err
		}
		out := make([]configv1.ClusterImagePolicy, 0, len(list.Items))
		for _, p := range list.Items {
			out = append(out, configv1.ClusterImagePolicy{ObjectMeta: metav1.ObjectMeta{Name: p.Name},
				Spec: configv1.ClusterImagePolicySpec{Scopes: p.Spec.Scopes}})
		}
		return out, nil
	})
}

// Entitlement asks whether the entitlement Secret and the repository ConfigMap exist. It reads their metadata
// only, so the entitlement's content never reaches this process.
func (c *Cluster) Entitlement(ctx context.Context) (validators.EntitlementSources, error) {
	return remember(c.Facts, "entitlement", c.Facts.factTTL(), func() (validators.EntitlementSources, error) {
		secret, err := c.exists(ctx, corev1.SchemeGroupVersion.WithKind("Secret"),
			client.ObjectKey{Namespace: mco.EntitlementSecretNamespace, Name: mco.EntitlementSecretName})
		if err != nil {
			return validators.EntitlementSources{}, err
		}
		repos, err := c.exists(ctx, corev1.SchemeGroupVersion.WithKind("ConfigMap"),
			client.ObjectKey{Namespace: mco.Namespace, Name: mco.YumReposConfigMapName})
		return validators.EntitlementSources{Secret: secret, YumRepos: repos}, err
	})
}

func (c *Cluster) exists(ctx context.Context, gvk schema.GroupVersionKind, key client.ObjectKey) (bool, error) {
	obj := &metav1.PartialObjectMetadata{}
	obj.SetGroupVersionKind(gvk)
	err := c.Direct.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func (c *Cluster) ProbePull(ctx context.Context, image string, secret *corev1.Secret) registry.Result {
	if c.Prober == nil {
		return registry.Result{Reachable: registry.StatusSkipped, Pull: registry.StatusSkipped}
	}
	return c.Prober.ProbePullWithSecret(ctx, image, secret)
}

func (c *Cluster) ProbeDelete(ctx context.Context, repository string, secret *corev1.Secret) registry.Result {
	if c.Prober == nil {
		return registry.Result{Reachable: registry.StatusSkipped, Delete: registry.StatusSkipped}
	}
	return c.Prober.ProbeDeleteWithSecret(ctx, repository, secret)
}

func (c *Cluster) Preflight() validators.PreflightSettings {
	if c.Facts == nil {
		return validators.PreflightSettings{}
	}
	return c.Facts.Settings
}

package lookups

import (
	"context"
	"sync"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
)

// ImageConfigName is the one image.config.openshift.io object the cluster obeys.
const ImageConfigName = "cluster"

// DefaultRenderedTTL is how long RenderedImages keeps the images of a rendered MachineConfig. Its name is a hash of
// its content, so it never changes once written; the limit only bounds memory for configs no pool uses any more.
const DefaultRenderedTTL = 30 * time.Minute

// RenderedImages keeps the two image references read from rendered MachineConfigs, never the objects: a rendered
// MachineConfig holds every file of a node's configuration, and their names are content hashes, so they are read
// by name when a pool names one rather than watched. Safe for concurrent use.
type RenderedImages struct {
	TTL time.Duration
	Now func() time.Time

	mu     sync.Mutex
	images map[string]renderedEntry
}

type renderedEntry struct {
	images  validators.OSImages
	expires time.Time
}

func (r *RenderedImages) get(name string) (validators.OSImages, bool) {
	if r == nil {
		return validators.OSImages{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.images[name]
	return e.images, ok && r.now().Before(e.expires)
}

func (r *RenderedImages) put(name string, images validators.OSImages) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.images == nil {
		r.images = map[string]renderedEntry{}
	}
	ttl := r.TTL
	if ttl <= 0 {
		ttl = DefaultRenderedTTL
	}
	r.images[name] = renderedEntry{images: images, expires: r.now().Add(ttl)}
}

func (r *RenderedImages) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

// RenderedOSImages reads one rendered MachineConfig by name and keeps only its two image references. Only a found
// object is kept: a missing one may be written any moment.
func (c *Cluster) RenderedOSImages(ctx context.Context, name string) (validators.OSImages, error) {
	if images, ok := c.Rendered.get(name); ok {
		return images, nil
	}
	var mc mcfgv1.MachineConfig
	if err := c.Direct.Get(ctx, client.ObjectKey{Name: name}, &mc); err != nil {
		return validators.OSImages{}, err
	}
	images := validators.OSImages{OSImageURL: mc.Spec.OSImageURL, ExtensionsImage: mc.Spec.BaseOSExtensionsContainerImage}
	c.Rendered.put(name, images)
	return images, nil
}

// The cluster-wide facts are read through Facts, which in the webhook and the checker is an informer cache
// (app.FactsCacheOptions watches these objects by name), so a change shows at the next evaluation and reading costs
// the API server nothing per admission; the CLI reads them live.

func (c *Cluster) facts() client.Reader {
	if c.Facts != nil {
		return c.Facts
	}
	return c.Cached
}

func (c *Cluster) ImageConfig(ctx context.Context) (*configv1.Image, error) {
	var img configv1.Image
	err := c.facts().Get(ctx, client.ObjectKey{Name: ImageConfigName}, &img)
	if meta.IsNoMatchError(err) { // not OpenShift, or its config API not served: nothing to obey
		return nil, apierrors.NewNotFound(configv1.Resource("images"), ImageConfigName)
	}
	if err != nil {
		return nil, err
	}
	return &img, nil
}

func (c *Cluster) ClusterImagePolicies(ctx context.Context) ([]configv1.ClusterImagePolicy, error) {
	var list configv1.ClusterImagePolicyList
	err := c.facts().List(ctx, &list)
	if meta.IsNoMatchError(err) { // a release without ClusterImagePolicy (before 4.16): no policy
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

// Entitlement asks whether the entitlement Secret and the repository ConfigMap exist. It reads their metadata
// only, so the entitlement's content never reaches this process.
func (c *Cluster) Entitlement(ctx context.Context) (validators.EntitlementSources, error) {
	secret, err := c.exists(ctx, corev1.SchemeGroupVersion.WithKind("Secret"),
		client.ObjectKey{Namespace: mco.EntitlementSecretNamespace, Name: mco.EntitlementSecretName})
	if err != nil {
		return validators.EntitlementSources{}, err
	}
	repos, err := c.exists(ctx, corev1.SchemeGroupVersion.WithKind("ConfigMap"),
		client.ObjectKey{Namespace: mco.Namespace, Name: mco.YumReposConfigMapName})
	if err != nil {
		return validators.EntitlementSources{}, err
	}
	// A Secret of the MCO's namespace, in the webhook's and the checker's watched Secret cache already. Its absence
	// is the common case, so it is not confirmed with the API server as a denial's would be: that would cost a GET
	// per admission on most clusters, for a warning.
	err = c.Cached.Get(ctx, client.ObjectKey{Namespace: mco.Namespace, Name: mco.RPMGPGSecretName}, &corev1.Secret{})
	keys := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return validators.EntitlementSources{}, err
	}
	return validators.EntitlementSources{Secret: secret, YumRepos: repos, RPMGPGKeys: keys}, nil
}

func (c *Cluster) exists(ctx context.Context, gvk schema.GroupVersionKind, key client.ObjectKey) (bool, error) {
	obj := &metav1.PartialObjectMetadata{}
	obj.SetGroupVersionKind(gvk)
	err := c.facts().Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

package lookups

import (
	"context"
	"errors"
	"testing"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
)

// countingAPIServer is a fake API server holding objs that counts reads and can be made to fail.
func countingAPIServer(t *testing.T, reads *int, fail *error, objs ...client.Object) client.Client {
	s := scheme(t)
	if err := configv1.Install(s); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			*reads++
			if *fail != nil {
				return *fail
			}
			return c.Get(ctx, key, obj, opts...)
		},
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if *fail != nil {
				return *fail
			}
			return c.List(ctx, list, opts...)
		},
	}).Build()
}

func TestRenderedImagesAreKeptForTheirTTL(t *testing.T) {
	var reads int
	var fail error
	rendered := &mcfgv1.MachineConfig{ObjectMeta: metav1.ObjectMeta{Name: "rendered-worker-1"},
		Spec: mcfgv1.MachineConfigSpec{OSImageURL: "quay.io/os@sha256:1", BaseOSExtensionsContainerImage: "quay.io/ext@sha256:2"}}
	api := countingAPIServer(t, &reads, &fail, rendered)
	now := time.Now()
	c := &Cluster{Cached: failingReader{t}, Direct: api, Rendered: &RenderedImages{TTL: time.Hour, Now: func() time.Time { return now }}}
	ctx := context.Background()

	for range 3 {
		images, err := c.RenderedOSImages(ctx, "rendered-worker-1")
		if err != nil || images != (validators.OSImages{OSImageURL: "quay.io/os@sha256:1", ExtensionsImage: "quay.io/ext@sha256:2"}) {
			t.Fatalf("got %+v, %v", images, err)
		}
	}
	if reads != 1 {
		t.Errorf("%d reads of one rendered config, want 1", reads)
	}
	now = now.Add(2 * time.Hour)
	if _, err := c.RenderedOSImages(ctx, "rendered-worker-1"); err != nil || reads != 2 {
		t.Errorf("past the TTL the config is read again: err %v, %d reads", err, reads)
	}

	reads = 0
	for range 2 {
		if _, err := c.RenderedOSImages(ctx, "rendered-worker-2"); !apierrors.IsNotFound(err) {
			t.Fatalf("absent config: %v", err)
		}
	}
	if reads != 2 {
		t.Errorf("a missing rendered config may be written any moment, so it is not kept: %d reads", reads)
	}
	reads, fail = 0, errors.New("connection refused")
	if _, err := c.RenderedOSImages(ctx, "rendered-worker-3"); err == nil {
		t.Fatal("want the error")
	}
}

// The cluster-wide facts are read through the cache (watched in the webhook and the checker), never uncached, so
// creating the entitlement Secret shows at the next evaluation.
func TestClusterWideFactsAreReadThroughTheCache(t *testing.T) {
	var reads int
	var fail error
	cache := countingAPIServer(t, &reads, &fail,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: mco.EntitlementSecretNamespace, Name: mco.EntitlementSecretName}},
		&configv1.Image{ObjectMeta: metav1.ObjectMeta{Name: ImageConfigName}})
	c := &Cluster{Cached: cache, Direct: failingReader{t}}
	ctx := context.Background()
	sources, err := c.Entitlement(ctx)
	if err != nil || !sources.Secret || sources.YumRepos {
		t.Fatalf("entitlement: %+v, %v", sources, err)
	}
	if _, err := c.ImageConfig(ctx); err != nil {
		t.Fatal(err)
	}
	if policies, err := c.ClusterImagePolicies(ctx); err != nil || len(policies) != 0 {
		t.Fatalf("policies: %v, %v", policies, err)
	}
	if reads != 4 {
		t.Errorf("%d cached reads, want the two Secrets, the ConfigMap and image.config once each", reads)
	}
}

// A cluster without the config.openshift.io kinds (not OpenShift, or a release before ClusterImagePolicy) has
// nothing for the nodes to obey: not an error.
func TestConfigKindsNotServed(t *testing.T) {
	var reads int
	// What the RESTMapper answers for a kind the API server does not serve.
	var fail error = &meta.NoKindMatchError{GroupKind: configv1.GroupVersion.WithKind("Image").GroupKind()}
	c := &Cluster{Cached: countingAPIServer(t, &reads, &fail), Direct: failingReader{t}}
	if _, err := c.ImageConfig(context.Background()); !apierrors.IsNotFound(err) {
		t.Errorf("image.config: %v, want NotFound", err)
	}
	if p, err := c.ClusterImagePolicies(context.Background()); err != nil || p != nil {
		t.Errorf("policies: %v, %v", p, err)
	}
}

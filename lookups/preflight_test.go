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
	}).Build()
}

func TestFactsKeepWhatTheyExtractForTheirTTL(t *testing.T) {
	var reads int
	var fail error
	rendered := &mcfgv1.MachineConfig{ObjectMeta: metav1.ObjectMeta{Name: "rendered-worker-1"},
		Spec: mcfgv1.MachineConfigSpec{OSImageURL: "quay.io/os@sha256:1", BaseOSExtensionsContainerImage: "quay.io/ext@sha256:2"}}
	api := countingAPIServer(t, &reads, &fail, rendered,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: mco.EntitlementSecretNamespace, Name: mco.EntitlementSecretName}})
	now := time.Now()
	facts := NewFacts(validators.PreflightSettings{}, time.Minute)
	facts.now = func() time.Time { return now }
	c := &Cluster{Cached: api, Direct: api, Facts: facts}
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

	reads = 0
	if _, err := c.RenderedOSImages(ctx, "rendered-worker-2"); !apierrors.IsNotFound(err) {
		t.Fatalf("absent config: %v", err)
	}
	now = now.Add(2 * time.Minute) // past FactTTL, well within RenderedTTL
	if _, err := c.RenderedOSImages(ctx, "rendered-worker-2"); !apierrors.IsNotFound(err) || reads != 2 {
		t.Errorf("a missing rendered config is kept only for FactTTL: err %v, %d reads", err, reads)
	}

	reads = 0
	sources, err := c.Entitlement(ctx)
	if err != nil || !sources.Secret || sources.YumRepos {
		t.Fatalf("entitlement: %+v, %v", sources, err)
	}
	if _, err := c.Entitlement(ctx); err != nil || reads != 2 {
		t.Errorf("entitlement: %d reads (Secret and ConfigMap once each), err %v", reads, err)
	}

	reads, fail = 0, errors.New("connection refused")
	if _, err := c.ImageConfig(ctx); err == nil {
		t.Fatal("want the error")
	}
	fail = nil
	if _, err := c.ImageConfig(ctx); !apierrors.IsNotFound(err) || reads != 2 {
		t.Errorf("an error is not kept: err %v, %d reads", err, reads)
	}
}

// Without Facts every lookup reads, and the settings are the defaults.
func TestNilFactsReadEveryTime(t *testing.T) {
	var reads int
	var fail error
	api := countingAPIServer(t, &reads, &fail, &configv1.Image{ObjectMeta: metav1.ObjectMeta{Name: ImageConfigName}})
	c := &Cluster{Cached: api, Direct: api}
	for range 2 {
		if _, err := c.ImageConfig(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if reads != 2 || c.Preflight() != (validators.PreflightSettings{}) {
		t.Errorf("%d reads, settings %+v", reads, c.Preflight())
	}
}

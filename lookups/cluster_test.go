package lookups

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ocl-guard/ocl-guard/mco"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func scheme(t *testing.T) *runtime.Scheme {
	s := runtime.NewScheme()
	if err := corev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := mcfgv1.Install(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// A cache that has not seen a new Secret yet must not make the webhook deny.
func TestMissesAreConfirmedWithTheAPIServer(t *testing.T) {
	s := scheme(t)
	emptyCache := fake.NewClientBuilder().WithScheme(s).Build()
	apiServer := fake.NewClientBuilder().WithScheme(s).WithObjects(
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: mco.Namespace}},
		&mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: "worker"}},
	).Build()
	c := &Cluster{Cached: emptyCache, Direct: apiServer}
	if _, err := c.MCOSecret(context.Background(), "push"); err != nil {
		t.Errorf("secret: %v", err)
	}
	if _, err := c.MachineConfigPool(context.Background(), "worker"); err != nil {
		t.Errorf("pool: %v", err)
	}
	if _, err := c.MCOSecret(context.Background(), "absent"); !apierrors.IsNotFound(err) {
		t.Errorf("absent secret: err = %v, want NotFound", err)
	}
}

func TestHitsDoNotReachTheAPIServer(t *testing.T) {
	s := scheme(t)
	cache := fake.NewClientBuilder().WithScheme(s).WithObjects(
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: mco.Namespace}}).Build()
	c := &Cluster{Cached: cache, Direct: failingReader{t}}
	if _, err := c.MCOSecret(context.Background(), "push"); err != nil {
		t.Fatal(err)
	}
}

type failingReader struct{ t *testing.T }

func (f failingReader) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	f.t.Error("a cache hit went to the API server")
	return nil
}

func (f failingReader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	f.t.Error("unexpected list")
	return nil
}

// countingReader counts the reads that reach the API server.
type countingReader struct {
	client.Reader
	gets int
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.gets++
	return c.Reader.Get(ctx, key, obj, opts...)
}

// A burst of requests naming the same missing Secret (or AdmissionReviews posted directly) cost one GET per
// window, not one each.
func TestConfirmedMissesAreRememberedBriefly(t *testing.T) {
	s := scheme(t)
	emptyCache := fake.NewClientBuilder().WithScheme(s).Build()
	apiServer := &countingReader{Reader: fake.NewClientBuilder().WithScheme(s).Build()}
	now := time.Unix(0, 0)
	c := &Cluster{Cached: emptyCache, Direct: apiServer, Now: func() time.Time { return now }}
	ctx := context.Background()
	for range 50 {
		if _, err := c.MCOSecret(ctx, "absent"); !apierrors.IsNotFound(err) {
			t.Fatalf("err = %v, want NotFound", err)
		}
		if _, err := c.ClusterPullSecret(ctx); !apierrors.IsNotFound(err) {
			t.Fatalf("pull secret: err = %v, want NotFound", err)
		}
	}
	if apiServer.gets != 2 {
		t.Errorf("%d GETs for 100 lookups of two missing objects, want 2", apiServer.gets)
	}
	now = now.Add(DefaultAbsenceTTL)
	if _, err := c.MCOSecret(ctx, "absent"); !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if apiServer.gets != 3 {
		t.Errorf("after the window: %d GETs, want 3 (the miss asked again)", apiServer.gets)
	}
}

// Once the cache has an object, a remembered miss never hides it.
func TestARememberedMissNeverHidesACachedObject(t *testing.T) {
	s := scheme(t)
	cache := fake.NewClientBuilder().WithScheme(s).Build()
	c := &Cluster{Cached: cache, Direct: fake.NewClientBuilder().WithScheme(s).Build()}
	ctx := context.Background()
	if _, err := c.MCOSecret(ctx, "push"); !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if err := cache.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: mco.Namespace}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.MCOSecret(ctx, "push"); err != nil {
		t.Errorf("created after a miss: %v", err)
	}
}

func TestRememberedMissesAreBounded(t *testing.T) {
	a := &absences{ttl: time.Hour, now: time.Now}
	for i := range 3 * maxRememberedAbsences {
		a.remember(absenceKey{kind: "Secret", key: client.ObjectKey{Name: fmt.Sprint(i)}})
	}
	if len(a.expires) > maxRememberedAbsences {
		t.Errorf("%d misses remembered, at most %d allowed", len(a.expires), maxRememberedAbsences)
	}
}

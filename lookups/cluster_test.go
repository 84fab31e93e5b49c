package lookups

import (
	"context"
	"testing"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ocl-guard/ocl-guard/validators"
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
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: validators.MCONamespace}},
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
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: validators.MCONamespace}}).Build()
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

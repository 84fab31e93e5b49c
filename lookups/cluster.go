// Package lookups reads the facts the rules judge (validators.Source): from the API server's caches (Cluster) or
// from manifests (Files).
package lookups

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
)

// ClusterPullSecretKey locates the cluster pull secret.
var ClusterPullSecretKey = client.ObjectKey{Namespace: mco.ClusterPullSecretNamespace, Name: mco.ClusterPullSecretName}

// Cluster reads from the API server.
type Cluster struct {
	// Cached reads Secrets (cached in openshift-machine-config-operator, and openshift-config/pull-secret alone
	// through a field selector on its name) and MachineConfigPools.
	Cached client.Reader
	// Direct reads uncached; it confirms what the cache says is missing, and reads rendered MachineConfigs.
	Direct client.Reader
	// Facts reads the cluster-wide facts (image.config, ClusterImagePolicies, whether the entitlement Secret and
	// the repository ConfigMap exist): app.NewFactsCache in the webhook and the checker; nil reads them through
	// Cached.
	Facts client.Reader
	// AbsenceTTL is how long a confirmed miss is believed; DefaultAbsenceTTL when zero.
	AbsenceTTL time.Duration
	// Now is the clock of AbsenceTTL; time.Now when nil.
	Now func() time.Time

	initAbsences sync.Once
	absences     *absences
	// Rendered keeps the images read from rendered MachineConfigs (preflight.go); nil reads every time.
	Rendered *RenderedImages
}

var _ validators.Source = (*Cluster)(nil)

func (c *Cluster) MCOSecret(ctx context.Context, name string) (*corev1.Secret, error) {
	var s corev1.Secret
	if err := c.getConfirmingAbsence(ctx, client.ObjectKey{Namespace: mco.Namespace, Name: name}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// getConfirmingAbsence reads from the cache, and asks the API server before reporting an object missing: a Secret
// applied in the same `oc apply` as its MachineOSConfig may not have reached the cache yet, and denying on that
// would be wrong. Only misses cost a request, and misses are what the rules deny on.
//
// A confirmed miss is remembered for AbsenceTTL, so a burst of requests naming the same missing object costs one
// GET, not one each.
func (c *Cluster) getConfirmingAbsence(ctx context.Context, key client.ObjectKey, obj client.Object) error {
	err := c.Cached.Get(ctx, key, obj)
	if !apierrors.IsNotFound(err) || c.Direct == nil || c.Direct == c.Cached { // the CLI reads live through one client
		return err
	}
	miss := absenceKey{kind: fmt.Sprintf("%T", obj), key: key}
	known := c.confirmedAbsences()
	if known.confirmed(miss) {
		return apierrors.NewNotFound(schema.GroupResource{}, key.Name)
	}
	err = c.Direct.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		known.remember(miss)
	}
	return err
}

func (c *Cluster) confirmedAbsences() *absences {
	c.initAbsences.Do(func() {
		now := c.Now
		if now == nil {
			now = time.Now
		}
		c.absences = &absences{ttl: cmp.Or(c.AbsenceTTL, DefaultAbsenceTTL), now: now}
	})
	return c.absences
}

func (c *Cluster) ClusterPullSecret(ctx context.Context) (*corev1.Secret, error) {
	var s corev1.Secret
	if err := c.getConfirmingAbsence(ctx, ClusterPullSecretKey, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func (c *Cluster) MachineConfigPool(ctx context.Context, name string) (*mcfgv1.MachineConfigPool, error) {
	var p mcfgv1.MachineConfigPool
	if err := c.getConfirmingAbsence(ctx, client.ObjectKey{Name: name}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

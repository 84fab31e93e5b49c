package e2e

import (
	"context"
	"strings"
	"testing"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ocl-guard/ocl-guard/registry"
	"github.com/ocl-guard/ocl-guard/test/registry/registrytest"
	"github.com/ocl-guard/ocl-guard/validators"
	"github.com/ocl-guard/ocl-guard/validators/validatorstest"
)

// proberLookups wires the real prober into the rules, as the cluster lookups will.
type proberLookups struct {
	validatorstest.Facts
	prober *registry.Prober
	secret *corev1.Secret
}

func (l proberLookups) MCOSecret(_ context.Context, name string) (*corev1.Secret, error) {
	if name != l.secret.Name {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
	}
	return l.secret, nil
}

func (l proberLookups) ClusterPullSecret(context.Context) (*corev1.Secret, error) {
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, "pull-secret")
}

func (l proberLookups) MachineConfigPool(_ context.Context, name string) (*mcfgv1.MachineConfigPool, error) {
	return &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: name}}, nil
}

func (l proberLookups) ProbeRegistry(ctx context.Context, repository string, secret *corev1.Secret) registry.Result {
	return l.prober.ProbeWithSecret(ctx, repository, secret)
}

func TestRegistryRulesAgainstTheRealRegistry(t *testing.T) {
	reg := registrytest.StartToken(t)
	p := newProber(t, reg, false)
	mosc := &mcfgv1.MachineOSConfig{Spec: mcfgv1.MachineOSConfigSpec{
		RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "push"},
		RenderedImagePushSpec:   mcfgv1.ImageTagFormat(reg.Repository(repoPath) + ":latest"),
	}}
	secretFor := func(u registrytest.User) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "push", UID: types.UID("uid-" + u.Name), ResourceVersion: "1"},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data:       map[string][]byte{corev1.DockerConfigJsonKey: reg.DockerConfigJSON(u)},
		}
	}
	ctx := context.Background()

	writer := proberLookups{prober: p, secret: secretFor(registrytest.Writer)}
	for _, f := range []validators.Findings{validators.ValidatePushSpecReachable(ctx, mosc, writer), validators.ValidatePushSpecPushPermission(ctx, mosc, writer)} {
		if len(f.Errs) != 0 || len(f.Warnings) != 0 {
			t.Errorf("writer: %+v", f)
		}
	}

	reader := proberLookups{prober: p, secret: secretFor(registrytest.Reader)}
	f := validators.ValidatePushSpecPushPermission(ctx, mosc, reader)
	if len(f.Errs) != 1 || f.Errs[0].Field != "spec.renderedImagePushSecret.name" ||
		!strings.Contains(f.Errs[0].Detail, "credentials for "+reg.Host+" grant pull but not push on "+repoPath) {
		t.Errorf("reader: %+v", f)
	}

	reg.Stop()
	stopped := proberLookups{prober: p, secret: secretFor(registrytest.User{Name: "after-stop"})}
	f = validators.ValidatePushSpecReachable(ctx, mosc, stopped)
	if len(f.Errs) != 1 || f.Errs[0].Field != "spec.renderedImagePushSpec" ||
		!strings.Contains(f.Errs[0].Detail, "cannot reach registry "+reg.Host+": connection refused") {
		t.Errorf("stopped: %+v", f)
	}
}

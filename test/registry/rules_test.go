package e2e

import (
	"context"
	"strings"
	"testing"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ocl-guard/ocl-guard/registry"
	"github.com/ocl-guard/ocl-guard/test/registry/registrytest"
	"github.com/ocl-guard/ocl-guard/validators"
	"github.com/ocl-guard/ocl-guard/validators/validatorstest"
)

// proberCluster wires the real prober into the rules, with one Secret (named by its own name) in the MCO's
// namespace and any pool.
func proberCluster(p *registry.Prober, secret *corev1.Secret) *validatorstest.Cluster {
	return &validatorstest.Cluster{
		Secrets: map[string]*corev1.Secret{secret.Name: secret}, AnyPool: true,
		Push: p.ProbeWithSecret, Pull: p.ProbePullWithSecret, Delete: p.ProbeDeleteWithSecret,
	}
}

// checkRule runs one rule as Evaluate runs it.
func checkRule(ctx context.Context, rule func(context.Context, *validators.Input) validators.Findings, mosc *mcfgv1.MachineOSConfig, c *validatorstest.Cluster) validators.Findings {
	return validators.Check(ctx, rule, mosc, c.Env())
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

	writer := proberCluster(p, secretFor(registrytest.Writer))
	for _, f := range []validators.Findings{checkRule(ctx, validators.ValidatePushSpecReachable, mosc, writer), checkRule(ctx, validators.ValidatePushSpecPushPermission, mosc, writer)} {
		if len(f.Errs) != 0 || len(f.Warnings) != 0 {
			t.Errorf("writer: %+v", f)
		}
	}

	reader := proberCluster(p, secretFor(registrytest.Reader))
	f := checkRule(ctx, validators.ValidatePushSpecPushPermission, mosc, reader)
	if len(f.Errs) != 1 || f.Errs[0].Field != "spec.renderedImagePushSecret.name" ||
		!strings.Contains(f.Errs[0].Detail, "credentials for "+reg.Host+" grant pull but not push on "+repoPath) {
		t.Errorf("reader: %+v", f)
	}

	reg.Stop()
	stopped := proberCluster(p, secretFor(registrytest.User{Name: "after-stop"}))
	f = checkRule(ctx, validators.ValidatePushSpecReachable, mosc, stopped)
	if len(f.Errs) != 1 || f.Errs[0].Field != "spec.renderedImagePushSpec" ||
		!strings.Contains(f.Errs[0].Detail, "cannot reach registry "+reg.Host+": connection refused") {
		t.Errorf("stopped: %+v", f)
	}
}

package validators

import (
	"context"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/registry"
)

// A rule reads only the facts its Reads declare: a must-gather (PartialSource) judges a rule when the dump holds
// what it declares, and the webhook skips the rules that declare ProbesRegistry. So for every rule and every fact it
// does not declare, the fact is changed (unknown, missing, without data, the registry failing) and the rule must
// say exactly what it said before; and every change must move some rule, or it would prove nothing.
func TestRulesReadOnlyWhatTheyDeclare(t *testing.T) {
	ctx := context.Background()
	const ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	quay := goodConfig()
	quay.Spec.Containerfile[0].Content = "FROM registry.example.com/tools/builder:1 AS tools\nFROM configs AS final\nRUN dnf install -y tree && ostree container commit\n"
	onECR := goodConfig()
	onECR.Spec.RenderedImagePushSpec = ecr + "/acme/os:latest"
	prebuilt := goodConfig()
	prebuilt.Annotations = map[string]string{mco.AnnotationPreBuiltImage: "quay.io/acme/os@sha256:" + sha256Hex}
	configs := []*mcfgv1.MachineOSConfig{quay, onECR, prebuilt}

	// The push secret's credentials: for every registry the configs name, and a token that expires tomorrow.
	push := pushSecretFor("quay.io", ecr, "registry.example.com")
	expiring := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"exp":1796342400}`)) + ".c2ln" // 2026-12-04
	push.Data[corev1.DockerConfigJsonKey] = []byte(strings.Replace(string(push.Data[corev1.DockerConfigJsonKey]), `{"auths":{`,
		`{"auths":{"tokens.example.com":{"username":"ci","password":"`+expiring+`"},`, 1))
	cluster := newClusterFixture().withSecret(push)
	cluster.poolConfig = "rendered-worker-1"
	cluster.rendered = map[string]OSImages{"rendered-worker-1": {OSImageURL: "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" + sha256Hex}}
	cluster.now = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	env := Env{Source: cluster, Actions: func(RuleID) Action { return ActionDeny }, Now: cluster.clock}

	unknown := errors.New("perturbed: unknown")
	notFound := apierrors.NewNotFound(schema.GroupResource{Resource: "perturbed"}, "perturbed")
	withoutData := func(s Fact[*corev1.Secret]) Fact[*corev1.Secret] {
		if s.Err != nil {
			return s
		}
		empty := s.Value.DeepCopy()
		empty.Data = nil
		return Fact[*corev1.Secret]{Value: empty}
	}
	perturbations := []struct {
		name   string
		reads  Reads
		prober Prober // the evaluation's prober; nil leaves the registries unprobed, as in the baseline
		change func(f *Facts)
	}{
		{"the pool", ReadsPool, nil, func(f *Facts) { f.Pool = Fact[*mcfgv1.MachineConfigPool]{Err: notFound} }},
		{"the rendered config", ReadsRenderedConfig, nil, func(f *Facts) { f.OSImages = Fact[OSImages]{Err: notFound} }},
		{"the Secrets", ReadsSecrets, nil, func(f *Facts) {
			for name := range f.Secrets {
				f.Secrets[name] = Fact[*corev1.Secret]{Err: notFound}
			}
			f.ClusterPullSecret = Fact[*corev1.Secret]{Err: notFound}
		}},
		{"the Secrets' data", ReadsSecretData, nil, func(f *Facts) {
			for name, s := range f.Secrets {
				f.Secrets[name] = withoutData(s)
			}
			f.ClusterPullSecret = withoutData(f.ClusterPullSecret)
		}},
		{"a registry", ProbesRegistry, failingProber{}, func(*Facts) {}},
		{"the image policy", ReadsImagePolicy, nil, func(f *Facts) {
			f.ImageConfig.Err, f.ClusterImagePolicies.Err = unknown, unknown
		}},
		{"the entitlement", ReadsEntitlement, nil, func(f *Facts) { f.Entitlement = Fact[EntitlementSources]{Err: unknown} }},
	}
	for _, p := range perturbations {
		moved := false
		for _, rule := range Stage1Rules() {
			for _, mosc := range configs {
				before := rule.Validate(ctx, NewInput(ctx, mosc, env))
				perturbed := env
				perturbed.Prober = p.prober
				in := NewInput(ctx, mosc, perturbed)
				p.change(in.Facts)
				after := rule.Validate(ctx, in)
				if reflect.DeepEqual(before, after) {
					continue
				}
				moved = true
				if rule.Reads&p.reads == 0 {
					t.Errorf("%s (config %s) changes with %s, which its Reads do not declare:\nbefore %+v\nafter  %+v", rule.ID, mosc.Name, p.name, before, after)
				}
			}
		}
		if !moved {
			t.Errorf("changing %s moved no rule: the perturbation proves nothing", p.name)
		}
	}
}

const sha256Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// failingProber is a registry that refuses everything.
type failingProber struct{}

func (failingProber) ProbeWithSecret(context.Context, string, *corev1.Secret) registry.Result {
	return registry.Result{Reachable: registry.StatusFailed, ReachableDetail: "perturbed"}
}

func (failingProber) ProbePullWithSecret(context.Context, string, *corev1.Secret) registry.Result {
	return registry.Result{Reachable: registry.StatusFailed, ReachableDetail: "perturbed"}
}

func (failingProber) ProbeDeleteWithSecret(context.Context, string, *corev1.Secret) registry.Result {
	return registry.Result{Reachable: registry.StatusOK, Delete: registry.StatusFailed, DeleteDetail: "perturbed"}
}

func (failingProber) ProbeRepositoryWithSecret(context.Context, string, *corev1.Secret) registry.Result {
	return registry.Result{Reachable: registry.StatusOK, Pull: registry.StatusFailed, NotFound: true}
}

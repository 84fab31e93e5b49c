package validators

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/registry"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// probeLookups is a Lookups whose registry probe returns a fixed Result and records what it was asked.
type probeLookups struct {
	preflightFixture
	secret    *corev1.Secret
	secretErr error
	result    registry.Result
	probed    []string // repositories passed to ProbeRegistry
	probedFor []*corev1.Secret
}

func (l *probeLookups) MCOSecret(_ context.Context, name string) (*corev1.Secret, error) {
	if l.secretErr != nil {
		return nil, l.secretErr
	}
	if l.secret == nil || l.secret.Name != name {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
	}
	return l.secret, nil
}

func (l *probeLookups) ClusterPullSecret(context.Context) (*corev1.Secret, error) {
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, "pull-secret")
}

func (l *probeLookups) MachineConfigPool(_ context.Context, name string) (*mcfgv1.MachineConfigPool, error) {
	return &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: name}}, nil
}

func (l *probeLookups) ProbeWithSecret(_ context.Context, repository string, pushSecret *corev1.Secret) registry.Result {
	l.probed = append(l.probed, repository)
	l.probedFor = append(l.probedFor, pushSecret)
	return l.result
}

func registryRuleConfig(pushSpec string) *mcfgv1.MachineOSConfig {
	return &mcfgv1.MachineOSConfig{
		ObjectMeta: metav1.ObjectMeta{Name: "worker"},
		Spec: mcfgv1.MachineOSConfigSpec{
			MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: "worker"},
			RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "push"},
			RenderedImagePushSpec:   mcfgv1.ImageTagFormat(pushSpec),
		},
	}
}

func registryRuleSecret() *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "push", Namespace: mco.Namespace},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"registry.example:5000":{"auth":"cm9ib3Q6cHc="}}}`)},
	}
}

// registryRuleWant is what one rule should report: substrings of the single error and of the single warning.
type registryRuleWant struct {
	errField, errDetail string
	warning             string
}

func checkRegistryRule(t *testing.T, f Findings, w registryRuleWant) {
	t.Helper()
	switch {
	case w.errDetail == "" && len(f.Errs) != 0:
		t.Errorf("unexpected errors: %v", f.Errs)
	case w.errDetail != "" && len(f.Errs) != 1:
		t.Errorf("got %d errors %v, want one containing %q", len(f.Errs), f.Errs, w.errDetail)
	case w.errDetail != "":
		if f.Errs[0].Field != w.errField || !strings.Contains(f.Errs[0].Detail, w.errDetail) {
			t.Errorf("error %s: %q, want %s containing %q", f.Errs[0].Field, f.Errs[0].Detail, w.errField, w.errDetail)
		}
	}
	switch {
	case w.warning == "" && len(f.Warnings) != 0:
		t.Errorf("unexpected warnings: %q", f.Warnings)
	case w.warning != "" && (len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0], w.warning)):
		t.Errorf("warnings %q, want one containing %q", f.Warnings, w.warning)
	}
}

const (
	probeHost = "registry.example:5000"
	probeRepo = probeHost + "/ocl/os-image"
)

var (
	reachableOK      = registry.Result{Reachable: registry.StatusOK, ReachableDetail: probeHost + " answers /v2/ over HTTPS (Basic auth)"}
	reachableRefused = registry.Result{Reachable: registry.StatusFailed, ReachableDetail: "cannot reach registry " + probeHost + ": connection refused",
		Push: registry.StatusSkipped, PushDetail: "not checked: the registry API did not answer"}
	reachableTimeout = registry.Result{Reachable: registry.StatusUnknown, ReachableDetail: "could not reach " + probeHost + " within 3s",
		Push: registry.StatusSkipped, PushDetail: "not checked: the registry did not answer"}
)

func withPush(r registry.Result, status registry.Status, detail string, refused bool) registry.Result {
	r.Push, r.PushDetail, r.CredentialsRefused = status, detail, refused
	return r
}

func TestValidatePushSpecReachable(t *testing.T) {
	tests := []struct {
		name   string
		result registry.Result
		want   registryRuleWant
	}{
		{"reachable", withPush(reachableOK, registry.StatusOK, "granted push", false), registryRuleWant{}},
		{"reachable, push failed is the other rule's", withPush(reachableOK, registry.StatusFailed, "refused", true), registryRuleWant{}},
		{"connection refused", reachableRefused, registryRuleWant{
			errField:  "spec.renderedImagePushSpec",
			errDetail: "cannot reach registry " + probeHost + ": connection refused; builds push there, so fix the registry host and port",
		}},
		{"refused address", registry.Result{Reachable: registry.StatusFailed, Push: registry.StatusSkipped,
			ReachableDetail: "refused to connect to 169.254.169.254 (link-local/metadata address); allow it in settings if intended"},
			registryRuleWant{errField: "spec.renderedImagePushSpec", errDetail: "refused to connect to 169.254.169.254"}},
		{"no answer in time", reachableTimeout, registryRuleWant{warning: "could not reach " + probeHost + " within 3s: verdict unknown"}},
		{"not probed", registry.Result{Reachable: registry.StatusSkipped, Push: registry.StatusSkipped}, registryRuleWant{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &probeLookups{secret: registryRuleSecret(), result: tt.result}
			f := validate(context.Background(), ValidatePushSpecReachable, registryRuleConfig(probeRepo+":latest"), l)
			checkRegistryRule(t, f, tt.want)
			// The probe gets the push secret as the MCO hands it to the build (canonical layout), not a copy of it.
			if len(l.probed) != 1 || l.probed[0] != probeRepo || l.probedFor[0].Name != l.secret.Name ||
				string(l.probedFor[0].Data[".dockerconfigjson"]) != string(l.secret.Data[".dockerconfigjson"]) {
				t.Errorf("probed %v with %v, want %s with the push secret", l.probed, l.probedFor, probeRepo)
			}
		})
	}
}

func TestValidatePushSpecPushPermission(t *testing.T) {
	tests := []struct {
		name   string
		result registry.Result
		want   registryRuleWant
	}{
		{"push granted", withPush(reachableOK, registry.StatusOK, "the token service of "+probeHost+" granted push on ocl/os-image", false), registryRuleWant{}},
		{"credentials refused", withPush(reachableOK, registry.StatusFailed, probeHost+" refused the push secret's credentials (HTTP 401 on /v2/)", true),
			registryRuleWant{errField: "spec.renderedImagePushSecret.name",
				errDetail: "refused the push secret's credentials (HTTP 401 on /v2/); update the credentials for " + probeHost + " in Secret " + mco.Namespace + "/push"}},
		{"pull only", withPush(reachableOK, registry.StatusFailed, "credentials for "+probeHost+" grant pull but not push on ocl/os-image", false),
			registryRuleWant{errField: "spec.renderedImagePushSecret.name",
				errDetail: "grant pull but not push on ocl/os-image; use credentials that may push to " + probeRepo}},
		{"unverified by design: no warning", withPush(reachableOK, registry.StatusUnknown,
			"credentials accepted by "+probeHost+" (HTTP 200 on /v2/); push right on ocl/os-image not verified without the write probe", false), registryRuleWant{}},
		{"unknown with a reason: short warning", withPush(reachableOK, registry.StatusUnknown, "getting a token at "+probeHost+" did not finish within 3s", false),
			registryRuleWant{warning: "push to " + probeRepo + " not verified: getting a token at " + probeHost + " did not finish within 3s"}},
		{"unknown without detail", withPush(reachableOK, registry.StatusUnknown, "", false), registryRuleWant{}},
		{"no credentials for the host is secret-registry-auth's", withPush(reachableOK, registry.StatusSkipped, "not checked: the push secret holds no credentials for "+probeHost, false), registryRuleWant{}},
		{"unreachable is pushspec-reachable's", reachableRefused, registryRuleWant{}},
		{"timeout is pushspec-reachable's", reachableTimeout, registryRuleWant{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &probeLookups{secret: registryRuleSecret(), result: tt.result}
			f := validate(context.Background(), ValidatePushSpecPushPermission, registryRuleConfig(probeRepo+":latest"), l)
			checkRegistryRule(t, f, tt.want)
		})
	}
}

func TestRegistryRulesSkipWhatOtherRulesReport(t *testing.T) {
	failing := reachableRefused
	tests := []struct {
		name     string
		pushSpec string
		secret   *corev1.Secret
		err      error
		mutate   func(*mcfgv1.MachineOSConfig)
	}{
		{"push spec does not parse", "Registry.Example/UPPER:latest", registryRuleSecret(), nil, nil},
		{"push spec without host", "os-image:latest", registryRuleSecret(), nil, nil},
		{"secret missing", probeRepo + ":latest", nil, nil, nil},
		{"secret unreadable", probeRepo + ":latest", registryRuleSecret(), errors.New("etcd is down"), nil},
		{"secret name empty", probeRepo + ":latest", registryRuleSecret(), nil, func(m *mcfgv1.MachineOSConfig) { m.Spec.RenderedImagePushSecret.Name = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mosc := registryRuleConfig(tt.pushSpec)
			if tt.mutate != nil {
				tt.mutate(mosc)
			}
			for _, rule := range []func(context.Context, *Input) Findings{ValidatePushSpecReachable, ValidatePushSpecPushPermission} {
				l := &probeLookups{secret: tt.secret, secretErr: tt.err, result: failing}
				f := validate(context.Background(), rule, mosc, l)
				if len(f.Errs) != 0 || len(f.Warnings) != 0 || len(l.probed) != 0 {
					t.Errorf("findings %+v after probing %v; want nothing and no probe", f, l.probed)
				}
			}
		})
	}
}

// Both registry rules share one probe per evaluation: a probe that runs out of budget is not cached by the prober,
// and waiting for it twice would double the admission's worst case.
func TestEvaluateProbesTheRegistryOnce(t *testing.T) {
	l := &probeLookups{secret: registryRuleSecret(), result: reachableTimeout}
	evaluate(context.Background(), registryRuleConfig(probeRepo+":latest"), l, func(RuleID) Action { return ActionDeny })
	if len(l.probed) != 1 {
		t.Fatalf("probed %d times, want once: %v", len(l.probed), l.probed)
	}
}

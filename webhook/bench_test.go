package webhook

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/registry"
	"github.com/ocl-guard/ocl-guard/validators"
	"github.com/ocl-guard/ocl-guard/validators/validatorstest"
)

// goodCluster has the secrets and pool of the benchmarks' config; the push probe is a cache hit, as in the steady
// state.
func goodCluster() *validatorstest.Cluster {
	secret := func(name string) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: mco.Namespace},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"quay.io":{"auth":"cm9ib3Q6cGFzc3dvcmQ="}}}`)},
		}
	}
	return &validatorstest.Cluster{
		Secrets: map[string]*corev1.Secret{"push": secret("push"), "pull": secret("pull")},
		AnyPool: true,
		Push: func(context.Context, string, *corev1.Secret) registry.Result {
			return registry.Result{Reachable: registry.StatusOK, Push: registry.StatusOK, Cached: true}
		},
	}
}

func denyAll(validators.RuleID) validators.Action { return validators.ActionDeny }

func envOf(c *validatorstest.Cluster) validators.Env {
	env := c.Env()
	env.Actions = denyAll
	return env
}

// BenchmarkAdmitMachineOSConfig is the webhook's own cost for one CREATE of a valid config: decoding, every rule
// (the Containerfile parse and the keychain match included), and the response. Lookups are in memory and the
// registry verdict is a cache hit, as in the steady state.
func BenchmarkAdmitMachineOSConfig(b *testing.B) {
	scheme := runtime.NewScheme()
	if err := mcfgv1.Install(scheme); err != nil {
		b.Fatal(err)
	}
	v := NewValidator(scheme, envOf(goodCluster()), NewMetrics())
	mosc := mcfgv1.MachineOSConfig{
		TypeMeta:   metav1.TypeMeta{APIVersion: "machineconfiguration.openshift.io/v1", Kind: "MachineOSConfig"},
		ObjectMeta: metav1.ObjectMeta{Name: "worker"},
		Spec: mcfgv1.MachineOSConfigSpec{
			MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: "worker"},
			ImageBuilder:            mcfgv1.MachineOSImageBuilder{ImageBuilderType: "Job"},
			BaseImagePullSecret:     &mcfgv1.ImageSecretObjectReference{Name: "pull"},
			RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "push"},
			RenderedImagePushSpec:   "quay.io/acme/os:latest",
			Containerfile: []mcfgv1.MachineOSContainerfile{{ContainerfileArch: mcfgv1.NoArch,
				Content: "FROM configs AS final\nRUN rpm-ostree install tree htop && \\\n    ostree container commit\n"}},
		},
	}
	raw, err := json.Marshal(mosc)
	if err != nil {
		b.Fatal(err)
	}
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		Kind: moscKind, Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw},
	}}
	b.ReportAllocs()
	for b.Loop() {
		if resp := v.Handle(context.Background(), req); !resp.Allowed {
			b.Fatalf("denied: %v", resp.Result)
		}
	}
}

// preflightCluster is goodCluster with every preflight fact present: a rendered pool, image policy to match
// against, and registry answers that are cache hits, as in the steady state.
func preflightCluster() *validatorstest.Cluster {
	cachedOK := func(context.Context, string, *corev1.Secret) registry.Result {
		return registry.Result{Reachable: registry.StatusOK, Pull: registry.StatusOK, Delete: registry.StatusOK, Cached: true}
	}
	c := goodCluster()
	pool := &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: "worker"}}
	pool.Spec.Configuration.Name = "rendered-worker-1"
	c.Pools = map[string]*mcfgv1.MachineConfigPool{"worker": pool}
	c.Rendered = map[string]validators.OSImages{"rendered-worker-1": {
		OSImageURL:      "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" + strings.Repeat("a", 64),
		ExtensionsImage: "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" + strings.Repeat("b", 64),
	}}
	c.ImageCfg = &configv1.Image{Spec: configv1.ImageSpec{RegistrySources: configv1.RegistrySources{AllowedRegistries: []string{"quay.io", "registry.redhat.io"}}}}
	c.Policies = []configv1.ClusterImagePolicy{{Spec: configv1.ClusterImagePolicySpec{Scopes: []configv1.ImageScope{"registry.redhat.io/signed"}}}}
	c.Pull, c.Delete = cachedOK, cachedOK
	return c
}

// BenchmarkAdmitMachineOSConfigAllRules is BenchmarkAdmitMachineOSConfig with every rule on, the preflight rules
// included, and every lookup answered: the rendered pool's two base images, an extra Containerfile image and a
// pre-built image are probed (cache hits), image policy and entitlement are checked, and the MCO's Containerfile
// validation runs beside buildkit's.
func BenchmarkAdmitMachineOSConfigAllRules(b *testing.B) {
	scheme := runtime.NewScheme()
	if err := mcfgv1.Install(scheme); err != nil {
		b.Fatal(err)
	}
	v := NewValidator(scheme, envOf(preflightCluster()), NewMetrics())
	mosc := mcfgv1.MachineOSConfig{
		TypeMeta: metav1.TypeMeta{APIVersion: "machineconfiguration.openshift.io/v1", Kind: "MachineOSConfig"},
		ObjectMeta: metav1.ObjectMeta{Name: "worker", Annotations: map[string]string{
			mco.AnnotationPreBuiltImage: "quay.io/acme/os@sha256:" + strings.Repeat("c", 64)}},
		Spec: mcfgv1.MachineOSConfigSpec{
			MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: "worker"},
			ImageBuilder:            mcfgv1.MachineOSImageBuilder{ImageBuilderType: "Job"},
			BaseImagePullSecret:     &mcfgv1.ImageSecretObjectReference{Name: "pull"},
			RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "push"},
			RenderedImagePushSpec:   "quay.io/acme/os:latest",
			Containerfile: []mcfgv1.MachineOSContainerfile{{ContainerfileArch: mcfgv1.NoArch,
				Content: "FROM configs AS final\nCOPY --from=quay.io/acme/tools:1 /usr/bin/tool /usr/bin/tool\n" +
					"RUN rpm-ostree install tree htop && \\\n    ostree container commit\n"}},
		},
	}
	raw, err := json.Marshal(mosc)
	if err != nil {
		b.Fatal(err)
	}
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		Kind: moscKind, Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw},
	}}
	if resp := v.Handle(context.Background(), req); !resp.Allowed || len(resp.Warnings) != 1 {
		b.Fatalf("want admitted with only the tag notice: %v %q", resp.Result, resp.Warnings)
	}
	b.ReportAllocs()
	for b.Loop() {
		if resp := v.Handle(context.Background(), req); !resp.Allowed {
			b.Fatalf("denied: %v", resp.Result)
		}
	}
}

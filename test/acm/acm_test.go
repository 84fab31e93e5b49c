package acm

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"open-cluster-management.io/config-policy-controller/pkg/dryrun"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/config/acm"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/test/testbed"
	"github.com/ocl-guard/ocl-guard/validators"
)

var _ = Describe("config/acm", Ordered, func() {
	var hub, observability []*unstructured.Unstructured

	BeforeAll(func() {
		var err error
		hub, err = testbed.Render(configDir("acm"))
		Expect(err).NotTo(HaveOccurred())
		observability, err = testbed.Render(configDir("acm", "observability"))
		Expect(err).NotTo(HaveOccurred())
	})

	It("creates every hub object against the real Open Cluster Management CRDs, references resolving", func() {
		kinds := map[string][]string{}
		for _, obj := range append(slices.Clone(hub), observability...) {
			Expect(kube.Create(ctx, obj.DeepCopy())).To(Succeed(), "%s %s", obj.GetKind(), obj.GetName())
			kinds[obj.GetKind()] = append(kinds[obj.GetKind()], obj.GetName())
		}
		Expect(kinds).To(Equal(map[string][]string{
			"Namespace":                {acm.Namespace},
			"ManagedClusterSetBinding": {"default"},
			"Placement":                {"ocl-guard-image-mode"},
			"PlacementBinding":         {"ocl-guard-image-mode"},
			"Policy":                   {acm.InstallPolicyName, "ocl-guard-policyreport"},
			"ConfigMap":                {"observability-metrics-custom-allowlist"},
		}))
		// The binding binds the rendered Placement to both rendered Policies; the Placement selects from the bound set.
		binding := find(hub, "PlacementBinding", "ocl-guard-image-mode")
		Expect(binding.Object["placementRef"]).To(Equal(map[string]any{
			"apiGroup": "cluster.open-cluster-management.io", "kind": "Placement", "name": "ocl-guard-image-mode"}))
		subjects, _, _ := unstructured.NestedSlice(binding.Object, "subjects")
		var bound []string
		for _, s := range subjects {
			Expect(s).To(HaveKeyWithValue("kind", "Policy"))
			bound = append(bound, s.(map[string]any)["name"].(string))
		}
		Expect(bound).To(ConsistOf(acm.InstallPolicyName, "ocl-guard-policyreport"))
		sets, _, _ := unstructured.NestedStringSlice(find(hub, "Placement", "ocl-guard-image-mode").Object, "spec", "clusterSets")
		for _, set := range sets {
			clusterSet, _, _ := unstructured.NestedString(find(hub, "ManagedClusterSetBinding", set).Object, "spec", "clusterSet")
			Expect(clusterSet).To(Equal(set))
		}
		for _, obj := range hub {
			if obj.GetNamespace() != "" {
				Expect(obj.GetNamespace()).To(Equal(acm.Namespace), "%s %s", obj.GetKind(), obj.GetName())
			}
		}
	})

	It("creates every ConfigurationPolicy the Policies carry against the managed cluster's CRD", func() {
		n := 0
		for _, policy := range kindOf(hub, "Policy") {
			for _, cp := range configurationPolicies(policy) {
				cp.SetNamespace(acm.Namespace) // the managed cluster's namespace on a real one
				Expect(kube.Create(ctx, cp, client.DryRunAll)).To(Succeed(), "%s/%s", policy.GetName(), cp.GetName())
				n++
			}
		}
		Expect(n).To(Equal(3))
	})

	It("installs ocl-guard: the install Policy's objects are valid, and once present the policy engine finds them Compliant", func() {
		install := find(hub, "Policy", acm.InstallPolicyName)
		compliant, messages := evaluate(install)
		Expect(compliant).To(BeFalse(), "nothing is installed yet: %s", messages)

		objs := objectTemplates(configurationPolicies(install)[0])
		seen := map[string]bool{}
		for _, obj := range objs {
			key := obj.GetKind() + "/" + obj.GetNamespace() + "/" + obj.GetName()
			Expect(seen).NotTo(HaveKey(key), "twice in the install Policy")
			seen[key] = true
			// What the ConfigurationPolicy would create on the managed cluster (remediationAction enforce).
			Expect(kube.Create(ctx, obj.DeepCopy())).To(Succeed(), key)
		}
		Expect(seen).To(HaveKey("ValidatingAdmissionPolicy//ocl-guard-syntax"), "the audit profile with config/vap")
		Expect(seen).To(HaveKey("ServiceMonitor/ocl-guard/ocl-guard"), "config/prometheus")
		Expect(find(objs, "Namespace", "ocl-guard").GetLabels()).To(HaveKeyWithValue(acm.MonitoringLabel, "true"))

		compliant, messages = evaluate(install)
		Expect(compliant).To(BeTrue(), messages)
		// The webhook does not run here; its Service would not answer (failurePolicy Ignore would wait for each call).
		Expect(kube.Delete(ctx, find(objs, "ValidatingWebhookConfiguration", "ocl-guard"))).To(Succeed())
	})

	Describe("the ClusterPolicyReport Policy", Ordered, func() {
		var (
			report, named, crd *unstructured.Unstructured
			poolName           = "worker"
			mosc               *mcfgv1.MachineOSConfig
		)

		BeforeAll(func() {
			templates := configurationPolicies(find(hub, "Policy", "ocl-guard-policyreport"))
			Expect(templates).To(HaveLen(2))
			report, crd = templates[0], templates[1]
			// What the stock policy with metadata.name added would be: the tempting way to scope it.
			named = report.DeepCopy()
			tmpls, _, _ := unstructured.NestedSlice(named.Object, "spec", "object-templates")
			t := tmpls[0].(map[string]any)
			delete(t, "objectSelector")
			Expect(unstructured.SetNestedField(t, checker.PolicyReportName, "objectDefinition", "metadata", "name")).To(Succeed())
			Expect(unstructured.SetNestedSlice(named.Object, tmpls, "spec", "object-templates")).To(Succeed())

			settings := config.Defaults()
			settings.Checker.AuditResync = metav1.Duration{Duration: time.Second}
			mgr, err := app.NewCheckerManager(cfg, app.CheckerOptions{Registry: checkerMetrics,
				Settings: settings, MetricsAddr: "0", ProbeAddr: "0", LeaderElectionNamespace: "ocl-guard", // no Prober: no registry is probed
			})
			Expect(err).NotTo(HaveOccurred())
			runCtx, stop := context.WithCancel(ctx)
			DeferCleanup(stop)
			go func() {
				defer GinkgoRecover()
				Expect(mgr.Start(runCtx)).To(Succeed())
			}()

			Expect(kube.Create(ctx, newPool(poolName))).To(Succeed())
			Expect(kube.Create(ctx, dockerConfigSecret("pull-secret", "registry.redhat.io"))).To(Succeed())
			mosc = &mcfgv1.MachineOSConfig{
				ObjectMeta: metav1.ObjectMeta{Name: poolName},
				Spec: mcfgv1.MachineOSConfigSpec{
					MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: poolName},
					ImageBuilder:            mcfgv1.MachineOSImageBuilder{ImageBuilderType: mcfgv1.JobBuilder},
					BaseImagePullSecret:     &mcfgv1.ImageSecretObjectReference{Name: "pull-secret"},
					RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "push-secret"}, // not there yet
					RenderedImagePushSpec:   "quay.io/acme/os-image:latest",
					Containerfile: []mcfgv1.MachineOSContainerfile{{
						ContainerfileArch: mcfgv1.NoArch,
						Content:           "FROM configs AS final\nRUN rpm-ostree install tree && ostree container commit\n",
					}},
				},
			}
			Expect(kube.Create(ctx, mosc)).To(Succeed())
		})

		It("is NonCompliant while a deny rule fails on a MachineOSConfig (the checker's report holds result fail)", func() {
			Eventually(resultsOf).WithTimeout(60 * time.Second).Should(ContainElement(SatisfyAll(
				HaveKeyWithValue("rule", string(validators.RuleSecretExists)), HaveKeyWithValue("result", "fail"))))
			compliant, messages := evaluate(report)
			Expect(compliant).To(BeFalse(), messages)
			Expect(messages).To(ContainSubstring("violation - clusterpolicyreports [ocl-guard] found"))
			compliant, messages = evaluate(crd)
			Expect(compliant).To(BeTrue(), messages)
		})

		It("collects every gauge ocl-guard registers through the Observability allowlist, and only those", func() {
			// The checker now holds a ConfigCheckFailed diagnosis, so its gauge has a sample to gather.
			Eventually(gauges).Should(ContainElement(checker.MetricDiagnosedObjects))
			Expect(allowlisted(find(observability, "ConfigMap", "observability-metrics-custom-allowlist"))).To(ConsistOf(gauges()))
		})

		It("is Compliant once only warnings remain, where a report matched by name would stay NonCompliant", func() {
			Expect(kube.Create(ctx, dockerConfigSecret("push-secret", "quay.io"))).To(Succeed())
			Eventually(resultsOf).WithTimeout(60 * time.Second).ShouldNot(ContainElement(HaveKeyWithValue("result", "fail")))
			Expect(resultsOf()).To(ContainElement(SatisfyAll(
				HaveKeyWithValue("rule", string(validators.RulePushSpecSyntax)), HaveKeyWithValue("result", "warn"))),
				"the report still has warnings")
			compliant, messages := evaluate(report)
			Expect(compliant).To(BeTrue(), messages)

			compliant, messages = evaluate(named)
			Expect(compliant).To(BeFalse(), "a named mustnothave is about existence only: %s", messages)
		})

		It("is NonCompliant again when a deny rule fails again, and says when the report's CRD is missing", func() {
			Expect(kube.Delete(ctx, dockerConfigSecret("push-secret", "quay.io"))).To(Succeed())
			Eventually(resultsOf).WithTimeout(60 * time.Second).Should(ContainElement(HaveKeyWithValue("result", "fail")))
			compliant, messages := evaluate(report)
			Expect(compliant).To(BeFalse(), messages)

			// Read against a CRD that is not there: the second template of the Policy reports it.
			missing := crd.DeepCopy()
			tmpls, _, _ := unstructured.NestedSlice(missing.Object, "spec", "object-templates")
			Expect(unstructured.SetNestedField(tmpls[0].(map[string]any), "clusterpolicyreports.example.com", "objectDefinition", "metadata", "name")).To(Succeed())
			Expect(unstructured.SetNestedSlice(missing.Object, tmpls, "spec", "object-templates")).To(Succeed())
			compliant, messages = evaluate(missing)
			Expect(compliant).To(BeFalse(), messages)
		})
	})
})

// evaluate runs the policy framework's engine on a Policy or ConfigurationPolicy against the API server, read-only
// (config-policy-controller's `dryrun --from-cluster`, which evaluates with remediationAction inform): Compliant or
// not, and the compliance messages.
func evaluate(policy *unstructured.Unstructured) (compliant bool, messages string) {
	GinkgoHelper()
	data, err := yaml.Marshal(policy.Object)
	Expect(err).NotTo(HaveOccurred())
	dir := GinkgoT().TempDir()
	path := filepath.Join(dir, "policy.yaml")
	Expect(os.WriteFile(path, data, 0o600)).To(Succeed())
	out := filepath.Join(dir, "messages")
	cmd := (&dryrun.DryRunner{}).GetCmd()
	var printed bytes.Buffer
	cmd.SetOut(&printed)
	cmd.SetErr(&printed)
	cmd.SetArgs([]string{"--policy", path, "--from-cluster", "--no-colors", "--messages-path", out})
	err = cmd.ExecuteContext(ctx)
	if err != nil && !errors.Is(err, dryrun.ErrNonCompliant) {
		Fail(fmt.Sprintf("dryrun: %v\n%s", err, printed.String()))
	}
	msgs, readErr := os.ReadFile(out)
	Expect(readErr).NotTo(HaveOccurred())
	return err == nil, string(msgs) + printed.String()
}

// configurationPolicies are the ConfigurationPolicies a Policy carries.
func configurationPolicies(policy *unstructured.Unstructured) []*unstructured.Unstructured {
	GinkgoHelper()
	templates, _, err := unstructured.NestedSlice(policy.Object, "spec", "policy-templates")
	Expect(err).NotTo(HaveOccurred())
	var out []*unstructured.Unstructured
	for _, t := range templates {
		def := t.(map[string]any)["objectDefinition"].(map[string]any)
		Expect(def).To(HaveKeyWithValue("kind", "ConfigurationPolicy"))
		out = append(out, &unstructured.Unstructured{Object: def})
	}
	return out
}

func objectTemplates(cp *unstructured.Unstructured) []*unstructured.Unstructured {
	GinkgoHelper()
	templates, _, err := unstructured.NestedSlice(cp.Object, "spec", "object-templates")
	Expect(err).NotTo(HaveOccurred())
	var out []*unstructured.Unstructured
	for _, t := range templates {
		Expect(t).To(HaveKeyWithValue("complianceType", "musthave"))
		out = append(out, &unstructured.Unstructured{Object: t.(map[string]any)["objectDefinition"].(map[string]any)})
	}
	return out
}

// resultsOf are the results of ocl-guard's ClusterPolicyReport.
func resultsOf() []any {
	report := &unstructured.Unstructured{}
	report.SetGroupVersionKind(checker.ClusterPolicyReportGVK)
	if err := kube.Get(ctx, client.ObjectKey{Name: checker.PolicyReportName}, report); err != nil {
		return nil
	}
	results, _, _ := unstructured.NestedSlice(report.Object, "results")
	return results
}

// gauges are the names of the gauges ocl-guard's processes register and serve now.
// checkerMetrics is the registry the specs' checker registers its metrics with, as the binary registers them with
// the one its metrics endpoint serves.
var checkerMetrics = prometheus.NewRegistry()

func gauges() []string {
	families, err := checkerMetrics.Gather()
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "ocl_guard_") && f.GetType() == dto.MetricType_GAUGE {
			out = append(out, f.GetName())
		}
	}
	return out
}

// allowlisted reads the allowlist ConfigMap as ACM Observability does (stolostron/multicluster-observability-operator,
// operators/pkg/config/types.go, MetricsAllowlist), refusing unknown keys, and returns its names.
func allowlisted(cm *unstructured.Unstructured) []string {
	GinkgoHelper()
	data, _, _ := unstructured.NestedString(cm.Object, "data", "metrics_list.yaml")
	var list struct {
		Names          []string          `json:"names"`
		Matches        []string          `json:"matches"`
		Renames        map[string]string `json:"renames"`
		RecordingRules []any             `json:"recording_rules"`
		CollectRules   []any             `json:"collect_rules"`
	}
	Expect(yaml.UnmarshalStrict([]byte(data), &list)).To(Succeed())
	Expect(list.Names).NotTo(BeEmpty())
	return list.Names
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	GinkgoHelper()
	for _, obj := range objs {
		if obj.GetKind() == kind && obj.GetName() == name {
			return obj
		}
	}
	Fail(fmt.Sprintf("no %s %s rendered", kind, name))
	return nil
}

func kindOf(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, obj := range objs {
		if obj.GetKind() == kind {
			out = append(out, obj)
		}
	}
	return out
}

func configDir(elem ...string) string {
	return filepath.Join(append([]string{testbed.RepoRoot(), "config"}, elem...)...)
}

func newPool(name string) *mcfgv1.MachineConfigPool {
	return &mcfgv1.MachineConfigPool{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: mcfgv1.MachineConfigPoolSpec{
			MachineConfigSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"machineconfiguration.openshift.io/role": name}},
			NodeSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{"node-role.kubernetes.io/" + name: ""}},
		},
	}
}

// dockerConfigSecret holds a made-up credential for registry.
func dockerConfigSecret(name, registry string) *corev1.Secret {
	auth := base64.StdEncoding.EncodeToString([]byte("robot:not-a-real-password"))
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: mco.Namespace},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, registry, auth)},
	}
}

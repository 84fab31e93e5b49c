package install

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/status"
	"github.com/ocl-guard/ocl-guard/test/testbed"
	"github.com/ocl-guard/ocl-guard/validators"
)

// notInstallable are kinds whose CRDs no module of this project ships; their objects are rendered and reported,
// not created.
var notInstallable = map[string]string{
	"monitoring.coreos.com/ServiceMonitor": "prometheus-operator's CRDs are not in any Go module this project requires",
	"monitoring.coreos.com/PrometheusRule": "prometheus-operator's CRDs are not in any Go module this project requires",
}

var _ = Describe("The rendered manifests", Ordered, func() {
	var (
		env  *envtest.Environment
		kube client.Client
		cfg  *rest.Config
		ctx  = context.Background()
	)

	BeforeAll(func() {
		var err error
		env, err = testbed.ControlPlane(
			// cert-manager's CRDs as its module ships them (deploy/crds), for the cert-manager overlay.
			filepath.Join(moduleDir("github.com/cert-manager/cert-manager"), "deploy", "crds"),
			// The Open Cluster Management hub's CRDs, for config/acm (vendored: test/crds/open-cluster-management.io).
			filepath.Join("test", "crds", "open-cluster-management.io"),
		)
		Expect(err).NotTo(HaveOccurred())
		cfg, err = env.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(env.Stop)
		scheme, err := app.Scheme()
		Expect(err).NotTo(HaveOccurred())
		kube, err = client.New(cfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		// And ACM Observability's on a hub.
		Expect(testbed.CreateNamespaces(ctx, kube, "open-cluster-management-observability")).To(Succeed())
	})

	It("are valid for the API server, kustomization by kustomization", func() {
		dirs := kustomizations()
		Expect(dirs).To(ContainElements(configDir("default"), configDir("samples"), configDir("overlays", "audit"),
			configDir("overlays", "cert-manager"), configDir("overlays", "self-managed"), configDir("vap"), configDir("acm"),
			configDir("acm", "observability")))
		skipped := map[string]int{}
		for _, dir := range dirs {
			objs := render(dir)
			Expect(objs).NotTo(BeEmpty(), dir)
			if slices.ContainsFunc(objs, func(o *unstructured.Unstructured) bool { return o.GetKind() == "Namespace" }) {
				expectReferencesResolve(dir, objs) // a whole install, not one of its parts (config/manager, ...)
			}
			// Namespaces for real (namespaced objects need theirs), everything else as a server-side dry run:
			// full validation, including CRD schemas, and the overlays do not collide with each other.
			for _, obj := range objs {
				if obj.GetKind() == "Namespace" {
					if err := kube.Create(ctx, obj); !apierrors.IsAlreadyExists(err) {
						Expect(err).NotTo(HaveOccurred(), "%s: Namespace %s", dir, obj.GetName())
					}
				}
			}
			for _, obj := range objs {
				kind := obj.GroupVersionKind().GroupKind().String()
				if reason, ok := notInstallable[obj.GroupVersionKind().Group+"/"+obj.GetKind()]; ok {
					skipped[kind+": "+reason]++
					continue
				}
				if obj.GetKind() != "Namespace" {
					Expect(kube.Create(ctx, obj.DeepCopy(), client.DryRunAll)).To(Succeed(), "%s: %s %s/%s", rel(dir), kind, obj.GetNamespace(), obj.GetName())
				}
			}
		}
		for what, n := range skipped {
			AddReportEntry("not created (no CRD)", fmt.Sprintf("%d× %s", n, what))
		}
	})

	It("configure what the profiles promise", func() {
		Expect(failurePolicyOf(render(configDir("default")))).To(Equal(admissionregistrationv1.Fail))
		Expect(failurePolicyOf(render(configDir("overlays", "audit")))).To(Equal(admissionregistrationv1.Ignore))
		// The audit profile keeps the lookup-free rules in the API server (config/vap); enforcing has the webhook.
		Expect(policyBindings(render(configDir("overlays", "audit")))).To(Equal(map[string][]admissionregistrationv1.ValidationAction{
			"ocl-guard-syntax": {admissionregistrationv1.Deny}, "ocl-guard-syntax-warn": {admissionregistrationv1.Warn},
		}))
		Expect(policyBindings(render(configDir("default")))).To(BeEmpty())
		cm := render(configDir("overlays", "cert-manager"))
		Expect(find(cm, "ValidatingWebhookConfiguration", "ocl-guard").GetAnnotations()).To(Equal(map[string]string{"cert-manager.io/inject-ca-from": "ocl-guard/ocl-guard-webhook"}))
		Expect(find(cm, "Certificate", "ocl-guard-webhook").Object).To(HaveKeyWithValue("spec", HaveKeyWithValue("secretName", "ocl-guard-webhook-tls")))
		self := render(configDir("overlays", "self-managed"))
		Expect(find(self, "ValidatingWebhookConfiguration", "ocl-guard").GetAnnotations()).To(BeEmpty())
		// Neither overlay may depend on OpenShift's service CA.
		for _, objs := range [][]*unstructured.Unstructured{cm, self} {
			for _, obj := range objs {
				for key := range obj.GetAnnotations() {
					Expect(key).NotTo(HavePrefix("service.beta.openshift.io/"), "%s %s", obj.GetKind(), obj.GetName())
				}
			}
		}
		// The self-managed args are config/manager's without the certificate directories, plus --cert-mode=self.
		base := render(configDir("default"))
		for _, name := range []string{"webhook", "checker"} {
			want := slices.DeleteFunc(slices.Clone(container(base, name).Args), func(a string) bool {
				return strings.HasPrefix(a, "--cert-dir=") || strings.HasPrefix(a, "--metrics-cert-dir=")
			})
			if name == "webhook" {
				want = append(want, "--cert-mode=self")
			}
			Expect(container(self, name).Args).To(ConsistOf(want), "container %s", name)
		}
	})

	It("run both faces with exactly the rendered RBAC and settings (self-managed certificates)", func() {
		objs := render(configDir("overlays", "self-managed"))
		settings := renderedSettings(objs)
		port := freePort()
		for _, obj := range objs {
			if obj.GetKind() == "ValidatingWebhookConfiguration" {
				pointAtLocalWebhook(obj, port) // no Service routing in envtest: the address, as envtest rewrites it
			}
			if err := kube.Create(ctx, obj); !apierrors.IsAlreadyExists(err) {
				Expect(err).NotTo(HaveOccurred(), "%s %s", obj.GetKind(), obj.GetName())
			}
		}
		asServiceAccount := rest.CopyConfig(cfg)
		asServiceAccount.Impersonate = rest.ImpersonationConfig{UserName: serviceAccountOf(objs)}
		runCtx, stop := context.WithCancel(ctx)
		defer stop()

		self := testbed.SelfManagedCerts() // the flag defaults, which the rendered args keep
		webhookMgr, err := app.NewWebhookManager(asServiceAccount, app.WebhookOptions{
			Settings: settings, Host: "127.0.0.1", Port: port, SelfManagedCerts: self, MetricsAddr: "0", ProbeAddr: "0",
			Registry: prometheus.NewRegistry(),
		})
		Expect(err).NotTo(HaveOccurred())
		checkerMgr, err := app.NewCheckerManager(asServiceAccount, app.CheckerOptions{
			Settings: settings, MetricsAddr: "0", ProbeAddr: "0", LeaderElectionNamespace: "ocl-guard",
			Registry: prometheus.NewRegistry(),
		})
		Expect(err).NotTo(HaveOccurred())
		for _, mgr := range []interface{ Start(context.Context) error }{webhookMgr, checkerMgr} {
			go func() {
				defer GinkgoRecover()
				Expect(mgr.Start(runCtx)).To(Succeed())
			}()
		}

		samples := render(configDir("samples"))
		for _, obj := range samples {
			if obj.GetKind() != "MachineOSConfig" {
				Expect(kube.Create(ctx, obj)).To(Succeed(), "%s %s", obj.GetKind(), obj.GetName())
			}
		}
		mosc := find(samples, "MachineOSConfig", "worker")
		// Admitted once the webhook, as the service account, has made its CA and published it.
		Eventually(func() error { return kube.Create(ctx, mosc.DeepCopy()) }).WithTimeout(60 * time.Second).Should(Succeed())
		// The broken sample as a change to it (one MachineOSConfig per pool), dry run.
		// The checker annotates the config meanwhile: read it again when the update conflicts with that.
		broken := readObject(configDir("samples", "machineosconfig_broken.yaml"))
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			current := &unstructured.Unstructured{}
			current.SetGroupVersionKind(mosc.GroupVersionKind())
			if err := kube.Get(ctx, client.ObjectKey{Name: "worker"}, current); err != nil {
				return err
			}
			broken.SetResourceVersion(current.GetResourceVersion())
			return kube.Update(ctx, broken, client.DryRunAll)
		})
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "the broken sample: %v", err)
		Expect(err.Error()).To(ContainSubstring("[secret-exists]"))

		// The checker's audit, as the service account: the push secret disappears after admission.
		push := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: mco.Namespace, Name: "quay-push-secret"}}
		Expect(kube.Delete(ctx, push)).To(Succeed())
		Eventually(func(g Gomega) {
			var got unstructured.Unstructured
			got.SetGroupVersionKind(mosc.GroupVersionKind())
			g.Expect(kube.Get(ctx, client.ObjectKey{Name: "worker"}, &got)).To(Succeed())
			g.Expect(got.GetAnnotations()[checker.AnnotationRules]).To(ContainSubstring(string(validators.RuleSecretExists)))
		}).WithTimeout(60 * time.Second).Should(Succeed())
	})
})

// kustomizations are the directories under config/ holding a kustomization.yaml.
func kustomizations() []string {
	GinkgoHelper()
	var dirs []string
	Expect(filepath.WalkDir(configDir(), func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "kustomization.yaml" {
			dirs = append(dirs, filepath.Dir(path))
		}
		return err
	})).To(Succeed())
	return dirs
}

func rel(dir string) string {
	r, _ := filepath.Rel(testbed.RepoRoot(), dir)
	return r
}

// expectReferencesResolve checks what the API server does not: the Deployment's ServiceAccount and ConfigMap
// volumes are rendered in its namespace, and its Secret volumes are rendered or written by what the manifests ask
// for (OpenShift's service CA for an annotated Service, a cert-manager Certificate).
func expectReferencesResolve(dir string, objs []*unstructured.Unstructured) {
	GinkgoHelper()
	provided := map[string]bool{}
	for _, obj := range objs {
		key := func(kind, name string) string { return kind + "/" + obj.GetNamespace() + "/" + name }
		provided[key(obj.GetKind(), obj.GetName())] = true
		if name := obj.GetAnnotations()["service.beta.openshift.io/serving-cert-secret-name"]; name != "" && obj.GetKind() == "Service" {
			provided[key("Secret", name)] = true
		}
		if name, _, _ := unstructured.NestedString(obj.Object, "spec", "secretName"); name != "" && obj.GetKind() == "Certificate" {
			provided[key("Secret", name)] = true
		}
	}
	for _, obj := range objs {
		if obj.GetKind() != "Deployment" {
			continue
		}
		var d appsv1.Deployment
		Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &d)).To(Succeed())
		ns, spec := d.Namespace, d.Spec.Template.Spec
		Expect(provided["ServiceAccount/"+ns+"/"+spec.ServiceAccountName]).To(BeTrue(), "%s: ServiceAccount %s", rel(dir), spec.ServiceAccountName)
		for _, v := range spec.Volumes {
			switch {
			case v.ConfigMap != nil:
				Expect(provided["ConfigMap/"+ns+"/"+v.ConfigMap.Name]).To(BeTrue(), "%s: volume %s: ConfigMap %s/%s is not rendered", rel(dir), v.Name, ns, v.ConfigMap.Name)
			case v.Secret != nil:
				Expect(provided["Secret/"+ns+"/"+v.Secret.SecretName]).To(BeTrue(), "%s: volume %s: nothing writes Secret %s/%s", rel(dir), v.Name, ns, v.Secret.SecretName)
			}
		}
	}
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

func typed[T any](obj *unstructured.Unstructured) *T {
	GinkgoHelper()
	var out T
	Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &out)).To(Succeed())
	return &out
}

func failurePolicyOf(objs []*unstructured.Unstructured) admissionregistrationv1.FailurePolicyType {
	GinkgoHelper()
	vwc := typed[admissionregistrationv1.ValidatingWebhookConfiguration](find(objs, "ValidatingWebhookConfiguration", "ocl-guard"))
	Expect(vwc.Webhooks).To(HaveLen(1))
	return *vwc.Webhooks[0].FailurePolicy
}

// policyBindings are the rendered ValidatingAdmissionPolicies, each with the actions of the binding naming it.
func policyBindings(objs []*unstructured.Unstructured) map[string][]admissionregistrationv1.ValidationAction {
	GinkgoHelper()
	out := map[string][]admissionregistrationv1.ValidationAction{}
	for _, obj := range objs {
		if obj.GetKind() == "ValidatingAdmissionPolicy" {
			out[obj.GetName()] = nil
		}
	}
	for _, obj := range objs {
		if obj.GetKind() == "ValidatingAdmissionPolicyBinding" {
			b := typed[admissionregistrationv1.ValidatingAdmissionPolicyBinding](obj)
			Expect(out).To(HaveKey(b.Spec.PolicyName), "binding %s names no rendered policy", b.Name)
			out[b.Spec.PolicyName] = append(out[b.Spec.PolicyName], b.Spec.ValidationActions...)
		}
	}
	return out
}

func container(objs []*unstructured.Unstructured, name string) corev1.Container {
	GinkgoHelper()
	d := typed[appsv1.Deployment](find(objs, "Deployment", "ocl-guard"))
	i := slices.IndexFunc(d.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == name })
	Expect(i).NotTo(Equal(-1), "container %s", name)
	return d.Spec.Template.Spec.Containers[i]
}

// renderedSettings are the settings the containers read: the rendered ConfigMap's key at the path --settings
// names, found through the Deployment's volume mount as the pod sees it and as `ocl-guard status` finds it
// (status.ContainerSettings). Every container must read the same settings.
func renderedSettings(objs []*unstructured.Unstructured) config.Settings {
	GinkgoHelper()
	d := typed[appsv1.Deployment](find(objs, "Deployment", "ocl-guard"))
	var settings []config.Settings
	for _, c := range d.Spec.Template.Spec.Containers {
		f, err := status.ContainerSettings(d, c)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Path).NotTo(BeEmpty(), "container %s has no --settings", c.Name)
		cm := typed[corev1.ConfigMap](find(objs, "ConfigMap", f.ConfigMap))
		data, ok := cm.Data[f.Key]
		Expect(ok).To(BeTrue(), "ConfigMap %s has no key %s", cm.Name, f.Key)
		s, err := config.Parse([]byte(data))
		Expect(err).NotTo(HaveOccurred())
		settings = append(settings, s)
	}
	Expect(settings).NotTo(BeEmpty())
	for _, s := range settings[1:] {
		Expect(s).To(Equal(settings[0]), "the containers read different settings")
	}
	return settings[0]
}

func serviceAccountOf(objs []*unstructured.Unstructured) string {
	GinkgoHelper()
	d := typed[appsv1.Deployment](find(objs, "Deployment", "ocl-guard"))
	return "system:serviceaccount:" + d.Namespace + ":" + d.Spec.Template.Spec.ServiceAccountName
}

// pointAtLocalWebhook replaces the Service reference with the in-process webhook's address, under the name its
// self-managed certificate carries.
func pointAtLocalWebhook(obj *unstructured.Unstructured, port int) {
	GinkgoHelper()
	webhooks, _, err := unstructured.NestedSlice(obj.Object, "webhooks")
	Expect(err).NotTo(HaveOccurred())
	for i := range webhooks {
		w := webhooks[i].(map[string]any)
		cc := w["clientConfig"].(map[string]any)
		path := cc["service"].(map[string]any)["path"].(string)
		w["clientConfig"] = map[string]any{"url": fmt.Sprintf("https://localhost:%d%s", port, path)}
	}
	Expect(unstructured.SetNestedSlice(obj.Object, webhooks, "webhooks")).To(Succeed())
}

func readObject(path string) *unstructured.Unstructured {
	GinkgoHelper()
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	obj := &unstructured.Unstructured{}
	Expect(yaml.Unmarshal(data, &obj.Object)).To(Succeed())
	return obj
}

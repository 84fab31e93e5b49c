package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/test/registry/registrytest"
	"github.com/ocl-guard/ocl-guard/test/testbed"
	"github.com/ocl-guard/ocl-guard/validators"
)

// The shipped RBAC (config/rbac) is enough, and no more is used: both faces run here as the ocl-guard service
// account with exactly those roles.
var _ = Describe("The shipped RBAC", func() {
	const serviceAccount = "system:serviceaccount:ocl-guard:ocl-guard"
	var asServiceAccount *rest.Config

	BeforeEach(func() {
		ensureNamespace(checkerNamespace)
		applyManifests(filepath.Join(testbed.RepoRoot(), "config", "rbac", "role.yaml"))
		asServiceAccount = rest.CopyConfig(bed.Config)
		asServiceAccount.Impersonate = rest.ImpersonationConfig{UserName: serviceAccount}
	})

	It("lets the webhook read what its rules need, and Secrets only in openshift-machine-config-operator", func() {
		scheme, err := app.Scheme()
		Expect(err).NotTo(HaveOccurred())
		opts := app.CacheOptions()
		opts.Scheme = scheme
		c, err := cache.New(asServiceAccount, opts)
		Expect(err).NotTo(HaveOccurred())
		direct, err := client.New(asServiceAccount, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		factsOpts := app.FactsCacheOptions()
		factsOpts.Scheme = scheme
		facts, err := cache.New(asServiceAccount, factsOpts)
		Expect(err).NotTo(HaveOccurred())
		runCtx, stop := context.WithCancel(ctx)
		defer stop()
		go func() { _ = c.Start(runCtx) }()
		go func() { _ = facts.Start(runCtx) }()
		Expect(c.WaitForCacheSync(runCtx)).To(BeTrue())

		p := createLayeredPool("quay.io")
		mosc := p.machineOSConfig("quay.io/acme/os-image:latest")
		mosc.Spec.BaseImagePullSecret = nil // exercise the openshift-config/pull-secret fallback too
		verdict := validators.Evaluate(ctx, mosc, app.RuleEnv(config.Defaults(), &lookups.Cluster{Cached: c, Direct: direct, Facts: facts}, nil))
		Expect(verdict.Findings.Denials()).To(BeEmpty())
		Expect(findings.AdmissionWarnings(verdict.Findings.With(findings.Warn))).NotTo(ContainElement(ContainSubstring("could not")), "a lookup was forbidden")

		err = direct.Get(ctx, client.ObjectKey{Namespace: "default", Name: "anything"}, &corev1.Secret{})
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "Secrets outside openshift-machine-config-operator: %v", err)
	})

	It("lets the preflight lookups read one object each by name, metadata only for the entitlement", func() {
		scheme, err := app.Scheme()
		Expect(err).NotTo(HaveOccurred())
		direct, err := client.New(asServiceAccount, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		setBlockedRegistries()
		base := pushedImage("ocp/rhcos", "rbac")
		p := preflightPool(base, registrytest.Pruner)
		mosc := p.machineOSConfig(pushRegistry.Repository("acme/os-image") + ":latest")
		cluster := &lookups.Cluster{Cached: direct, Direct: direct}

		images, err := cluster.RenderedOSImages(ctx, "rendered-"+p.name+"-0123456789abcdef")
		Expect(err).NotTo(HaveOccurred())
		Expect(images.OSImageURL).To(Equal(base))
		_, err = cluster.ImageConfig(ctx)
		Expect(err).NotTo(HaveOccurred())
		_, err = cluster.ClusterImagePolicies(ctx)
		Expect(err).NotTo(HaveOccurred())
		sources, err := cluster.Entitlement(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(sources.Secret).To(BeTrue())

		verdict := validators.Evaluate(ctx, mosc, validators.Env{Source: cluster, Actions: config.Defaults().ActionFor})
		Expect(findings.AdmissionWarnings(verdict.Findings.With(findings.Warn))).NotTo(ContainElement(ContainSubstring("could not")), "a lookup was forbidden")

		for what, err := range map[string]error{
			"list machineconfigs": direct.List(ctx, &mcfgv1.MachineConfigList{}),
			"another Secret in openshift-config-managed": direct.Get(ctx,
				client.ObjectKey{Namespace: mco.EntitlementSecretNamespace, Name: "other"}, &corev1.Secret{}),
			"another ConfigMap in the MCO's namespace": direct.Get(ctx,
				client.ObjectKey{Namespace: mco.Namespace, Name: "other"}, &corev1.ConfigMap{}),
			"list images.config": direct.List(ctx, &configv1.ImageList{}),
		} {
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: %v", what, err)
		}
	})

	It("lets the checker elect a leader, read builds, pods and nodes, and write its diagnosis", func() {
		runCtx, stop := context.WithCancel(ctx)
		defer stop()
		settings := config.Defaults()
		settings.Checker.ConfigObserveAfter = metav1.Duration{Duration: observeAfter}
		mgr, err := app.NewCheckerManager(asServiceAccount, app.CheckerOptions{
			Settings: settings, MetricsAddr: "0", ProbeAddr: "0",
			LeaderElectionNamespace: checkerNamespace, LeaderElectionID: "ocl-guard-rbac-test",
			Logs: &recordedLogs{logs: map[string]string{}}, SeveralPerProcess: true, Registry: prometheus.NewRegistry(),
		})
		Expect(err).NotTo(HaveOccurred())
		go func() {
			defer GinkgoRecover()
			Expect(mgr.Start(runCtx)).To(Succeed())
		}()

		build := newBuild(uniqueName("rbac"), failedStatus())
		newBuildPod(build, failedImageBuild(`Error: pushing image "q" to "docker://quay.io/a/b:c": writing blob: initiating layer upload to /v2/a/b/blobs/uploads/ in quay.io: denied: requested access to the resource is denied`))
		Eventually(diagnosisOf(build)).WithTimeout(30 * time.Second).Should(Equal(string(diagnose.PushDenied)))

		name := uniqueName("rbac")
		image := "quay.io/acme/os" + builtDigest
		pool := newLayeredPool(name, image, 1)
		newBuild(name, succeededStatus(time.Minute, image))
		setPoolStatus(pool, 1, 0)
		annotateNode(nodeName(name, 0), map[string]string{desiredImage: image, nodeState: "Degraded", nodeReason: "unexpected on-disk state: mode mismatch for file /etc/x"})
		Eventually(diagnosisOf(pool)).WithTimeout(30 * time.Second).Should(Equal(string(diagnose.NodeDegraded)))

		// The MCO's Events are read in namespace default only.
		direct, err := client.New(asServiceAccount, client.Options{Scheme: mgr.GetScheme()})
		Expect(err).NotTo(HaveOccurred())
		Expect(direct.List(ctx, &corev1.EventList{}, client.InNamespace("default"))).To(Succeed())
		err = direct.List(ctx, &corev1.EventList{}, client.InNamespace(mco.Namespace))
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "Events outside namespace default: %v", err)

		// The MCO's ClusterOperator and its build controller's Deployment, read by name through the cache.
		playTheOperator()
		DeferCleanup(playTheOperator)
		mosc := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: name}}
		observe(mosc, "")
		setOperatorDegraded("Failed to resync 4.20.0 because: could not update Machine OS Builder deployment: could not validate renderdImagePushspec quay.io/A/b for MachineOSConfig " + name + ": invalid reference format")
		Eventually(diagnosisOf(mosc)).WithTimeout(30 * time.Second).Should(Equal(string(diagnose.BuilderNotRunning)))
		setOperatorDegraded("")
		setBuilderAvailable(0)
		editConfig(mosc, func(m *mcfgv1.MachineOSConfig) { m.Spec.Containerfile = nil }) // a change the MCO does not pick up
		Eventually(annotationsOf(mosc)).WithTimeout(30 * time.Second).Should(HaveKeyWithValue(checker.AnnotationEvidence, ContainSubstring("0 of 1 replicas available")))
	})

	It("grants the MCO's ClusterOperator and Deployment by name only", func() {
		scheme, err := app.Scheme()
		Expect(err).NotTo(HaveOccurred())
		direct, err := client.New(asServiceAccount, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		playTheOperator()
		Expect(direct.Get(ctx, client.ObjectKey{Name: mco.OperatorName}, &configv1.ClusterOperator{})).To(Succeed())
		Expect(direct.Get(ctx, client.ObjectKey{Namespace: mco.Namespace, Name: mco.BuilderDeployment}, &appsv1.Deployment{})).To(Succeed())
		for _, forbidden := range []func() error{
			func() error {
				return direct.Get(ctx, client.ObjectKey{Name: "kube-apiserver"}, &configv1.ClusterOperator{})
			},
			func() error { return direct.List(ctx, &configv1.ClusterOperatorList{}) },
			func() error {
				return direct.Get(ctx, client.ObjectKey{Namespace: mco.Namespace, Name: "machine-config-controller"}, &appsv1.Deployment{})
			},
			func() error {
				return direct.List(ctx, &appsv1.DeploymentList{}, client.InNamespace(mco.Namespace))
			},
			func() error { return direct.List(ctx, &appsv1.DeploymentList{}, client.InNamespace("default")) },
		} {
			Expect(apierrors.IsForbidden(forbidden())).To(BeTrue())
		}
	})
})

// ensureNamespace creates a namespace that another spec may have created already.
func ensureNamespace(name string) {
	GinkgoHelper()
	if err := kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		Expect(apierrors.IsAlreadyExists(err)).To(BeTrue(), "%v", err)
	}
}

// applyManifests creates (or leaves in place) every object of a multi-document YAML file.
func applyManifests(path string) {
	GinkgoHelper()
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var obj unstructured.Unstructured
		if err := decoder.Decode(&obj.Object); errors.Is(err, io.EOF) {
			return
		} else {
			Expect(err).NotTo(HaveOccurred())
		}
		if len(obj.Object) == 0 {
			continue
		}
		if err := kube.Create(ctx, &obj); err != nil {
			Expect(apierrors.IsAlreadyExists(err)).To(BeTrue(), "%s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
}

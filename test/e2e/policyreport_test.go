package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/test/testbed"
	"github.com/ocl-guard/ocl-guard/validators"
)

// The ClusterPolicyReport: absent CRD first (as on clusters without Kyverno), then the CRD installed from the
// vendored upstream file (test/crds/wgpolicyk8s.io), with the checker running all along.
var _ = Describe("The checker's ClusterPolicyReport", Ordered, func() {
	var (
		writes  = &reportWrites{}
		stop    context.CancelFunc
		p       layeredPool
		mosc    = func() client.Object { return p.machineOSConfig("quay.io/acme/os-image:latest") }
		patient = func(actual any) AsyncAssertion {
			return Eventually(actual).WithTimeout(30 * time.Second).WithPolling(200 * time.Millisecond)
		}
	)
	startChecker := func(mode config.PolicyReportMode, electionID string) context.CancelFunc {
		settings := config.Defaults()
		settings.Checker.AuditResync = metav1.Duration{Duration: time.Second}
		settings.Checker.PolicyReport = mode
		mgr, err := app.NewCheckerManager(bed.Config, app.CheckerOptions{
			Settings: settings, MetricsAddr: "0", ProbeAddr: "0", LeaderElectionNamespace: checkerNamespace,
			LeaderElectionID: electionID, Logs: &recordedLogs{logs: map[string]string{}}, SeveralPerProcess: true, Registry: prometheus.NewRegistry(),
			WrapClient: writes.wrap,
		})
		Expect(err).NotTo(HaveOccurred())
		runCtx, cancel := context.WithCancel(ctx)
		go func() {
			defer GinkgoRecover()
			Expect(mgr.Start(runCtx)).To(Succeed())
		}()
		return cancel
	}

	BeforeAll(func() {
		ensureNamespace(checkerNamespace)
		stop = startChecker(config.PolicyReportAuto, "ocl-guard-policy-report-test")
		DeferCleanup(func() { stop() })
		p = createLayeredPool("quay.io")
		Expect(kube.Create(ctx, mosc())).To(Succeed())
		deleteQuietly(dockerConfigSecret(p.pushSecret, "quay.io"))
	})

	It("is not written, and the audit carries on, while the wgpolicyk8s.io CRD is absent", func() {
		patient(annotationsOf(mosc())).Should(HaveKeyWithValue(checker.AnnotationRules, string(validators.RuleSecretExists)))
		err := kube.Get(ctx, client.ObjectKey{Name: checker.PolicyReportName}, newReport())
		Expect(meta.IsNoMatchError(err)).To(BeTrue(), "the CRD must be absent here: %v", err)
		Expect(writes.count()).To(BeZero())
	})

	It("appears once the CRD is installed, with a result per rule for the config", func() {
		installPolicyReportCRD()
		patient(resultsFor(p.name)).Should(HaveKeyWithValue(string(validators.RuleSecretExists), SatisfyAll(
			HaveKeyWithValue("result", "fail"), HaveKeyWithValue("policy", checker.PolicyName),
			HaveKeyWithValue("severity", "high"),
			HaveKeyWithValue("message", ContainSubstring("spec.renderedImagePushSecret.name")))))
		results := resultsFor(p.name)()
		for _, rule := range validators.Stage1Rules() {
			Expect(results).To(HaveKey(string(rule.ID)), "every rule that ran has a result")
		}
		Expect(results[string(validators.RulePoolExists)]).To(HaveKeyWithValue("result", "pass"))
		Expect(results[string(validators.RulePushSpecSyntax)]).To(HaveKeyWithValue("result", "warn"), "the tag-is-replaced warning")
		Expect(results[string(validators.RuleSecretExists)]["resources"]).To(ConsistOf(SatisfyAll(
			HaveKeyWithValue("kind", "MachineOSConfig"), HaveKeyWithValue("name", p.name))))
		expectSummaryMatchesResults()
	})

	It("is rewritten only when a result changes", func() {
		settled := writes.count()
		// Audited every second with the same outcome: no write may repeat the results before it. (The report covers
		// every MachineOSConfig of the shared test cluster, so another spec's config may change and be written.)
		Consistently(writes.unchangedRewrites).WithTimeout(4*time.Second).Should(BeZero(), "audits every second, same outcome")
		Expect(kube.Create(ctx, dockerConfigSecret(p.pushSecret, "quay.io"))).To(Succeed())
		patient(resultsFor(p.name)).Should(HaveKeyWithValue(string(validators.RuleSecretExists), HaveKeyWithValue("result", "pass")))
		Expect(writes.count()).To(BeNumerically(">", settled))
		expectSummaryMatchesResults()
	})

	It("drops a deleted config's results", func() {
		Expect(kube.Delete(ctx, mosc())).To(Succeed())
		patient(resultsFor(p.name)).Should(BeEmpty())
	})

	It("is not written with checker.policyReport: off", func() {
		stop()
		report := newReport()
		Expect(kube.Get(ctx, client.ObjectKey{Name: checker.PolicyReportName}, report)).To(Succeed())
		Expect(kube.Delete(ctx, report)).To(Succeed())
		stop = startChecker(config.PolicyReportOff, "ocl-guard-policy-report-off-test")
		off := createLayeredPool("quay.io")
		offConfig := off.machineOSConfig("quay.io/acme/os-image:latest")
		Expect(kube.Create(ctx, offConfig)).To(Succeed())
		DeferCleanup(deleteQuietly, offConfig)
		deleteQuietly(dockerConfigSecret(off.pushSecret, "quay.io"))
		patient(annotationsOf(offConfig)).Should(HaveKeyWithValue(checker.AnnotationRules, string(validators.RuleSecretExists)))
		Consistently(func() error {
			return kube.Get(ctx, client.ObjectKey{Name: checker.PolicyReportName}, newReport())
		}).WithTimeout(3 * time.Second).Should(Satisfy(func(err error) bool { return client.IgnoreNotFound(err) == nil && err != nil }))
	})

	It("is writable by the shipped RBAC for ocl-guard's report only", func() {
		// Here rather than with the other RBAC specs: this container is the only one that installs the CRD, and its
		// first spec needs it absent. Last, after the report was deleted above, so that it is created here too.
		applyManifests(filepath.Join(testbed.RepoRoot(), "config", "rbac", "role.yaml"))
		asServiceAccount := rest.CopyConfig(bed.Config)
		asServiceAccount.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:ocl-guard:ocl-guard"}
		direct, err := client.New(asServiceAccount, client.Options{})
		Expect(err).NotTo(HaveOccurred())
		writer := &checker.PolicyReportWriter{Client: direct, Now: time.Now}
		target := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("rbac")}}
		passed := findings.List{{Rule: validators.RulePoolExists, Message: "checked", Outcome: findings.Pass}}
		Expect(writer.Record(ctx, target, passed)).To(Succeed())
		Expect(writer.Forget(ctx, target.Name)).To(Succeed())

		other := newReport()
		other.SetName("kyverno-owned")
		Expect(kube.Create(ctx, other)).To(Succeed())
		DeferCleanup(deleteQuietly, other)
		err = direct.Update(ctx, other)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "updating another ClusterPolicyReport: %v", err)
	})
})

// installPolicyReportCRD installs the vendored wgpolicyk8s.io CRD (again: installing twice is fine).
func installPolicyReportCRD() {
	GinkgoHelper()
	_, err := envtest.InstallCRDs(bed.Config, envtest.CRDInstallOptions{
		Paths: []string{filepath.Join(testbed.RepoRoot(), "test", "crds", "wgpolicyk8s.io")}, ErrorIfPathMissing: true,
	})
	Expect(err).NotTo(HaveOccurred())
}

func newReport() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(checker.ClusterPolicyReportGVK)
	return u
}

// resultsFor returns the report's results about one MachineOSConfig, by rule.
func resultsFor(config string) func() map[string]map[string]any {
	return func() map[string]map[string]any {
		report := newReport()
		if err := kube.Get(ctx, client.ObjectKey{Name: checker.PolicyReportName}, report); err != nil {
			return nil
		}
		results, _, _ := unstructured.NestedSlice(report.Object, "results")
		out := map[string]map[string]any{}
		for _, r := range results {
			m := r.(map[string]any)
			resources, _ := m["resources"].([]any)
			if len(resources) == 1 && resources[0].(map[string]any)["name"] == config {
				out[m["rule"].(string)] = m
			}
		}
		return out
	}
}

func expectSummaryMatchesResults() {
	GinkgoHelper()
	report := newReport()
	Expect(kube.Get(ctx, client.ObjectKey{Name: checker.PolicyReportName}, report)).To(Succeed())
	results, _, _ := unstructured.NestedSlice(report.Object, "results")
	counted := map[string]int64{"pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 0}
	for _, r := range results {
		counted[r.(map[string]any)["result"].(string)]++
	}
	summary, _, _ := unstructured.NestedMap(report.Object, "summary")
	Expect(summary).To(HaveLen(len(counted)))
	for k, v := range counted {
		Expect(summary).To(HaveKeyWithValue(k, v))
	}
}

// reportWrites counts the checker's creates and updates of the ClusterPolicyReport, and those that wrote the same
// results as the write before (which a writer that writes on change only never makes).
type reportWrites struct {
	mu        sync.Mutex
	n         int
	unchanged int
	last      string
}

func (w *reportWrites) wrap(c client.Client) client.Client {
	return reportCountingClient{Client: c, w: w}
}

func (w *reportWrites) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

func (w *reportWrites) unchangedRewrites() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.unchanged
}

func (w *reportWrites) add(obj client.Object) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok || obj.GetName() != checker.PolicyReportName {
		return
	}
	results, _, _ := unstructured.NestedSlice(u.Object, "results")
	data, _ := json.Marshal(results)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	if w.n > 1 && string(data) == w.last {
		w.unchanged++
	}
	w.last = string(data)
}

type reportCountingClient struct {
	client.Client
	w *reportWrites
}

func (c reportCountingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	c.w.add(obj)
	return c.Client.Create(ctx, obj, opts...)
}

func (c reportCountingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	c.w.add(obj)
	return c.Client.Update(ctx, obj, opts...)
}

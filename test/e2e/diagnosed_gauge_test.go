package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/test/testbed"
)

// The alerts read ocl_guard_checker_diagnosed_objects as "objects holding this diagnosis now": it must follow the
// annotations the checker writes on the real API server, including when an object is deleted.
var _ = Describe("Checker metrics", Ordered, func() {
	var metricsAddr string

	BeforeAll(func() {
		ensureNamespace(checkerNamespace)
		runCtx, stop := context.WithCancel(ctx)
		DeferCleanup(stop)
		metricsAddr = freeLoopbackAddr()
		mgr, err := app.NewCheckerManager(bed.Config, app.CheckerOptions{
			Settings: config.Defaults(), MetricsAddr: metricsAddr, ProbeAddr: "0",
			LeaderElectionNamespace: checkerNamespace, LeaderElectionID: "ocl-guard-metrics-test",
			Logs: &recordedLogs{logs: map[string]string{}}, SeveralPerProcess: true,
		})
		Expect(err).NotTo(HaveOccurred())
		go func() {
			defer GinkgoRecover()
			Expect(mgr.Start(runCtx)).To(Succeed())
		}()
	})

	It("counts the builds holding each diagnosis", func() {
		build := newBuild(uniqueName("gauge"), failedStatus())
		newBuildPod(build, failedImageBuild(`Error: pushing image "q" to "docker://quay.io/a/b:c": writing blob: initiating layer upload to /v2/a/b/blobs/uploads/ in quay.io: denied: requested access to the resource is denied`))
		Eventually(diagnosisOf(build)).WithTimeout(30 * time.Second).Should(Equal("PushDenied"))
		// The gauge is one per process, and other specs' checkers in this process keep recording their own builds
		// meanwhile, so here it is only shown to count this one; that a deleted object stops counting is
		// checker/current_test.go's to show.
		Eventually(gaugedPushDenied).WithTimeout(30 * time.Second).Should(BeNumerically(">=", 1))
	})

	It("serves the series the alerts read to platform Prometheus, bound as config/prometheus binds it", func() {
		applyManifests(filepath.Join(testbed.RepoRoot(), "config", "rbac", "role.yaml"))
		ensureNamespace("openshift-monitoring")
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "prometheus-k8s", Namespace: "openshift-monitoring"}}
		if err := kube.Create(ctx, sa); err != nil {
			Expect(apierrors.IsAlreadyExists(err)).To(BeTrue(), "%v", err)
		}
		applyManifests(filepath.Join(testbed.RepoRoot(), "config", "prometheus", "rbac.yaml"))
		clientset, err := kubernetes.NewForConfig(bed.Config)
		Expect(err).NotTo(HaveOccurred())
		tr, err := clientset.CoreV1().ServiceAccounts("openshift-monitoring").CreateToken(ctx, "prometheus-k8s", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())

		build := newBuild(uniqueName("scrape"), failedStatus())
		newBuildPod(build, failedImageBuild(`Error: pushing image "q" to "docker://quay.io/a/b:c": writing blob: initiating layer upload to /v2/a/b/blobs/uploads/ in quay.io: denied: requested access to the resource is denied`))
		Eventually(diagnosisOf(build)).WithTimeout(30 * time.Second).Should(Equal("PushDenied"))

		scrape := func() (string, error) {
			req, err := http.NewRequest(http.MethodGet, "https://"+metricsAddr+"/metrics", nil)
			if err != nil {
				return "", err
			}
			req.Header.Set("Authorization", "Bearer "+tr.Status.Token)
			// The self-signed certificate of a local run; in a cluster the service CA signs it.
			c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
			resp, err := c.Do(req)
			if err != nil {
				return "", err
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				return "", fmt.Errorf("GET /metrics: %s", resp.Status)
			}
			return string(body), err
		}
		Eventually(scrape).WithTimeout(20 * time.Second).Should(SatisfyAll(
			ContainSubstring(`ocl_guard_checker_diagnosed_objects{kind="MachineOSBuild",level="Error",reason="PushDenied"}`),
			ContainSubstring(`leader_election_master_status{name="ocl-guard-metrics-test"} 1`)))
	})
})

// gaugedPushDenied reads the gauge's MachineOSBuild PushDenied series from the registry the checker serves.
func gaugedPushDenied() float64 {
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	var n float64
	for _, f := range families {
		if f.GetName() != checker.MetricDiagnosedObjects {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["kind"] == "MachineOSBuild" && labels["reason"] == "PushDenied" {
				n += m.GetGauge().GetValue()
			}
		}
	}
	return n
}

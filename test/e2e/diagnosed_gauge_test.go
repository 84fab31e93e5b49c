package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"github.com/prometheus/client_golang/prometheus"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/test/testbed"
)

// The alerts read ocl_guard_checker_diagnosed_objects as "objects holding this diagnosis now": it must follow the
// annotations the checker writes on the real API server, including when an object is deleted. This checker
// registers its metrics with the registry the metrics endpoint serves, as the binary does; every other checker of
// the suite has a registry of its own, so what the endpoint serves is this checker's alone.
var _ = Describe("Checker metrics", Ordered, func() {
	var scrape func() (string, error)

	BeforeAll(func() {
		ensureNamespace(checkerNamespace)
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

		runCtx, stop := context.WithCancel(ctx)
		DeferCleanup(stop)
		metricsAddr := freeLoopbackAddr()
		mgr, err := app.NewCheckerManager(bed.Config, app.CheckerOptions{
			Settings: config.Defaults(), MetricsAddr: metricsAddr, ProbeAddr: "0",
			LeaderElectionNamespace: checkerNamespace, LeaderElectionID: "ocl-guard-metrics-test",
			Logs: &recordedLogs{logs: map[string]string{}}, SeveralPerProcess: true, Registry: servedRegistry(),
		})
		Expect(err).NotTo(HaveOccurred())
		go func() {
			defer GinkgoRecover()
			Expect(mgr.Start(runCtx)).To(Succeed())
		}()
		scrape = scraper(metricsAddr, tr.Status.Token)
	})

	It("counts the builds holding each diagnosis, and stops counting a deleted one", func() {
		build := newBuild(uniqueName("gauge"), failedStatus())
		newBuildPod(build, failedImageBuild(`Error: pushing image "q" to "docker://quay.io/a/b:c": writing blob: initiating layer upload to /v2/a/b/blobs/uploads/ in quay.io: denied: requested access to the resource is denied`))
		Eventually(diagnosisOf(build)).WithTimeout(30 * time.Second).Should(Equal("PushDenied"))

		// Builds other specs left behind count too: this checker diagnoses every build in the cluster. The gauge
		// served must equal the number of builds annotated PushDenied at severity Error, this one among them, and
		// once it is deleted, the number without it.
		const series = `ocl_guard_checker_diagnosed_objects{kind="MachineOSBuild",level="Error",reason="PushDenied"}`
		gaugeFollowsAnnotations := func(withBuild bool) func() error {
			return func() error {
				body, err := scrape()
				if err != nil {
					return err
				}
				gauged := seriesValue(body, series)
				annotated := buildsAnnotated(diagnose.PushDenied, diagnose.SeverityError)
				if slices.Contains(annotated, build.Name) != withBuild {
					return fmt.Errorf("builds annotated PushDenied (Error): %v; want %s among them: %v", annotated, build.Name, withBuild)
				}
				if gauged != float64(len(annotated)) {
					return fmt.Errorf("%s is %v, but %d builds are annotated PushDenied (Error): %v", series, gauged, len(annotated), annotated)
				}
				return nil
			}
		}
		Eventually(gaugeFollowsAnnotations(true)).WithTimeout(30 * time.Second).Should(Succeed())

		Expect(kube.Delete(ctx, build)).To(Succeed())
		Eventually(gaugeFollowsAnnotations(false)).WithTimeout(30 * time.Second).Should(Succeed())
	})

	It("serves the series the alerts read to platform Prometheus, bound as config/prometheus binds it", func() {
		build := newBuild(uniqueName("scrape"), failedStatus())
		newBuildPod(build, failedImageBuild(`Error: pushing image "q" to "docker://quay.io/a/b:c": writing blob: initiating layer upload to /v2/a/b/blobs/uploads/ in quay.io: denied: requested access to the resource is denied`))
		Eventually(diagnosisOf(build)).WithTimeout(30 * time.Second).Should(Equal("PushDenied"))
		Eventually(scrape).WithTimeout(20 * time.Second).Should(SatisfyAll(
			ContainSubstring(`ocl_guard_checker_diagnosed_objects{kind="MachineOSBuild",level="Error",reason="PushDenied"}`),
			ContainSubstring(`leader_election_master_status{name="ocl-guard-metrics-test"} 1`)))
	})
})

// scraper GETs /metrics at addr with token, as Prometheus does.
func scraper(addr, token string) func() (string, error) {
	return func() (string, error) {
		req, err := http.NewRequest(http.MethodGet, "https://"+addr+"/metrics", nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", "Bearer "+token)
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
}

// seriesValue is the value of series (name and labels, as the exposition format writes them) in body; 0 when absent,
// as a gauge series without objects is.
func seriesValue(body, series string) float64 {
	GinkgoHelper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	Expect(err).NotTo(HaveOccurred())
	return v
}

// buildsAnnotated lists the MachineOSBuilds whose annotations hold a diagnosis of reason and severity.
func buildsAnnotated(reason diagnose.Reason, severity diagnose.Severity) []string {
	GinkgoHelper()
	var builds mcfgv1.MachineOSBuildList
	Expect(kube.List(ctx, &builds)).To(Succeed())
	var names []string
	for _, b := range builds.Items {
		if b.Annotations[checker.AnnotationDiagnosis] == string(reason) && b.Annotations[checker.AnnotationSeverity] == string(severity) {
			names = append(names, b.Name)
		}
	}
	return names
}

// servedRegistry is the registry the metrics endpoint serves, controller-runtime's metrics.Registry, with which the
// binary registers its collectors. What is registered through it is unregistered when the container ends, so that
// the suite can run again in the same process.
func servedRegistry() prometheus.Registerer { return unregisteredAtCleanup{metrics.Registry} }

type unregisteredAtCleanup struct{ prometheus.Registerer }

func (r unregisteredAtCleanup) Register(c prometheus.Collector) error {
	if err := r.Registerer.Register(c); err != nil {
		return err
	}
	DeferCleanup(func() { r.Registerer.Unregister(c) })
	return nil
}

func (r unregisteredAtCleanup) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		Expect(r.Register(c)).To(Succeed())
	}
}

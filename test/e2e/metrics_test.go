package e2e

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/test/testbed"
)

// Metrics name rules, Secrets and registry hosts: they are served over TLS to callers the API server authenticates
// and authorizes for get on /metrics, never over plain HTTP to whoever reaches the pod.
var _ = Describe("The metrics endpoint", func() {
	It("answers only authenticated callers allowed to get /metrics, over TLS", func() {
		ensureNamespace(checkerNamespace)
		applyManifests(filepath.Join(testbed.RepoRoot(), "config", "rbac", "role.yaml"))
		addr := freeLoopbackAddr()
		runCtx, stop := contextWithCancel()
		defer stop()
		mgr, err := app.NewCheckerManager(bed.Config, app.CheckerOptions{
			Settings: config.Defaults(), MetricsAddr: addr, ProbeAddr: "0",
			Logs: &recordedLogs{logs: map[string]string{}}, SeveralPerProcess: true, Registry: prometheus.NewRegistry(),
		})
		Expect(err).NotTo(HaveOccurred())
		go func() {
			defer GinkgoRecover()
			Expect(mgr.Start(runCtx)).To(Succeed())
		}()

		scraper := serviceAccountToken("metrics-scraper", "ocl-guard-metrics-reader")
		stranger := serviceAccountToken("metrics-stranger", "")
		get := func(scheme, token string) func() (int, error) {
			return func() (int, error) {
				req, err := http.NewRequest(http.MethodGet, scheme+"://"+addr+"/metrics", nil)
				if err != nil {
					return 0, err
				}
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				// The self-signed certificate of a local run; in a cluster the service CA signs it.
				c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
				resp, err := c.Do(req)
				if err != nil {
					return 0, err
				}
				defer resp.Body.Close()
				_, _ = io.Copy(io.Discard, resp.Body)
				return resp.StatusCode, nil
			}
		}
		Eventually(get("https", scraper)).WithTimeout(20 * time.Second).Should(Equal(http.StatusOK))
		// controller-runtime's filter answers missing or unknown credentials with 500 (its authenticator reports an
		// error rather than "not authenticated"); what matters is that no metrics are served.
		Expect(get("https", "")()).NotTo(Equal(http.StatusOK))
		Expect(get("https", "not-a-token")()).NotTo(Equal(http.StatusOK))
		Expect(get("https", stranger)()).To(Equal(http.StatusForbidden))
		status, err := get("http", scraper)()
		Expect(err == nil && status == http.StatusOK).To(BeFalse(), "plain HTTP answered %d", status)
	})
})

// serviceAccountToken creates a ServiceAccount in the checker's namespace, binds it to clusterRole (none when
// empty) and returns a token for it.
func serviceAccountToken(name, clusterRole string) string {
	GinkgoHelper()
	ensureNamespace(checkerNamespace)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: checkerNamespace}}
	if err := kube.Create(ctx, sa); err != nil {
		Expect(apierrors.IsAlreadyExists(err)).To(BeTrue(), "%v", err)
	}
	if clusterRole != "" {
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: checkerNamespace}},
		}
		if err := kube.Create(ctx, binding); err != nil {
			Expect(apierrors.IsAlreadyExists(err)).To(BeTrue(), "%v", err)
		}
	}
	clientset, err := kubernetes.NewForConfig(bed.Config)
	Expect(err).NotTo(HaveOccurred())
	tr, err := clientset.CoreV1().ServiceAccounts(checkerNamespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	return tr.Status.Token
}

func freeLoopbackAddr() string {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer l.Close()
	return fmt.Sprintf("127.0.0.1:%d", l.Addr().(*net.TCPAddr).Port)
}

// Package admissionpolicy proves config/vap: the ValidatingAdmissionPolicies rendered from the audit profile, on a
// real API server with the real MachineOSConfig CRD and the webhook down, give the Go rules' verdicts, except where
// a known-divergence table says (and checks) otherwise.
package admissionpolicy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/test/testbed"
)

func TestAdmissionPolicy(t *testing.T) {
	RegisterFailHandler(Fail)
	ctrl.SetLogger(GinkgoLogr)
	RunSpecs(t, "ocl-guard ValidatingAdmissionPolicy suite")
}

var (
	ctx = context.Background()
	env *envtest.Environment
	cfg *rest.Config
	// kube talks to the API server as `oc apply` does, and records the warnings it is sent.
	kube     client.Client
	warnings = &warningRecorder{}
)

var _ = BeforeSuite(func() {
	root := testbed.RepoRoot()
	crds, err := testbed.OpenShiftCRDs(root)
	Expect(err).NotTo(HaveOccurred())
	env = &envtest.Environment{
		BinaryAssetsDirectory: os.Getenv("KUBEBUILDER_ASSETS"),
		CRDInstallOptions:     envtest.CRDInstallOptions{Paths: crds, ErrorIfPathMissing: true},
	}
	if env.BinaryAssetsDirectory == "" {
		env.BinaryAssetsDirectory = filepath.Join(root, "bin", "k8s", testbed.KubernetesVersion)
	}
	cfg, err = env.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	scheme, err := app.Scheme()
	Expect(err).NotTo(HaveOccurred())
	recording := rest.CopyConfig(cfg)
	recording.WarningHandler = warnings
	kube, err = client.New(recording, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	// Namespaces every OpenShift cluster has, where config/rbac puts Roles.
	for _, ns := range []string{mco.Namespace, mco.ClusterPullSecretNamespace, mco.EntitlementSecretNamespace} {
		Expect(kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	}
})

// warningRecorder keeps the warnings the API server sends, so a spec can take those of one request.
type warningRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, text)
}

// during returns the warnings received while fn ran (specs in this suite run one at a time).
func (w *warningRecorder) during(fn func()) []string {
	w.mu.Lock()
	start := len(w.seen)
	w.mu.Unlock()
	fn()
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen[start:]...)
}

// fromPolicy keeps the warnings a ValidatingAdmissionPolicy sent.
func fromPolicy(ws []string) []string {
	var out []string
	for _, w := range ws {
		if strings.Contains(w, "ValidatingAdmissionPolicy") {
			out = append(out, w)
		}
	}
	return out
}

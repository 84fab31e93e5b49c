// Package acm proves config/acm on a real API server: every hub object against the real Open Cluster Management
// CRDs (test/crds/open-cluster-management.io), every object the install Policy carries against the managed
// cluster's, and the ConfigurationPolicies evaluated by the policy framework's own engine
// (open-cluster-management.io/config-policy-controller, its dryrun command reading the cluster) against the
// ClusterPolicyReport the real checker writes.
package acm

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/test/testbed"
)

func TestACM(t *testing.T) {
	RegisterFailHandler(Fail)
	ctrl.SetLogger(GinkgoLogr)
	RunSpecs(t, "ocl-guard ACM governance suite")
}

// observabilityNamespace is where ACM Observability runs on the hub.
const observabilityNamespace = "open-cluster-management-observability"

var (
	ctx  = context.Background()
	env  *envtest.Environment
	cfg  *rest.Config
	kube client.Client
)

var _ = BeforeSuite(func() {
	var err error
	env, err = testbed.ControlPlane(
		filepath.Join("test", "crds", "open-cluster-management.io"),
		filepath.Join("test", "crds", "wgpolicyk8s.io"),
		// The install Policy carries config/prometheus: the prometheus-operator CRDs the e2e suite vendors.
		filepath.Join("test", "e2e", "testdata", "prometheus-operator"),
	)
	Expect(err).NotTo(HaveOccurred())
	cfg, err = env.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	scheme, err := app.Scheme()
	Expect(err).NotTo(HaveOccurred())
	kube, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	// One API server plays the hub and the managed cluster: the namespaces each has.
	Expect(testbed.CreateNamespaces(ctx, kube, observabilityNamespace)).To(Succeed())

	// The policy engine reads the cluster through a kubeconfig, as `dryrun --from-cluster` does.
	user, err := env.ControlPlane.AddUser(envtest.User{Name: "policy-engine", Groups: []string{"system:masters"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	kubeconfig, err := user.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(GinkgoT().TempDir(), "kubeconfig")
	Expect(os.WriteFile(path, kubeconfig, 0o600)).To(Succeed())
	previous, had := os.LookupEnv("KUBECONFIG")
	Expect(os.Setenv("KUBECONFIG", path)).To(Succeed())
	DeferCleanup(func() {
		if had {
			_ = os.Setenv("KUBECONFIG", previous)
		} else {
			_ = os.Unsetenv("KUBECONFIG")
		}
	})
})

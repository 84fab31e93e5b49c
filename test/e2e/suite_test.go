package e2e

import (
	"context"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/registry"
	"github.com/ocl-guard/ocl-guard/test/registry/registrytest"
	"github.com/ocl-guard/ocl-guard/test/testbed"
	"github.com/ocl-guard/ocl-guard/validators"
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "ocl-guard envtest suite")
}

var (
	bed *testbed.Bed
	// pushRegistry is a real registry (Debian's docker-registry) with token auth over TLS on 127.0.0.1.
	pushRegistry *registrytest.Registry
	actions      = &switchableActions{overrides: map[validators.RuleID]validators.Action{}}
	// kube talks to the API server as `oc apply` does, and records the admission warnings it is sent.
	kube     client.Client
	warnings = &testbed.WarningRecorder{}
)

var _ = BeforeSuite(func() {
	var err error
	pushRegistry, err = registrytest.Start(registrytest.Config{Mode: registrytest.Token})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(pushRegistry.Stop)
	prober, err := registry.NewProber(registry.Options{
		Budget: registryBudget, AllowLoopback: true, RootCAs: pushRegistry.CAPool, Resolver: loopbackOnlyResolver{},
	})
	Expect(err).NotTo(HaveOccurred())

	bed, err = testbed.Start(testbed.Options{Settings: config.Defaults(), Actions: actions.ActionFor, Prober: prober})
	Expect(err).NotTo(HaveOccurred())

	cfg := rest.CopyConfig(bed.Config)
	cfg.WarningHandler = warnings
	scheme, err := app.Scheme()
	Expect(err).NotTo(HaveOccurred())
	kube, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if binaryDir != "" {
		_ = os.RemoveAll(binaryDir) // oclGuardBinary's build
	}
	if bed != nil {
		Expect(bed.Stop()).To(Succeed())
	}
})

// switchableActions lets a test switch a rule to deny, warn or off; the others keep their default action.
type switchableActions struct {
	mu        sync.Mutex
	overrides map[validators.RuleID]validators.Action
}

func (s *switchableActions) ActionFor(id validators.RuleID) validators.Action {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.overrides[id]; ok {
		return a
	}
	return config.Defaults().ActionFor(id)
}

func (s *switchableActions) set(id validators.RuleID, a validators.Action) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.overrides[id] = a
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.overrides, id)
	}
}

var ctx = context.Background()

func contextWithCancel() (context.Context, context.CancelFunc) { return context.WithCancel(ctx) }

// registryBudget is the probe budget of the test bed's webhook.
const registryBudget = 2 * time.Second

// loopbackOnlyResolver keeps the tests off the network: the registry probe may dial IP literals (loopback, or the
// metadata address that it must refuse) and localhost (the test registry's token service), and every other name
// fails to resolve as if it did not exist.
type loopbackOnlyResolver struct{}

func (loopbackOnlyResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if addr, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{addr}, nil
	}
	if host == "localhost" {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

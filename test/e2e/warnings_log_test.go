package e2e

import (
	"sync"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/validators"
)

// The webhook wraps a long warning into lines of at most 120 characters for `oc apply`; the checker, whose writes
// may be answered with them, logs each warning once, whole.
var _ = Describe("Admission warnings in the checker's log", func() {
	It("are one log line per warning, not one per wrapped line", func() {
		defer actions.set(validators.RulePushSpecSyntax, validators.ActionWarn)()
		p := createLayeredPool("quay.io")
		const pushSpec = "quay.io/mco/renderedImg:latest"

		// As `oc apply` gets them: wrapped.
		wrapped := warnings.During(func() {
			Expect(kube.Create(ctx, p.machineOSConfig(pushSpec), client.DryRunAll)).To(Succeed())
		})
		Expect(wrapped).To(ContainElement(HavePrefix("[pushspec-syntax] spec.renderedImagePushSpec: Invalid value:")))

		// Through the checker's own client, with controller-runtime's default warning handler, which logs each
		// warning it is handed through the context's logger.
		mgr, err := app.NewCheckerManager(bed.Config, app.CheckerOptions{Settings: config.Defaults(), MetricsAddr: "0", ProbeAddr: "0", SeveralPerProcess: true, Registry: prometheus.NewRegistry()})
		Expect(err).NotTo(HaveOccurred())
		logged := &messageSink{}
		Expect(mgr.GetClient().Create(logr.NewContext(ctx, logr.New(logged)), p.machineOSConfig(pushSpec), client.DryRunAll)).To(Succeed())

		Expect(logged.all()).To(ContainElement(SatisfyAll(
			HavePrefix("[pushspec-syntax] spec.renderedImagePushSpec: Invalid value:"),
			ContainSubstring("must be lowercase"),
			HaveSuffix("use quay.io/mco/renderedimg:latest"))))
		Expect(len(logged.all())).To(BeNumerically("<", len(wrapped)), "logged %q for the wrapped %q", logged.all(), wrapped)
		Expect(logged.all()).To(Equal(app.JoinWarnings(wrapped)))
	})
})

// messageSink is a logr.LogSink that keeps the messages logged at V(0), where warnings are logged.
type messageSink struct {
	mu   sync.Mutex
	msgs []string
}

func (s *messageSink) Init(logr.RuntimeInfo)               {}
func (s *messageSink) Enabled(level int) bool              { return level == 0 } // warnings, not client-go V(6+) traces
func (s *messageSink) WithValues(...any) logr.LogSink      { return s }
func (s *messageSink) WithName(string) logr.LogSink        { return s }
func (s *messageSink) Error(_ error, msg string, _ ...any) { s.Info(0, msg) }
func (s *messageSink) Info(_ int, msg string, _ ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, msg)
}

func (s *messageSink) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

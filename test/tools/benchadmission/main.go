// Command benchadmission is `make bench-admission`: the cost ocl-guard adds to an `oc apply`, measured through a
// real API server side by side with a no-op webhook on the same TLS stack and with no webhook at all. Requests for
// the three are interleaved (one of each in turn), so machine noise falls on all three alike, and the ratios of
// their latency percentiles are printed. It is a load benchmark, never a test: nothing asserts a time.
package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"go.uber.org/zap/zapcore"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/certs"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/test/testbed"
)

// The three cases are told apart by the MachineOSConfig's name, which each webhook's matchConditions select on.
var cases = []struct{ name, prefix string }{{"no webhook", "x"}, {"no-op webhook", "n"}, {"ocl-guard", "g"}}

func main() {
	// 2,000 requests put 20 samples beyond the p99: with 400, the p99 is the fourth-slowest call and moves by a
	// third between runs.
	requests := flag.Int("requests", 2000, "requests per case and client count")
	clientCounts := flag.String("clients", "1,8", "comma-separated numbers of concurrent clients")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.Level(zapcore.ErrorLevel)))
	if err := run(*requests, *clientCounts); err != nil {
		fmt.Fprintf(os.Stderr, "bench-admission: %v\n", err)
		os.Exit(1)
	}
}

func run(requests int, clientCounts string) error {
	bed, err := testbed.Start(testbed.Options{Settings: config.Defaults()})
	if err != nil {
		return err
	}
	defer func() { _ = bed.Stop() }()
	// The no-op webhook server stops before the bed removes the certificate directory it watches (deferred calls
	// run last-in first-out); otherwise its certificate watcher logs every removed file as an error.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	c := bed.Client
	if err := selectByName(ctx, c, "ocl-guard", "g"); err != nil {
		return err
	}
	if err := serveNoop(ctx, bed); err != nil {
		return err
	}
	for _, tc := range cases {
		if err := seed(ctx, c, tc.prefix); err != nil {
			return err
		}
	}
	fmt.Printf("%d dry-run creates of a good MachineOSConfig per case, interleaved, warm caches\n\n", requests)
	fmt.Printf("%-8s %-14s %9s %9s %9s\n", "clients", "case", "p50", "p99", "mean")
	for _, field := range strings.Split(clientCounts, ",") {
		var n int
		if _, err := fmt.Sscan(field, &n); err != nil || n < 1 {
			return fmt.Errorf("-clients %q: want positive numbers", clientCounts)
		}
		if _, err := measure(ctx, bed.Config, n, 50); err != nil { // warm up connections and caches
			return err
		}
		lat, err := measure(ctx, bed.Config, n, requests)
		if err != nil {
			return err
		}
		for _, tc := range cases {
			s := lat[tc.prefix]
			fmt.Printf("%-8d %-14s %9s %9s %9s\n", n, tc.name, pct(s, 0.5), pct(s, 0.99), mean(s))
		}
		g, noop := lat["g"], lat["n"]
		fmt.Printf("%-8d %-14s %8.2fx %8.2fx\n\n", n, "ocl-guard/no-op", ratio(g, noop, 0.5), ratio(g, noop, 0.99))
	}
	return printServerView(ctx, bed.Config)
}

// printServerView prints the API server's own measure of each webhook call (its
// apiserver_admission_webhook_admission_duration_seconds histogram), which leaves out the client and the rest of
// the request: the share of the latency that the webhook itself adds.
func printServerView(ctx context.Context, cfg *rest.Config) error {
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	raw, err := clientset.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return err
	}
	sums, counts := map[string]float64{}, map[string]float64{}
	for _, line := range strings.Split(string(raw), "\n") {
		for suffix, into := range map[string]map[string]float64{"_sum{": sums, "_count{": counts} {
			rest, ok := strings.CutPrefix(line, "apiserver_admission_webhook_admission_duration_seconds"+suffix)
			if !ok {
				continue
			}
			_, afterName, _ := strings.Cut(rest, `name="`)
			name, _, _ := strings.Cut(afterName, `"`)
			fields := strings.Fields(rest)
			var v float64
			if _, err := fmt.Sscan(fields[len(fields)-1], &v); err == nil {
				into[name] += v
			}
		}
	}
	fmt.Println("mean webhook call as the API server measures it (all requests above):")
	for name, count := range counts {
		if count > 0 {
			fmt.Printf("  %-34s %8.0fµs over %.0f calls\n", name, 1e6*sums[name]/count, count)
		}
	}
	return nil
}

// selectByName narrows a registered webhook to MachineOSConfigs whose name starts with prefix.
func selectByName(ctx context.Context, c client.Client, name, prefix string) error {
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	if err := c.Get(ctx, client.ObjectKey{Name: name}, &vwc); err != nil {
		return err
	}
	for i := range vwc.Webhooks {
		vwc.Webhooks[i].MatchConditions = append(vwc.Webhooks[i].MatchConditions, admissionregistrationv1.MatchCondition{
			Name: "bench-case", Expression: fmt.Sprintf("object.metadata.name.startsWith('%s-')", prefix),
		})
	}
	return c.Update(ctx, &vwc)
}

// serveNoop serves a webhook that admits everything, on the same controller-runtime server, certificate and TLS
// options as ocl-guard's, and registers it like ocl-guard's (same rules, same matchConditions).
func serveNoop(ctx context.Context, bed *testbed.Bed) error {
	host, _, certDir := bed.WebhookServing()
	port, err := freePort()
	if err != nil {
		return err
	}
	srv := crwebhook.NewServer(crwebhook.Options{Host: host, Port: port, CertDir: certDir, TLSOpts: certs.ServingTLSOptions()})
	srv.Register("/noop", &admission.Webhook{Handler: admission.HandlerFunc(func(context.Context, admission.Request) admission.Response {
		return admission.Allowed("")
	})})
	go func() { _ = srv.Start(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); srv.StartedChecker()(nil) != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("the no-op webhook did not start")
		}
	}
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	if err := bed.Client.Get(ctx, client.ObjectKey{Name: "ocl-guard"}, &vwc); err != nil {
		return err
	}
	noop := vwc.DeepCopy()
	noop.ObjectMeta = metav1.ObjectMeta{Name: "noop"}
	for i := range noop.Webhooks {
		url := fmt.Sprintf("https://%s:%d/noop", host, port)
		noop.Webhooks[i].Name = "noop.bench.ocl-guard.io"
		noop.Webhooks[i].ClientConfig.URL = &url
		noop.Webhooks[i].ClientConfig.Service = nil
		conds := noop.Webhooks[i].MatchConditions
		conds[len(conds)-1].Expression = "object.metadata.name.startsWith('n-')"
	}
	return bed.Client.Create(ctx, noop)
}

// seed creates what a good MachineOSConfig named <prefix>-0 needs: its pool and secrets.
func seed(ctx context.Context, c client.Client, prefix string) error {
	name := prefix + "-0"
	auth := base64.StdEncoding.EncodeToString([]byte("robot:bench"))
	objs := []client.Object{
		&mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: mcfgv1.MachineConfigPoolSpec{
			MachineConfigSelector: &metav1.LabelSelector{}, NodeSelector: &metav1.LabelSelector{}}},
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "bench-push", Namespace: mco.Namespace},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data:       map[string][]byte{corev1.DockerConfigJsonKey: fmt.Appendf(nil, `{"auths":{"quay.io":{"auth":%q}}}`, auth)},
		},
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: mco.ClusterPullSecretName, Namespace: mco.ClusterPullSecretNamespace},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data:       map[string][]byte{corev1.DockerConfigJsonKey: fmt.Appendf(nil, `{"auths":{"registry.redhat.io":{"auth":%q}}}`, auth)},
		},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil && !strings.Contains(err.Error(), "already exists") {
			return err
		}
	}
	return nil
}

func goodConfig(prefix string) *mcfgv1.MachineOSConfig {
	name := prefix + "-0"
	return &mcfgv1.MachineOSConfig{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: mcfgv1.MachineOSConfigSpec{
			MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: name},
			ImageBuilder:            mcfgv1.MachineOSImageBuilder{ImageBuilderType: "Job"},
			RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "bench-push"},
			RenderedImagePushSpec:   "quay.io/acme/os:latest",
			Containerfile:           []mcfgv1.MachineOSContainerfile{{ContainerfileArch: mcfgv1.NoArch, Content: "FROM configs AS final\nRUN rpm-ostree install tree\n"}},
		},
	}
}

// measure sends requests dry-run creates per case from n clients, each client cycling through the cases.
func measure(ctx context.Context, cfg *rest.Config, n, requests int) (map[string][]time.Duration, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, 0
	cfg.WarningHandler = rest.NoWarnings{}
	scheme, err := app.Scheme()
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	lat := map[string][]time.Duration{}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range n {
		c, err := client.New(cfg, client.Options{Scheme: scheme})
		if err != nil {
			return nil, err
		}
		wg.Go(func() {
			for i := w; i < requests*len(cases); i += n {
				tc := cases[i%len(cases)]
				start := time.Now()
				if err := c.Create(ctx, goodConfig(tc.prefix), client.DryRunAll); err != nil {
					errs <- fmt.Errorf("%s: %w", tc.name, err)
					return
				}
				d := time.Since(start)
				mu.Lock()
				lat[tc.prefix] = append(lat[tc.prefix], d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	return lat, <-errs
}

func pct(s []time.Duration, p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return s[int(math.Ceil(p*float64(len(s))))-1].Round(10 * time.Microsecond)
}

func mean(s []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return (sum / time.Duration(max(1, len(s)))).Round(10 * time.Microsecond)
}

func ratio(a, b []time.Duration, p float64) float64 {
	return float64(pct(a, p)) / float64(pct(b, p))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Package process tests the real ocl-guard binary, started as a cluster would start it (flags, a kubeconfig,
// certificates on disk), against a real control plane: what only shows in a process (logs at every level, resident
// memory, client-side rate limits of the --kubeconfig path) is measured there.
package process

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/test/testbed"
)

func TestProcess(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "ocl-guard binary suite")
}

var (
	ctx         = context.Background()
	bed         *testbed.Bed
	kube        client.Client
	warnings    = &testbed.WarningRecorder{}
	binary      string
	kubeconfig  string
	webhookProc *process
	checkerProc *process
)

var _ = BeforeSuite(func() {
	dir := GinkgoT().TempDir()
	binary = filepath.Join(dir, "ocl-guard")
	build := exec.Command("go", "build", "-o", binary, "./cmd/ocl-guard")
	build.Dir = testbed.RepoRoot()
	out, err := build.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "go build: %s", out)

	bed, err = testbed.Start(testbed.Options{Settings: config.Defaults(), ExternalWebhook: true})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(bed.Stop)
	cfg := rest.CopyConfig(bed.Config)
	cfg.WarningHandler = warnings
	scheme, err := app.Scheme()
	Expect(err).NotTo(HaveOccurred())
	kube, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	Expect(kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ocl-guard"}})).To(Succeed())

	data, err := bed.Kubeconfig()
	Expect(err).NotTo(HaveOccurred())
	kubeconfig = filepath.Join(dir, "kubeconfig")
	Expect(os.WriteFile(kubeconfig, data, 0o600)).To(Succeed())

	host, port, certDir := bed.WebhookServing()
	// Logs at the highest level there is: nothing may leak at any of them.
	webhookProc = startProcess("webhook", "--kubeconfig", kubeconfig, "--zap-log-level=10",
		"--bind-address", host, "--port", strconv.Itoa(port), "--cert-dir", certDir,
		"--metrics-bind-address", freeLoopbackAddr(), "--health-probe-bind-address", "0")
	Expect(bed.WaitForWebhook(60 * time.Second)).To(Succeed())
	checkerProc = startProcess("checker", "--kubeconfig", kubeconfig, "--zap-log-level=10", "--leader-election-namespace=",
		"--metrics-bind-address", freeLoopbackAddr(), "--health-probe-bind-address", "0")
})

// process is a running ocl-guard subcommand whose output is kept.
type process struct {
	cmd     *exec.Cmd
	output  *syncBuffer
	metrics string
}

func startProcess(args ...string) *process {
	GinkgoHelper()
	p := &process{output: &syncBuffer{}}
	for i, a := range args {
		if a == "--metrics-bind-address" {
			p.metrics = args[i+1]
		}
	}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	Expect(p.cmd.Start()).To(Succeed())
	DeferCleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
		}
	})
	return p
}

// peakRSS is the process's high-water mark of resident memory, in bytes (VmHWM in /proc/<pid>/status).
func (p *process) peakRSS() int64 {
	GinkgoHelper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	Expect(err).NotTo(HaveOccurred())
	for _, line := range bytes.Split(status, []byte("\n")) {
		var kb int64
		if _, err := fmt.Sscanf(string(line), "VmHWM: %d kB", &kb); err == nil {
			return kb << 10
		}
	}
	Fail("no VmHWM in /proc/<pid>/status")
	return 0
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeLoopbackAddr() string {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer l.Close()
	return l.Addr().String()
}

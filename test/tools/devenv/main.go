// Command devenv is `make run`: ocl-guard's three faces on a local control plane, without a cluster. It starts a
// registry with token auth over TLS on 127.0.0.1, envtest's kube-apiserver and etcd with the OpenShift CRDs, the
// webhook (registry probe on) behind the real ValidatingWebhookConfiguration, and the checker; seeds a build that
// failed to push and a rollout whose nodes cannot pull; and prints the commands to see each diagnosis.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/test/testbed"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "devenv: %v\n", err)
		os.Exit(1)
	}
}

// samplePort is the registry port that the samples in config/samples name.
const samplePort = 5443

type options struct {
	kubeconfigOut string
	settingsPath  string
	registryPort  int
}

// run starts everything, prints how to try it, and returns nil when interrupted (Ctrl-C exits 0).
func run(args []string, out io.Writer) error {
	root := testbed.RepoRoot()
	fs := flag.NewFlagSet("devenv", flag.ContinueOnError)
	var opts options
	fs.StringVar(&opts.kubeconfigOut, "kubeconfig-out", filepath.Join(root, ".run", "kubeconfig"), "where to write the control plane's kubeconfig")
	fs.StringVar(&opts.settingsPath, "settings", "", "settings file; built-in defaults when empty")
	fs.IntVar(&opts.registryPort, "registry-port", samplePort, "port of the local registry on 127.0.0.1 (the samples name 5443)")
	var logOpts zap.Options
	logOpts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctrl.SetLogger(app.NewLogger(&logOpts))

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	began := time.Now()
	fmt.Fprintln(out, "starting a registry (token auth, TLS), kube-apiserver and etcd, the webhook and the checker; seeding samples ...")
	env, err := start(ctx, root, opts)
	if err != nil {
		// Interrupted while starting: start has stopped what it had started. Whatever the step failed with then
		// (a cancelled request, the registry stopped by the same Ctrl-C), Ctrl-C is a clean stop.
		if ctx.Err() != nil {
			fmt.Fprintln(out, "interrupted while starting; stopped")
			return nil
		}
		return err
	}
	defer func() {
		fmt.Fprintln(out, "stopping ...")
		env.stop()
	}()
	env.printTry(out, root, opts.registryPort)
	fmt.Fprintf(out, "Ready in %s. Press Ctrl-C to stop.\n", time.Since(began).Round(100*time.Millisecond))
	<-ctx.Done()
	return nil
}

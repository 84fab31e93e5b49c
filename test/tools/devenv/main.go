// Command devenv is `make run`: a local control plane (envtest's kube-apiserver and etcd) with the OpenShift CRDs,
// the sample pool and secrets, and the ocl-guard webhook registered, for trying ocl-guard without a cluster.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/test/testbed"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "devenv: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	root := testbed.RepoRoot()
	kubeconfigPath := flag.String("kubeconfig-out", filepath.Join(root, ".run", "kubeconfig"), "where to write the control plane's kubeconfig")
	settingsPath := flag.String("settings", "", "settings file; built-in defaults when empty")
	flag.Parse()
	ctrl.SetLogger(zap.New())

	settings := config.Defaults()
	if *settingsPath != "" {
		var err error
		if settings, err = config.Load(*settingsPath); err != nil {
			return err
		}
	}
	fmt.Println("starting kube-apiserver and etcd, installing CRDs, starting the webhook ...")
	// No registry prober: the samples push to quay.io, and a local try-out should not reach out to the internet.
	bed, err := testbed.Start(testbed.Options{Settings: settings})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Println("stopping ...")
		_ = bed.Stop()
	}()

	// The checker too, so that the audit annotations (ocl-guard.io/*) can be seen on the sample configs.
	checker, err := app.NewCheckerManager(bed.Config, app.CheckerOptions{Settings: settings, MetricsAddr: "0", ProbeAddr: "0"})
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	go func() {
		if err := checker.Start(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "devenv: checker stopped: %v\n", err)
		}
	}()

	kubeconfig, err := bed.Kubeconfig()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*kubeconfigPath), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(*kubeconfigPath, kubeconfig, 0o600); err != nil {
		return err
	}
	kubectl := filepath.Join(bed.Env.BinaryAssetsDirectory, "kubectl")
	prereqs := filepath.Join(root, "config", "samples", "prerequisites.yaml")
	apply := exec.Command(kubectl, "--kubeconfig", *kubeconfigPath, "apply", "-f", prereqs)
	apply.Stdout, apply.Stderr = os.Stdout, os.Stderr
	if err := apply.Run(); err != nil {
		return fmt.Errorf("applying %s: %w", prereqs, err)
	}

	rel := func(p string) string { r, _ := filepath.Rel(root, p); return r }
	k := fmt.Sprintf("%s --kubeconfig %s", rel(kubectl), rel(*kubeconfigPath))
	fmt.Printf(`
ocl-guard is validating MachineOSConfigs on a local control plane.
Kubeconfig: %s   (export KUBECONFIG=%s)

Try, from %s:
  %s apply --dry-run=server -f config/samples/machineosconfig_broken.yaml   # denied, with field paths and fixes
  %s apply -f config/samples/machineosconfig.yaml                            # admitted, with warnings
  %s get machineosconfigs
  %s delete secret quay-push-secret -n openshift-machine-config-operator
  %s get machineosconfig worker -o yaml | grep ocl-guard.io                  # the checker's audit findings

Press Ctrl-C to stop.
`, *kubeconfigPath, *kubeconfigPath, root, k, k, k, k, k)

	<-ctx.Done()
	return nil
}

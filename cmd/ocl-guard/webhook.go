package main

import (
	"flag"
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ocl-guard/ocl-guard/app"
)

func runWebhook(args []string) error {
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "path to a kubeconfig; in-cluster config or $KUBECONFIG when empty")
	settingsPath := fs.String("settings", "", "settings file (YAML, see config/settings.example.yaml); built-in defaults when empty")
	certDir := fs.String("cert-dir", "/var/run/secrets/serving-cert", "directory with the serving certificate tls.crt and key tls.key; reloaded when they change")
	host := fs.String("bind-address", "", "address the webhook listens on; all interfaces when empty")
	port := fs.Int("port", 9443, "port the webhook listens on")
	metricsAddr := fs.String("metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint; 0 turns it off")
	probeAddr := fs.String("health-probe-bind-address", ":8081", "address of /healthz and /readyz; 0 turns it off")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	settings, err := loadSettings(*settingsPath)
	if err != nil {
		return err
	}
	cfg, err := restConfig(*kubeconfig)
	if err != nil {
		return err
	}
	prober, err := app.NewProber(settings.Registry)
	if err != nil {
		return err
	}
	mgr, err := app.NewWebhookManager(cfg, app.WebhookOptions{
		Settings: settings, Host: *host, Port: *port, CertDir: *certDir,
		MetricsAddr: *metricsAddr, ProbeAddr: *probeAddr, Prober: prober,
	})
	if err != nil {
		return err
	}
	ctrl.Log.WithName("webhook").Info("serving MachineOSConfig admission", "port", *port, "certDir", *certDir)
	return mgr.Start(ctrl.SetupSignalHandler())
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		return ctrl.GetConfig()
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading --kubeconfig %s: %w", kubeconfig, err)
	}
	return cfg, nil
}

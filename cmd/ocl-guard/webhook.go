package main

import (
	"flag"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/ocl-guard/ocl-guard/app"
)

func runWebhook(args []string) error {
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	process := bindProcessFlags(fs, "8443", "8081")
	certDir := fs.String("cert-dir", "/var/run/secrets/serving-cert", "directory with the serving certificate tls.crt and key tls.key; reloaded when they change")
	host := fs.String("bind-address", "", "address the webhook listens on; all interfaces when empty")
	port := fs.Int("port", 9443, "port the webhook listens on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The webhook declares sideEffects: None and answers dry-run requests, so it never runs the write probe; the
	// checker's audit and `ocl-guard check` do when registry.writeProbe is set.
	settings, cfg, prober, err := process.start(withoutWriteProbe)
	if err != nil {
		return err
	}
	mgr, err := app.NewWebhookManager(cfg, app.WebhookOptions{
		Settings: settings, Host: *host, Port: *port, CertDir: *certDir,
		MetricsAddr: *process.metricsAddr, ProbeAddr: *process.probeAddr,
		MetricsInsecure: *process.metricsInsecure, MetricsCertDir: *process.metricsCertDir, Prober: prober,
	})
	if err != nil {
		return err
	}
	ctrl.Log.WithName("webhook").Info("serving MachineOSConfig admission", "port", *port, "certDir", *certDir)
	return mgr.Start(ctrl.SetupSignalHandler())
}

// restConfig is the API server connection of the one-shot commands, with the same defaults as the processes'.
func restConfig(kubeconfig string) (*rest.Config, error) {
	return app.RESTConfig(kubeconfig, app.DefaultKubeAPIQPS, app.DefaultKubeAPIBurst)
}

package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/certs"
)

func runWebhook(args []string) error {
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	process := bindProcessFlags(fs, "8443", "8081")
	certDir := fs.String("cert-dir", "/var/run/secrets/serving-cert", "directory with the serving certificate tls.crt and key tls.key; reloaded when they change")
	host := fs.String("bind-address", "", "address the webhook listens on; all interfaces when empty")
	port := fs.Int("port", 9443, "port the webhook listens on")
	self := bindSelfManagedFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	selfManaged, err := self.options()
	if err != nil {
		return err
	}
	// The webhook declares sideEffects: None and answers dry-run requests, so it never runs the write probe; the
	// checker's audit and `ocl-guard check` do when registry.writeProbe is set.
	p, err := process.start(withoutWriteProbe)
	if err != nil {
		return err
	}
	mgr, err := app.NewWebhookManager(p.cfg, app.WebhookOptions{
		Settings: p.settings, Host: *host, Port: *port, CertDir: *certDir, SelfManagedCerts: selfManaged,
		MetricsAddr: *process.metricsAddr, ProbeAddr: *process.probeAddr,
		MetricsInsecure: *process.metricsInsecure, MetricsCertDir: *process.metricsCertDir, Prober: p.prober, Registry: p.metrics,
	})
	if err != nil {
		return err
	}
	ctrl.Log.WithName("webhook").Info("serving MachineOSConfig admission", "port", *port, "certMode", *self.mode)
	return mgr.Start(ctrl.SetupSignalHandler())
}

// restConfig is the API server connection of the one-shot commands, with the same defaults as the processes'.
func restConfig(kubeconfig string) (*rest.Config, error) {
	return app.RESTConfig(kubeconfig, app.DefaultKubeAPIQPS, app.DefaultKubeAPIBurst)
}

// selfManagedFlags choose where the serving certificate comes from: files (--cert-dir, written by OpenShift's
// service CA or cert-manager) or self (issued by the webhook, see certs.SelfManaged).
type selfManagedFlags struct {
	mode, namespace, caSecret, service, webhookConfiguration *string
	caDuration, certDuration                                 *time.Duration
}

func bindSelfManagedFlags(fs *flag.FlagSet) *selfManagedFlags {
	namespace := os.Getenv("POD_NAMESPACE")
	if namespace == "" {
		namespace = "ocl-guard"
	}
	return &selfManagedFlags{
		mode:                 fs.String("cert-mode", "files", "files: serve tls.crt/tls.key from --cert-dir; self: issue the serving certificate from a CA kept in a Secret and publish the CA into the ValidatingWebhookConfiguration"),
		namespace:            fs.String("namespace", namespace, "with --cert-mode=self: namespace of the CA Secret and of the webhook Service ($POD_NAMESPACE when set)"),
		caSecret:             fs.String("ca-secret", "ocl-guard-webhook-ca", "with --cert-mode=self: name of the Secret holding the CA; created when missing"),
		service:              fs.String("service", "ocl-guard-webhook", "with --cert-mode=self: the webhook Service, whose DNS names the serving certificate carries"),
		webhookConfiguration: fs.String("webhook-configuration", "ocl-guard", "with --cert-mode=self: the ValidatingWebhookConfiguration whose caBundle is kept current"),
		caDuration:           fs.Duration("ca-duration", certs.DefaultCADuration, "with --cert-mode=self: lifetime of the CA, rotated at two thirds of it"),
		certDuration:         fs.Duration("cert-duration", certs.DefaultCertDuration, "with --cert-mode=self: lifetime of the serving certificate, renewed at two thirds of it"),
	}
}

func (f *selfManagedFlags) options() (*certs.SelfManaged, error) {
	switch *f.mode {
	case "files":
		return nil, nil
	case "self":
		return &certs.SelfManaged{
			CASecret:             types.NamespacedName{Namespace: *f.namespace, Name: *f.caSecret},
			WebhookConfiguration: *f.webhookConfiguration,
			DNSNames:             certs.ServiceDNSNames(types.NamespacedName{Namespace: *f.namespace, Name: *f.service}),
			CADuration:           *f.caDuration, CertDuration: *f.certDuration,
		}, nil
	default:
		return nil, fmt.Errorf("--cert-mode %q: use files (certificates from --cert-dir) or self (issued and rotated by the webhook)", *f.mode)
	}
}

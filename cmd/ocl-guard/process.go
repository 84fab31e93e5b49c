package main

import (
	"flag"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/registry"
)

// processFlags are the flags of the long-running subcommands (webhook, checker).
type processFlags struct {
	kubeconfig, settings, metricsAddr, probeAddr *string
	metricsCertDir                               *string
	metricsInsecure                              *bool
	kubeAPIQPS                                   *float64
	kubeAPIBurst                                 *int
	caBundles                                    stringList
	zap                                          zap.Options
}

func bindProcessFlags(fs *flag.FlagSet, metricsPort, probePort string) *processFlags {
	p := &processFlags{
		kubeconfig:      fs.String("kubeconfig", "", "path to a kubeconfig; in-cluster config or $KUBECONFIG when empty"),
		settings:        fs.String("settings", "", "settings file (YAML, see config/manager/settings.example.yaml); built-in defaults when empty"),
		metricsAddr:     fs.String("metrics-bind-address", ":"+metricsPort, "address of the Prometheus metrics endpoint (HTTPS; clients need a token allowed to get /metrics); 0 turns it off"),
		metricsCertDir:  fs.String("metrics-cert-dir", "", "directory with tls.crt and tls.key for the metrics endpoint; a self-signed certificate when empty"),
		metricsInsecure: fs.Bool("metrics-insecure", false, "serve metrics over plain HTTP without authentication (local runs only)"),
		probeAddr:       fs.String("health-probe-bind-address", ":"+probePort, "address of /healthz and /readyz; 0 turns it off"),
		kubeAPIQPS: fs.Float64("kube-api-qps", float64(app.DefaultKubeAPIQPS),
			"client-side limit of API requests per second; -1 (the default) leaves limiting to the server's API Priority and Fairness"),
		kubeAPIBurst: fs.Int("kube-api-burst", app.DefaultKubeAPIBurst, "client-side burst of API requests, when --kube-api-qps is positive"),
	}
	bindCABundleFlag(fs, &p.caBundles)
	p.zap.BindFlags(fs)
	return p
}

// bindCABundleFlag is --registry-ca-bundle, for registries signed by a private CA (the cluster service CA, for
// image-registry.openshift-image-registry.svc:5000, is trusted already when mounted).
func bindCABundleFlag(fs *flag.FlagSet, bundles *stringList) {
	fs.Var(bundles, "registry-ca-bundle", "PEM file of CA certificates to trust when probing registries, in addition to the system roots, "+
		"the mounted cluster service CA and registry.caBundles from the settings; repeatable")
}

// processParts are what a long-running subcommand (webhook, checker) is built from, each made once, by start: the
// settings, the API server's config, the registry prober and the metrics registry. app.NewWebhookManager or
// app.NewCheckerManager builds the rest from them.
type processParts struct {
	settings config.Settings
	cfg      *rest.Config
	prober   *registry.Prober
	// metrics is the registry the manager serves on --metrics-bind-address: controller-runtime's. Every collector
	// of the process is registered with it when the process is built: the prober's here, the webhook's or the
	// checker's by the app function it is given to.
	metrics prometheus.Registerer
}

// start sets up logging and makes what every process needs: settings (adjusted by the process's own constraints),
// the cluster's config, the registry prober and the metrics registry.
func (p *processFlags) start(constraints ...func(*config.Settings)) (processParts, error) {
	ctrl.SetLogger(app.NewLogger(&p.zap))
	settings, err := loadSettings(*p.settings)
	if err != nil {
		return processParts{}, err
	}
	settings.Registry.CABundles = append(settings.Registry.CABundles, p.caBundles...)
	for _, constrain := range constraints {
		constrain(&settings)
	}
	cfg, err := app.RESTConfig(*p.kubeconfig, float32(*p.kubeAPIQPS), *p.kubeAPIBurst)
	if err != nil {
		return processParts{}, err
	}
	served := metrics.Registry
	prober, err := app.NewProber(settings.Registry, served)
	return processParts{settings: settings, cfg: cfg, prober: prober, metrics: served}, err
}

func withoutWriteProbe(s *config.Settings) { s.Registry.WriteProbe = false }

// loadSettings reads a settings file; no file means the built-in defaults.
func loadSettings(path string) (config.Settings, error) {
	if path == "" {
		return config.Defaults(), nil
	}
	return config.Load(path)
}

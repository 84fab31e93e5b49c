package app

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ocl-guard/ocl-guard/certs"
)

// MetricsServing describes a process's /metrics endpoint. The zero value beyond Addr is the secure default.
type MetricsServing struct {
	// Addr is the bind address; "0" turns the endpoint off.
	Addr string
	// Insecure serves plain HTTP without authentication, for a local run only.
	Insecure bool
	// CertDir holds tls.crt and tls.key (OpenShift's service CA writes them for the metrics Service); empty makes
	// controller-runtime generate a self-signed certificate, which a scraper has to be told to accept.
	CertDir string
}

// serverOptions serves metrics over TLS to clients the API server authenticates (TokenReview) and authorizes
// (SubjectAccessReview for get on the non-resource URL /metrics), as kubebuilder v4 scaffolds it: the metrics name
// rules, secrets and registry hosts, so not anyone who can reach the pod should read them.
func (m MetricsServing) serverOptions() metricsserver.Options {
	if m.Insecure {
		return metricsserver.Options{BindAddress: m.Addr}
	}
	return metricsserver.Options{
		BindAddress:    m.Addr,
		SecureServing:  true,
		FilterProvider: filters.WithAuthenticationAndAuthorization,
		CertDir:        m.CertDir,
		TLSOpts:        certs.ServingTLSOptions(),
	}
}

// errNoRegistry is NewCheckerManager's and NewWebhookManager's answer to options without a Registry.
var errNoRegistry = errors.New("no metrics registry: give the one the metrics endpoint serves (controller-runtime's metrics.Registry), or a registry of the test's own")

// register registers a process's collectors with reg, the registry named in its options. It is called once per
// process, by the function that builds it; no collector of ocl-guard registers itself.
func register(reg prometheus.Registerer, collectors ...prometheus.Collector) error {
	if reg == nil {
		return errNoRegistry
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("registering metrics: %w", err)
		}
	}
	return nil
}

// finish adds the health checks every process serves (ping; ready once caches are synced and ready's checks pass)
// and, last, registers the process's metrics, so that a manager that could not be built leaves the registry as it
// was.
func finish(mgr manager.Manager, reg prometheus.Registerer, metrics prometheus.Collector, caches []cache.Cache, ready map[string]healthz.Checker) (manager.Manager, error) {
	if err := mgr.AddHealthzCheck("ping", func(*http.Request) error { return nil }); err != nil {
		return nil, err
	}
	for name, check := range ready {
		if err := mgr.AddReadyzCheck(name, check); err != nil {
			return nil, err
		}
	}
	if err := mgr.AddReadyzCheck("caches", cacheSynced(caches...)); err != nil {
		return nil, err
	}
	if err := register(reg, metrics); err != nil {
		return nil, err
	}
	return mgr, nil
}

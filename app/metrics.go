package app

import (
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

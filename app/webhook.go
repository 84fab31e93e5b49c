// Package app assembles ocl-guard's processes from its parts (manager, caches, webhook, checker) so that the
// binary and the test bed run exactly the same wiring.
package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ocl-guard/ocl-guard/certs"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
	"github.com/ocl-guard/ocl-guard/webhook"
)

// Scheme knows the core types and the machineconfiguration.openshift.io/v1 types.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := mcfgv1.Install(s); err != nil {
		return nil, err
	}
	if err := configv1.Install(s); err != nil { // image.config and ClusterImagePolicy (preflight rules), ClusterOperator (the checker)
		return nil, err
	}
	return s, nil
}

// CacheOptions limits what is watched: Secrets only in openshift-machine-config-operator (never a cluster-wide
// Secret informer, which would need cluster-wide list/watch on Secrets), and no managedFields kept in memory.
func CacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Namespaces: SecretNamespaces()},
		},
	}
}

// SecretNamespaces are the Secrets ocl-guard caches: those of the MCO's namespace, and in openshift-config the
// cluster pull secret alone, watched through a field selector on its name (which the Role's resourceNames allow),
// so that reading it costs the API server nothing per admission.
func SecretNamespaces() map[string]cache.Config {
	return map[string]cache.Config{
		mco.Namespace: {},
		mco.ClusterPullSecretNamespace: {
			FieldSelector: fields.OneTermEqualSelector("metadata.name", mco.ClusterPullSecretName),
		},
	}
}

// WebhookOptions are the knobs of the webhook process.
type WebhookOptions struct {
	Settings config.Settings
	// Host, Port and CertDir describe the TLS listener; CertDir holds tls.crt and tls.key, reloaded on change.
	Host    string
	Port    int
	CertDir string
	// SelfManagedCerts, when set, replaces CertDir: the webhook issues its own certificates and publishes their CA.
	SelfManagedCerts *certs.SelfManaged
	// MetricsAddr and ProbeAddr are bind addresses; "0" turns a listener off.
	MetricsAddr string
	ProbeAddr   string
	// MetricsInsecure and MetricsCertDir: see MetricsServing.
	MetricsInsecure bool
	MetricsCertDir  string
	// Prober probes registries; nil skips registry rules.
	Prober lookups.RegistryProber
	// Actions overrides Settings.ActionFor, e.g. for tests that switch a rule between deny and warn.
	Actions validators.ActionFor
	// Registry receives the webhook's metrics (webhook.Metrics): controller-runtime's metrics.Registry, which the
	// manager serves on MetricsAddr, in the binary; a registry of its own for each webhook a test starts.
	Registry prometheus.Registerer
}

// NewWebhookManager returns a manager serving the MachineOSConfig webhook. Start it to serve.
func NewWebhookManager(cfg *rest.Config, opts WebhookOptions) (manager.Manager, error) {
	scheme, err := Scheme()
	if err != nil {
		return nil, err
	}
	metrics := webhook.NewMetrics()
	tlsOpts := certs.ServingTLSOptions()
	servingCert := func(*tls.Config) {} // CertDir's files, unless self-managed
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		Cache:  CacheOptions(),
		WebhookServer: crwebhook.NewServer(crwebhook.Options{
			Host: opts.Host, Port: opts.Port, CertDir: opts.CertDir,
			// Evaluated when the server starts, after the self-managed source has been added below.
			TLSOpts: append(tlsOpts, func(c *tls.Config) { servingCert(c) }),
		}),
		Metrics:                MetricsServing{Addr: opts.MetricsAddr, Insecure: opts.MetricsInsecure, CertDir: opts.MetricsCertDir}.serverOptions(),
		HealthProbeBindAddress: opts.ProbeAddr,
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	if opts.SelfManagedCerts != nil {
		serve, ready, err := opts.SelfManagedCerts.Setup(mgr)
		if err != nil {
			return nil, err
		}
		servingCert = serve
		if err := mgr.AddReadyzCheck("serving-certificate", ready); err != nil {
			return nil, err
		}
	}
	// Register the informers now so they sync at start-up, not inside the first admission request.
	for _, obj := range []client.Object{&corev1.Secret{}, &mcfgv1.MachineConfigPool{}} {
		if _, err := mgr.GetCache().GetInformer(context.Background(), obj); err != nil {
			return nil, fmt.Errorf("watching %T: %w", obj, err)
		}
	}
	cluster := &lookups.Cluster{Cached: mgr.GetClient(), Direct: mgr.GetAPIReader(), Prober: opts.Prober,
		Facts: lookups.NewFacts(opts.Settings.Preflight.Rules(), opts.Settings.Preflight.FactTTL.Duration)}
	actions := opts.Actions
	if actions == nil {
		actions = opts.Settings.ActionFor
	}
	validator := webhook.NewValidator(scheme, cluster, actions, metrics)
	mgr.GetWebhookServer().Register(webhook.Path, webhook.LimitInFlightBytes(&admission.Webhook{Handler: validator}, webhook.DefaultInFlightBytes))

	if err := mgr.AddHealthzCheck("ping", func(*http.Request) error { return nil }); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("caches", cacheSynced(mgr.GetCache())); err != nil {
		return nil, err
	}
	// Last, so that a manager that could not be built leaves the registry as it was.
	if err := register(opts.Registry, metrics); err != nil {
		return nil, err
	}
	return mgr, nil
}

// cacheSynced keeps the pod out of the Service until Secrets and pools are cached, so early requests see them.
func cacheSynced(c cache.Cache) func(*http.Request) error {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), time.Second)
		defer cancel()
		if !c.WaitForCacheSync(ctx) {
			return fmt.Errorf("caches not synced yet")
		}
		return nil
	}
}

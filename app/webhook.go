// Package app assembles ocl-guard's processes from its parts (manager, caches, webhook, checker) so that the
// binary and the test bed run exactly the same wiring.
package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
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

// FactsCacheOptions configure the cache of the preflight rules' cluster-wide facts (clusterFactObjects). It is a
// cache of its own because controller-runtime's cache keys its per-object settings by GVK alone
// (pkg/cache/cache.go, delegatingByGVKCache), so the metadata-only watch of one Secret in openshift-config-managed
// cannot live beside the full Secrets of the MCO's namespace in one cache.
func FactsCacheOptions() cache.Options {
	return cache.Options{DefaultTransform: cache.TransformStripManagedFields(), ByObject: clusterFactObjects()}
}

// NewFactsCache returns the facts cache, added to mgr (so it starts and stops with it) with its informers
// registered, so they sync at start-up rather than inside the first admission.
func NewFactsCache(mgr manager.Manager) (cache.Cache, error) {
	opts := FactsCacheOptions()
	opts.Scheme, opts.Mapper, opts.HTTPClient = mgr.GetScheme(), mgr.GetRESTMapper(), mgr.GetHTTPClient()
	c, err := cache.New(mgr.GetConfig(), opts)
	if err != nil {
		return nil, fmt.Errorf("creating the cluster facts cache: %w", err)
	}
	if err := mgr.Add(c); err != nil {
		return nil, err
	}
	return c, watchClusterFacts(context.Background(), c)
}

// clusterFactObjects are the cluster-wide facts of the preflight rules, watched so that a change shows at the next
// evaluation (creating the entitlement Secret clears the entitlement warning at once) and reading them costs the
// API server nothing per admission: image.config/cluster and the ClusterImagePolicies, and the metadata only
// (never the content) of the entitlement Secret and the repository ConfigMap, each watched by name as the Roles'
// resourceNames allow.
func clusterFactObjects() map[client.Object]cache.ByObject {
	byName := func(name string) fields.Selector { return fields.OneTermEqualSelector("metadata.name", name) }
	metadataOf := func(kind string) *metav1.PartialObjectMetadata {
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kind))
		return m
	}
	return map[client.Object]cache.ByObject{
		&configv1.Image{}:              {Field: byName(lookups.ImageConfigName)},
		&configv1.ClusterImagePolicy{}: {},
		metadataOf("Secret"): {Namespaces: map[string]cache.Config{
			mco.EntitlementSecretNamespace: {FieldSelector: byName(mco.EntitlementSecretName)}}},
		metadataOf("ConfigMap"): {Namespaces: map[string]cache.Config{
			mco.Namespace: {FieldSelector: byName(mco.YumReposConfigMapName)}}},
	}
}

// watchClusterFacts starts the informers of clusterFactObjects, so they sync at start-up rather than inside the
// first admission. A kind the API server does not serve (config.openshift.io outside OpenShift, ClusterImagePolicy
// before 4.16) is skipped: the rules then read it as absent.
func watchClusterFacts(ctx context.Context, c cache.Cache) error {
	for obj := range clusterFactObjects() {
		if _, err := c.GetInformer(ctx, obj); err != nil && !meta.IsNoMatchError(err) {
			return fmt.Errorf("watching %T: %w", obj, err)
		}
	}
	return nil
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
	// Prober probes registries; nil leaves registry rules "not probed".
	Prober validators.Prober
	// Actions overrides Settings.ActionFor, e.g. for tests that switch a rule between deny and warn.
	Actions validators.ActionFor
	// Registry receives the webhook's metrics (webhook.Metrics): controller-runtime's metrics.Registry, which the
	// manager serves on MetricsAddr, in the binary; a registry of its own for each webhook a test starts.
	Registry prometheus.Registerer
}

// NewWebhookManager returns a manager serving the MachineOSConfig webhook. Start it to serve.
func NewWebhookManager(cfg *rest.Config, opts WebhookOptions) (manager.Manager, error) {
	cfg = WholeWarnings(cfg)
	scheme, err := Scheme()
	if err != nil {
		return nil, err
	}
	metrics := webhook.NewMetrics()
	tlsOpts := certs.ServingTLSOptions()
	servingCert := func(*tls.Config) {} // CertDir's files, unless self-managed
	// Like servingCert, set below for self-managed certificates and read when the server starts.
	haveCert := func() error { return nil }
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		Cache:  CacheOptions(),
		WebhookServer: &CertGatedServer{
			Server: crwebhook.NewServer(crwebhook.Options{
				Host: opts.Host, Port: opts.Port, CertDir: opts.CertDir,
				// Evaluated when the server starts, after the self-managed source has been added below.
				TLSOpts: append(tlsOpts, func(c *tls.Config) { servingCert(c) }),
			}),
			HaveCertificate: func() error { return haveCert() },
		},
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
		haveCert = func() error { return ready(nil) }
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
	env, facts, err := managerRuleEnv(mgr, opts.Settings, opts.Prober, opts.Actions)
	if err != nil {
		return nil, err
	}
	validator := webhook.NewValidator(scheme, env, metrics)
	mgr.GetWebhookServer().Register(webhook.Path, webhook.LimitInFlightBytes(&admission.Webhook{Handler: validator}, webhook.DefaultInFlightBytes))

	return finish(mgr, opts.Registry, metrics, []cache.Cache{mgr.GetCache(), facts},
		map[string]healthz.Checker{"webhook": mgr.GetWebhookServer().StartedChecker()})
}

// cacheSynced keeps the pod out of the Service until what the rules read is cached, so early requests see it.
func cacheSynced(caches ...cache.Cache) func(*http.Request) error {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), time.Second)
		defer cancel()
		for _, c := range caches {
			if !c.WaitForCacheSync(ctx) {
				return fmt.Errorf("caches not synced yet")
			}
		}
		return nil
	}
}

// CertGatedServer starts the webhook server only once HaveCertificate says a serving certificate exists. A TLS
// listener without one fails every handshake, and Go's http.Server logs each failure ("http: TLS handshake error
// from ...: no tls.Certificate available", from cert-manager's DynamicSource); controller-runtime's server offers no
// way to set its ErrorLog. The self-managed source has no certificate until its CA has been in the caBundle for
// the publish grace, during which the API server, the readiness probe and the test bed's wait (test/testbed
// WaitForTLS) all connect. Until then connections are refused (to the API server the same as a failed handshake:
// failurePolicy decides), and the wait is logged once.
type CertGatedServer struct {
	crwebhook.Server
	// HaveCertificate returns nil once a serving certificate can be served, else why not.
	HaveCertificate func() error
	// Poll is how often HaveCertificate is asked; zero means every 200 ms.
	Poll time.Duration
	// Log says that it waits; ctrl.Log's "webhook" logger when unset.
	Log *logr.Logger
}

func (s *CertGatedServer) Start(ctx context.Context) error {
	if err := s.HaveCertificate(); err != nil {
		log := ctrl.Log.WithName("webhook")
		if s.Log != nil {
			log = *s.Log
		}
		log.Info("waiting for the serving certificate before accepting connections", "reason", err.Error())
		poll := s.Poll
		if poll <= 0 {
			poll = 200 * time.Millisecond
		}
		if err := wait.PollUntilContextCancel(ctx, poll, false, func(context.Context) (bool, error) {
			return s.HaveCertificate() == nil, nil
		}); err != nil {
			return nil // stopped before there was anything to serve
		}
		log.Info("serving certificate available: accepting connections")
	}
	return s.Server.Start(ctx)
}

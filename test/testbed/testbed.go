// Package testbed runs ocl-guard against a real control plane: envtest's kube-apiserver and etcd (built from Go
// modules by test/tools/build-envtest-assets.sh), the real OpenShift CRDs from the openshift/api module, and the
// webhook served in-process over TLS behind the real ValidatingWebhookConfiguration from config/webhook.
// The envtest suites and `make run` both use it.
package testbed

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/certs"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
)

// KubernetesVersion is the control plane the build script produces by default.
const KubernetesVersion = "1.36.3"

// Options configure a test bed.
type Options struct {
	Settings config.Settings
	Prober   validators.Prober
	// Actions overrides Settings.ActionFor.
	Actions validators.ActionFor
	// ExternalWebhook leaves serving the webhook to the caller (the real binary, say) at WebhookServing's address,
	// with its certificate; the ValidatingWebhookConfiguration is registered either way.
	ExternalWebhook bool
	// SelfManagedCerts serves the webhook in --cert-mode=self instead of with envtest's certificates: the
	// webhook issues its certificate and publishes its CA into the caBundle (see SelfManagedCerts()).
	SelfManagedCerts *certs.SelfManaged
}

// SelfManagedCerts is --cert-mode=self as the test bed runs it: the CA in Secret ocl-guard/ocl-guard-webhook-ca,
// a certificate for localhost (the address envtest registers), and a short publish grace for a quick start.
func SelfManagedCerts() *certs.SelfManaged {
	return &certs.SelfManaged{
		CASecret:             types.NamespacedName{Namespace: "ocl-guard", Name: "ocl-guard-webhook-ca"},
		WebhookConfiguration: "ocl-guard",
		DNSNames:             []string{selfManagedHost},
		PublishGrace:         time.Second,
	}
}

// selfManagedHost is where envtest registers the webhook in self-managed mode: certificates of
// cert-manager's DynamicSource carry DNS names only, no IP addresses.
const selfManagedHost = "localhost"

// Bed is a running control plane with the webhook registered.
type Bed struct {
	Env    *envtest.Environment
	Config *rest.Config
	Client client.Client
	// certDir keeps the API server's certificates across RestartAPIServer.
	certDir string
	stop    context.CancelFunc
	done    chan error
	opts    Options
}

// assetsDir is where the control plane's binaries are: KUBEBUILDER_ASSETS, else what make envtest-assets built.
func assetsDir(root string) (string, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(root, "bin", "k8s", KubernetesVersion)
	}
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		return "", fmt.Errorf("no kube-apiserver in %s: run 'make envtest-assets' (test/tools/build-envtest-assets.sh) first", assets)
	}
	return assets, nil
}

// ControlPlane is a control plane, not started, with the OpenShift CRDs and the CRDs at extraCRDs (paths from the
// repository's root) and no webhook: for the suites that prove manifests and policies (test/install, test/acm,
// test/admissionpolicy) rather than ocl-guard's webhook, which Start serves. It has Start's start timeout.
func ControlPlane(extraCRDs ...string) (*envtest.Environment, error) {
	root := RepoRoot()
	assets, err := assetsDir(root)
	if err != nil {
		return nil, err
	}
	crds, err := OpenShiftCRDs(root)
	if err != nil {
		return nil, err
	}
	for _, p := range extraCRDs {
		if !filepath.IsAbs(p) {
			p = filepath.Join(root, p)
		}
		crds = append(crds, p)
	}
	return &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		ControlPlaneStartTimeout: startTimeout(),
		CRDInstallOptions:        envtest.CRDInstallOptions{Paths: crds, ErrorIfPathMissing: true},
	}, nil
}

// CreateNamespaces creates the namespaces every OpenShift cluster has where ocl-guard reads objects and config/rbac
// puts Roles (the MCO's, openshift-config, openshift-config-managed), and extra.
func CreateNamespaces(ctx context.Context, c client.Client, extra ...string) error {
	for _, ns := range append([]string{mco.Namespace, mco.ClusterPullSecretNamespace, mco.EntitlementSecretNamespace}, extra...) {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return fmt.Errorf("creating namespace %s: %w", ns, err)
		}
	}
	return nil
}

// startTimeout bounds the start of etcd and kube-apiserver. `go test ./...` starts several control planes at once
// (e2e, process, devenv), and on a loaded 2-core machine envtest's 20 s default was seen to run out.
// KUBEBUILDER_CONTROLPLANE_START_TIMEOUT still decides when set.
func startTimeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT")); err == nil {
		return d
	}
	return 2 * time.Minute
}

// RepoRoot is the directory holding go.mod: two above this file's directory when the build kept source paths, else
// (a build with -trimpath, as the Makefile's, records only module paths) the nearest directory at or above the
// working directory whose go.mod declares ocl-guard's module; go test runs in the package's directory, make run in
// the root.
func RepoRoot() string {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	}
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && declaresModule(string(data), modulePath) {
			return dir
		}
		if filepath.Dir(dir) == dir {
			return wd
		}
	}
}

// modulePath is ocl-guard's module.
const modulePath = "github.com/ocl-guard/ocl-guard"

func declaresModule(gomod, module string) bool {
	for _, line := range strings.Split(gomod, "\n") {
		if fields := strings.Fields(line); len(fields) == 2 && fields[0] == "module" && strings.Trim(fields[1], `"`) == module {
			return true
		}
	}
	return false
}

// Start brings up the control plane, installs the CRDs and namespaces, and serves the webhook.
func Start(opts Options) (*Bed, error) {
	env, err := ControlPlane()
	if err != nil {
		return nil, err
	}
	// The API server's certificates in a directory of ours: envtest makes new ones (a new CA) when it starts the API
	// server again in a directory of its own, and the clients made before would no longer trust it.
	certDir, err := os.MkdirTemp("", "ocl-guard-apiserver-")
	if err != nil {
		return nil, err
	}
	apiServer := &envtest.APIServer{CertDir: certDir}
	// A stop closes the watches after a second instead of waiting for their clients to end them: with a watch open
	// (an informer), kube-apiserver outlasted envtest's 20 s stop timeout and was killed.
	apiServer.Configure().Set("shutdown-watch-termination-grace-period", "1s")
	env.ControlPlane = envtest.ControlPlane{APIServer: apiServer}
	env.WebhookInstallOptions = envtest.WebhookInstallOptions{
		Paths: []string{filepath.Join(RepoRoot(), "config", "webhook", "manifests.yaml")},
	}
	if opts.SelfManagedCerts != nil {
		env.WebhookInstallOptions.LocalServingHostExternalName = selfManagedHost
	}
	cfg, err := env.Start()
	if err != nil {
		_ = os.RemoveAll(certDir)
		return nil, fmt.Errorf("starting envtest control plane: %w", err)
	}
	bed := &Bed{Env: env, Config: cfg, opts: opts, certDir: certDir}
	err = bed.prepare()
	if err == nil && !opts.ExternalWebhook {
		err = bed.serve()
	}
	if err != nil {
		_ = bed.Stop()
		return nil, err
	}
	return bed, nil
}

// prepare creates the client and the namespaces the webhook reads from (and keeps its CA in).
func (b *Bed) prepare() error {
	scheme, err := app.Scheme()
	if err != nil {
		return err
	}
	if b.Client, err = client.New(b.Config, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	var extra []string
	if b.opts.SelfManagedCerts != nil {
		extra = append(extra, b.opts.SelfManagedCerts.CASecret.Namespace)
	}
	ctx := context.Background()
	if err := CreateNamespaces(ctx, b.Client, extra...); err != nil {
		return err
	}
	// A cluster with Simple Content Access has the entitlement the MCO copies into builds; without it, every sample
	// Containerfile that installs a package is reported by rule entitlement.
	if err := b.Client.Create(ctx, EntitlementSecret()); err != nil {
		return fmt.Errorf("creating the entitlement Secret: %w", err)
	}
	return nil
}

// WebhookOptions are the options the bed's webhook runs with; with another Port they start a second replica. Each
// call gives a registry of its own for the webhook's metrics, as each replica's process has: a restarted or second
// webhook does not meet the first's collectors.
func (b *Bed) WebhookOptions() app.WebhookOptions {
	wh := b.Env.WebhookInstallOptions
	return app.WebhookOptions{
		Settings: b.opts.Settings, Host: wh.LocalServingHost, Port: wh.LocalServingPort, CertDir: wh.LocalServingCertDir,
		SelfManagedCerts: b.opts.SelfManagedCerts,
		MetricsAddr:      "0", ProbeAddr: "0", Prober: b.opts.Prober, Actions: b.opts.Actions,
		Registry: prometheus.NewRegistry(),
	}
}

func (b *Bed) serve() error {
	opts := b.WebhookOptions()
	mgr, err := app.NewWebhookManager(b.Config, opts)
	if err != nil {
		return err
	}
	var ctx context.Context
	ctx, b.stop = context.WithCancel(context.Background())
	b.done = make(chan error, 1)
	go func() { b.done <- mgr.Start(ctx) }()
	return WaitForTLS(net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)), 30*time.Second)
}

// RestartWebhook stops the webhook and starts it again, as a pod restart would.
func (b *Bed) RestartWebhook() error {
	if err := b.stopWebhook(); err != nil {
		return err
	}
	return b.serve()
}

func (b *Bed) stopWebhook() error {
	if b.stop == nil {
		return nil
	}
	b.stop()
	b.stop = nil
	return <-b.done
}

// WebhookServing is where the registered ValidatingWebhookConfiguration sends requests, and the directory holding
// the serving certificate (tls.crt, tls.key) its caBundle trusts.
func (b *Bed) WebhookServing() (host string, port int, certDir string) {
	wh := b.Env.WebhookInstallOptions
	return wh.LocalServingHost, wh.LocalServingPort, wh.LocalServingCertDir
}

// WaitForWebhook waits until something answers TLS at the webhook's address.
func (b *Bed) WaitForWebhook(timeout time.Duration) error {
	host, port, _ := b.WebhookServing()
	return WaitForTLS(net.JoinHostPort(host, strconv.Itoa(port)), timeout)
}

// EntitlementSecret is a stand-in for openshift-config-managed/etc-pki-entitlement (no real certificate).
func EntitlementSecret() *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: mco.EntitlementSecretNamespace, Name: mco.EntitlementSecretName},
		Data:       map[string][]byte{"entitlement.pem": []byte("stand-in"), "entitlement-key.pem": []byte("stand-in")},
	}
}

// Stop shuts the webhook and the control plane down.
func (b *Bed) Stop() error {
	return errors.Join(b.stopWebhook(), b.Env.Stop(), os.RemoveAll(b.certDir))
}

// RestartAPIServer stops kube-apiserver and starts it again on the same port with the same certificates; etcd
// keeps running, so the objects stay. Clients made before work again once it is back, as after a control-plane
// upgrade: watches break and informers list again.
func (b *Bed) RestartAPIServer() error {
	apiServer := b.Env.ControlPlane.GetAPIServer()
	if err := apiServer.Stop(); err != nil {
		return fmt.Errorf("stopping kube-apiserver: %w", err)
	}
	if err := apiServer.Start(); err != nil {
		return fmt.Errorf("starting kube-apiserver again: %w", err)
	}
	return nil
}

// Kubeconfig returns a kubeconfig for the control plane's admin user, for kubectl.
func (b *Bed) Kubeconfig() ([]byte, error) {
	user, err := b.Env.ControlPlane.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, err
	}
	return user.KubeConfig()
}

// OpenShiftCRDs returns the CRD manifests for MachineOSConfig, MachineOSBuild, MachineConfig, the self-managed
// (default feature set) MachineConfigPool, ClusterOperator, and the config.openshift.io Image and ClusterImagePolicy
// that the preflight rules read, straight from the openshift/api module in use.
func OpenShiftCRDs(root string) ([]string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/openshift/api")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("locating the openshift/api module (go list -m): %w", err)
	}
	module := strings.TrimSpace(string(out))
	clusterOperators := filepath.Join(module, "config", "v1", "zz_generated.crd-manifests", "0000_00_cluster-version-operator_01_clusteroperators.crd.yaml")
	if _, err := os.Stat(clusterOperators); err != nil {
		return nil, fmt.Errorf("the ClusterOperator CRD: %w", err)
	}
	dir := filepath.Join(module, "machineconfiguration", "v1", "zz_generated.crd-manifests")
	var files []string
	for _, pattern := range []string{
		"*_machineosconfigs.crd.yaml",
		"*_machineosbuilds.crd.yaml",
		"*_machineconfigs.crd.yaml",
		// The pool CRD is split per cluster profile and feature set; exactly one variant may be installed.
		"*_machineconfigpools-SelfManagedHA.crd.yaml",
		"*_machineconfigpools-Default.crd.yaml",
	} {
		matches, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, err
		}
		if strings.Contains(pattern, "machineconfigpools") && hasPool(files) {
			continue
		}
		files = append(files, matches...)
	}
	configDir := filepath.Join(strings.TrimSpace(string(out)), "config", "v1", "zz_generated.crd-manifests")
	for _, pattern := range []string{"*_config-operator_01_images.crd.yaml", "*_config-operator_01_clusterimagepolicies.crd.yaml"} {
		matches, err := filepath.Glob(filepath.Join(configDir, pattern))
		if err != nil {
			return nil, err
		}
		files = append(files, matches...)
	}
	if len(files) != 6 {
		return nil, fmt.Errorf("expected 6 CRD manifests in %s and %s, found %d: %v", dir, configDir, len(files), files)
	}
	return append(files, clusterOperators), nil
}

func hasPool(files []string) bool {
	for _, f := range files {
		if strings.Contains(f, "machineconfigpools") {
			return true
		}
	}
	return false
}

// WaitForTLS waits until addr completes a TLS handshake (a self-managed webhook has no certificate to offer
// before its CA is published).
func WaitForTLS(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only checks that the listener is up
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("webhook did not start serving on %s: %w", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"

	cmtls "github.com/cert-manager/cert-manager/pkg/server/tls"
	"github.com/cert-manager/cert-manager/pkg/server/tls/authority"
	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// SelfManaged serves the webhook with certificates it issues itself, for clusters with neither OpenShift's service
// CA nor cert-manager. It uses cert-manager's own bootstrap machinery (github.com/cert-manager/cert-manager
// pkg/server/tls, which cert-manager's webhook runs before any issuer exists): a DynamicAuthority keeps a CA in a
// Secret and rotates it at two thirds of its life; a DynamicSource signs the serving certificate with it and
// renews it at two thirds of its life, in memory, without a restart. Every replica shares the CA through the Secret.
//
// What ocl-guard adds: every replica publishes the CA into the ValidatingWebhookConfiguration's caBundle (the
// patch is idempotent and guarded by resourceVersion), keeping earlier CAs of its own until they expire, and a
// replica serves a certificate only once the API server trusts its CA (it has been in the caBundle for
// PublishGrace). So a CA rotation never presents the API server with a certificate it cannot verify.
type SelfManaged struct {
	// CASecret is the Secret holding the CA (tls.crt, tls.key, ca.crt), created when missing.
	CASecret types.NamespacedName
	// WebhookConfiguration names the ValidatingWebhookConfiguration whose caBundle is kept current.
	WebhookConfiguration string
	// DNSNames of the serving certificate: the webhook Service's names.
	DNSNames []string
	// CADuration and CertDuration are the lifetimes of the CA and the serving certificate; zero means
	// DefaultCADuration and DefaultCertDuration. Short values are for tests.
	CADuration, CertDuration time.Duration
	// PublishGrace is how long a CA must have been in the caBundle before certificates it signed are served, so
	// that every API server's webhook informer has seen it; zero means DefaultPublishGrace.
	PublishGrace time.Duration
	// Resync is how often the caBundle is checked even without a rotation (someone may have edited or
	// re-applied it); zero means DefaultResync.
	Resync time.Duration
}

// Defaults of SelfManaged. The CA lives a year (rotated after eight months); the serving certificate a week.
const (
	DefaultCADuration   = 365 * 24 * time.Hour
	DefaultCertDuration = 7 * 24 * time.Hour
	DefaultPublishGrace = 10 * time.Second
	DefaultResync       = time.Minute
	// CACommonName is the subject of the self-managed CA; earlier CAs are recognised by it.
	CACommonName = "ocl-guard-webhook-ca"
)

// ServiceDNSNames are the names the API server uses to reach a Service.
func ServiceDNSNames(service types.NamespacedName) []string {
	base := service.Name + "." + service.Namespace + ".svc"
	return []string{base, base + ".cluster.local"}
}

// Setup adds the authority, the certificate source and the caBundle publisher to mgr. It returns the TLS option
// that serves the certificate and a readiness check that passes once one is being served.
func (s SelfManaged) Setup(mgr manager.Manager) (func(*tls.Config), healthz.Checker, error) {
	if s.CASecret.Namespace == "" || s.CASecret.Name == "" || s.WebhookConfiguration == "" || len(s.DNSNames) == 0 {
		return nil, nil, errors.New("self-managed certificates need the CA Secret's namespace and name, the ValidatingWebhookConfiguration's name and at least one DNS name")
	}
	caDuration, certDuration := orDefault(s.CADuration, DefaultCADuration), orDefault(s.CertDuration, DefaultCertDuration)
	if certDuration >= caDuration {
		return nil, nil, fmt.Errorf("the serving certificate's lifetime %s must be shorter than the CA's %s", certDuration, caDuration)
	}
	ca := &authority.DynamicAuthority{
		SecretNamespace: s.CASecret.Namespace, SecretName: s.CASecret.Name,
		SecretLabels: map[string]string{"app.kubernetes.io/name": "ocl-guard"},
		RESTConfig:   mgr.GetConfig(), CommonName: CACommonName,
		CADuration: caDuration, LeafDuration: certDuration,
	}
	pub := &publisher{
		reader: mgr.GetAPIReader(), writer: mgr.GetClient(), ca: ca,
		secret: s.CASecret, webhookConfiguration: s.WebhookConfiguration,
		resync: orDefault(s.Resync, DefaultResync), trusted: newTrustedCAs(orDefault(s.PublishGrace, DefaultPublishGrace)),
		log: ctrl.Log.WithName("serving-cert").WithName("ca-bundle"),
	}
	source := &cmtls.DynamicSource{DNSNames: s.DNSNames, Authority: &servedOnlyWhenTrusted{DynamicAuthority: ca, trusted: pub.trusted}}
	log := ctrl.Log.WithName("serving-cert")
	for _, r := range []manager.Runnable{pub, everyReplica(func(ctx context.Context) error { return source.Start(logr.NewContext(ctx, log)) })} {
		if err := mgr.Add(r); err != nil {
			return nil, nil, err
		}
	}
	serve := func(c *tls.Config) { c.GetCertificate = source.GetCertificate }
	ready := func(*http.Request) error {
		if !source.Healthy() {
			return fmt.Errorf("no serving certificate yet: waiting for the CA in Secret %s to be in the caBundle of ValidatingWebhookConfiguration %s", s.CASecret, s.WebhookConfiguration)
		}
		return nil
	}
	return serve, ready, nil
}

// servedOnlyWhenTrusted refuses to hand the certificate source a certificate whose CA the API server does not
// trust yet; the source keeps serving its current certificate and retries (ErrCertificateNotAvailable).
type servedOnlyWhenTrusted struct {
	*authority.DynamicAuthority
	trusted *trustedCAs
}

func (a *servedOnlyWhenTrusted) Sign(template *x509.Certificate) (*x509.Certificate, error) {
	cert, err := a.DynamicAuthority.Sign(template)
	if err != nil {
		return nil, err
	}
	if !a.trusted.signed(cert, time.Now()) {
		return nil, authority.ErrCertificateNotAvailable
	}
	return cert, nil
}

// everyReplica runs on every replica, leader or not: each one serves admission and needs a certificate.
type everyReplica manager.RunnableFunc

func (r everyReplica) Start(ctx context.Context) error { return r(ctx) }
func (everyReplica) NeedLeaderElection() bool          { return false }

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

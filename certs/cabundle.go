package certs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cert-manager/cert-manager/pkg/server/tls/authority"
	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// maxBundledCAs bounds the caBundle: the current CA and the two before it, while they are valid.
const maxBundledCAs = 3

// publisher keeps the current CA in the caBundle of every webhook of one ValidatingWebhookConfiguration. It reads
// the CA Secret and the configuration by name (no list or watch: RBAC grants get and patch on that one object).
type publisher struct {
	reader               client.Reader
	writer               client.Client
	ca                   *authority.DynamicAuthority
	secret               types.NamespacedName
	webhookConfiguration string
	resync               time.Duration
	trusted              *trustedCAs
	log                  logr.Logger
}

func (p *publisher) NeedLeaderElection() bool { return false }

// Start publishes at start, on every CA rotation the authority reports, and every resync; a failed attempt is
// retried after a second.
func (p *publisher) Start(ctx context.Context) error {
	rotated := make(chan struct{}, 1)
	p.ca.WatchRotation(rotated)
	defer p.ca.StopWatchingRotation(rotated)
	for {
		wait := p.resync
		if err := p.publish(ctx); err != nil {
			p.log.Error(err, "publishing the webhook CA; retrying", "validatingWebhookConfiguration", p.webhookConfiguration)
			wait = time.Second
		}
		select {
		case <-ctx.Done():
			return nil
		case <-rotated:
		case <-time.After(wait):
		}
	}
}

func (p *publisher) publish(ctx context.Context) error {
	var secret corev1.Secret
	if err := p.reader.Get(ctx, p.secret, &secret); apierrors.IsNotFound(err) {
		return nil // the authority creates it and reports the rotation
	} else if err != nil {
		return fmt.Errorf("reading CA Secret %s: %w", p.secret, err)
	}
	current, err := parseCertificates(secret.Data[corev1.TLSCertKey])
	if err != nil || len(current) != 1 {
		return nil // the authority regenerates a malformed CA and reports it
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var vwc admissionregistrationv1.ValidatingWebhookConfiguration
		if err := p.reader.Get(ctx, client.ObjectKey{Name: p.webhookConfiguration}, &vwc); err != nil {
			return fmt.Errorf("reading ValidatingWebhookConfiguration %s: %w", p.webhookConfiguration, err)
		}
		if len(vwc.Webhooks) == 0 {
			return fmt.Errorf("ValidatingWebhookConfiguration %s has no webhooks", p.webhookConfiguration)
		}
		bundle := mergeBundle(vwc.Webhooks[0].ClientConfig.CABundle, current[0], time.Now())
		before := vwc.DeepCopy()
		changed := false
		for i := range vwc.Webhooks {
			if !bytes.Equal(vwc.Webhooks[i].ClientConfig.CABundle, bundle) {
				vwc.Webhooks[i].ClientConfig.CABundle = bundle
				changed = true
			}
		}
		if changed {
			patch := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
			if err := p.writer.Patch(ctx, &vwc, patch); err != nil {
				return err
			}
			p.log.Info("published the webhook CA", "validatingWebhookConfiguration", p.webhookConfiguration, "caNotAfter", current[0].NotAfter)
		}
		published, _ := parseCertificates(bundle)
		p.trusted.observe(published, time.Now())
		return nil
	})
}

// mergeBundle returns the caBundle to publish: current first, then earlier CAs of ours from existing that are
// still valid, newest first, at most maxBundledCAs in all. Serving certificates signed by an earlier CA stay
// verifiable while replicas move to the current one; anything else in existing (another CA, garbage) is dropped.
func mergeBundle(existing []byte, current *x509.Certificate, now time.Time) []byte {
	keep := []*x509.Certificate{current}
	earlier, _ := parseCertificates(existing)
	slices.SortFunc(earlier, func(a, b *x509.Certificate) int { return b.NotBefore.Compare(a.NotBefore) })
	for _, c := range earlier {
		if len(keep) == maxBundledCAs {
			break
		}
		if c.IsCA && c.Subject.CommonName == current.Subject.CommonName && now.Before(c.NotAfter) && !c.Equal(current) {
			keep = append(keep, c)
		}
	}
	var out []byte
	for _, c := range keep {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// parseCertificates reads the CERTIFICATE blocks of a PEM bundle, skipping blocks that do not parse.
func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, errNoCertificates
	}
	return out, nil
}

// trustedCAs remembers since when each CA has been in the published caBundle.
type trustedCAs struct {
	mu    sync.Mutex
	grace time.Duration
	since map[[sha256.Size]byte]publishedCA
}

type publishedCA struct {
	cert  *x509.Certificate
	since time.Time
}

func newTrustedCAs(grace time.Duration) *trustedCAs {
	return &trustedCAs{grace: grace, since: map[[sha256.Size]byte]publishedCA{}}
}

// observe records the CAs now in the caBundle; a CA no longer there stops being trusted.
func (t *trustedCAs) observe(bundle []*x509.Certificate, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	next := make(map[[sha256.Size]byte]publishedCA, len(bundle))
	for _, c := range bundle {
		key := sha256.Sum256(c.Raw)
		if seen, ok := t.since[key]; ok {
			next[key] = seen
		} else {
			next[key] = publishedCA{cert: c, since: now}
		}
	}
	t.since = next
}

// signed reports whether cert was signed by a CA that has been published for at least the grace period.
func (t *trustedCAs) signed(cert *x509.Certificate, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, ca := range t.since {
		if !now.Before(ca.since.Add(t.grace)) && cert.CheckSignatureFrom(ca.cert) == nil {
			return true
		}
	}
	return false
}

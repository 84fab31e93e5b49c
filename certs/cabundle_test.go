package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// newCA is a CA valid from epoch+from for life.
func newCA(t *testing.T, cn string, from, life time.Duration) ca {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: epoch.Add(from), NotAfter: epoch.Add(from + life),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return ca{cert: c, key: key}
}

func (c ca) sign(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), DNSNames: []string{"svc"}, NotBefore: c.cert.NotBefore, NotAfter: c.cert.NotAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func bundleOf(cas ...ca) []byte {
	var out []byte
	for _, c := range cas {
		out = append(out, pemOf(c.cert)...)
	}
	return out
}

func TestMergeBundleKeepsEarlierValidCAsOfOursNewestFirst(t *testing.T) {
	const day = 24 * time.Hour
	oldest := newCA(t, CACommonName, 0, 30*day)
	older := newCA(t, CACommonName, day, 30*day)
	previous := newCA(t, CACommonName, 2*day, 30*day)
	current := newCA(t, CACommonName, 3*day, 30*day)
	expired := newCA(t, CACommonName, 0, day)
	foreign := newCA(t, "openshift-service-serving-signer", 0, 300*day)
	now := epoch.Add(3 * day)

	for _, tc := range []struct {
		name     string
		existing []byte
		want     []ca
	}{
		{"empty", nil, []ca{current}},
		{"garbage", []byte("not PEM"), []ca{current}},
		{"already published", bundleOf(current), []ca{current}},
		{"rotation keeps the previous CA", bundleOf(previous), []ca{current, previous}},
		{"at most three, newest first", bundleOf(oldest, previous, older), []ca{current, previous, older}},
		{"expired and foreign CAs are dropped", bundleOf(expired, foreign, previous), []ca{current, previous}},
		{"current is not repeated", bundleOf(current, previous, current), []ca{current, previous}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(mergeBundle(tc.existing, current.cert, now))
			if want := string(bundleOf(tc.want...)); got != want {
				t.Errorf("got bundle of %d bytes, want %d bytes", len(got), len(want))
			}
		})
	}
}

func TestServedOnlyOnceTheCAHasBeenPublishedForTheGrace(t *testing.T) {
	const grace = 10 * time.Second
	first, second := newCA(t, CACommonName, 0, time.Hour), newCA(t, CACommonName, time.Minute, time.Hour)
	trusted := newTrustedCAs(grace)
	leaf := second.sign(t)

	trusted.observe([]*x509.Certificate{first.cert}, epoch)
	for _, tc := range []struct {
		name string
		do   func()
		at   time.Duration
		want bool
	}{
		{"CA not published", func() {}, time.Hour, false},
		{"just published", func() { trusted.observe([]*x509.Certificate{second.cert, first.cert}, epoch.Add(time.Minute)) }, time.Minute, false},
		{"within the grace", func() {}, time.Minute + grace - time.Nanosecond, false},
		{"grace over", func() {}, time.Minute + grace, true},
		{"seen again keeps its first sighting", func() { trusted.observe([]*x509.Certificate{second.cert}, epoch.Add(2*time.Minute)) }, time.Minute + grace, true},
		{"removed from the bundle", func() { trusted.observe([]*x509.Certificate{first.cert}, epoch.Add(3*time.Minute)) }, time.Hour, false},
	} {
		tc.do()
		if got := trusted.signed(leaf, epoch.Add(tc.at)); got != tc.want {
			t.Errorf("%s: signed = %v, want %v", tc.name, got, tc.want)
		}
	}
}

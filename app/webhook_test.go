package app

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"log"
	"math/big"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
)

// Before the webhook has a serving certificate, connections are refused rather than accepted and failed in the
// handshake, so Go's http.Server logs no "http: TLS handshake error ... no tls.Certificate available" per
// connection; the wait is logged once.
func TestCertGatedServerAcceptsConnectionsOnlyWithACertificate(t *testing.T) {
	g := NewWithT(t)
	stdlog := &lockedBuffer{}
	log.SetOutput(stdlog) // where http.Server writes handshake errors when its ErrorLog is unset, as controller-runtime's is
	t.Cleanup(func() { log.SetOutput(os.Stderr) })

	var cert atomic.Pointer[tls.Certificate]
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	host, port, _ := net.SplitHostPort(addr)
	portNumber, _ := strconv.Atoi(port)
	server := crwebhook.NewServer(crwebhook.Options{Host: host, Port: portNumber, TLSOpts: []func(*tls.Config){func(c *tls.Config) {
		// What cert-manager's DynamicSource.GetCertificate answers before it has a certificate.
		c.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if c := cert.Load(); c != nil {
				return c, nil
			}
			return nil, errors.New("no tls.Certificate available")
		}
	}}})
	logged := &messageSink{}
	logger := logr.New(logged)
	gated := &CertGatedServer{Server: server, Poll: 10 * time.Millisecond, Log: &logger, HaveCertificate: func() error {
		if cert.Load() == nil {
			return errors.New("no serving certificate yet")
		}
		return nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gated.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		g.Eventually(done).WithTimeout(10 * time.Second).Should(Receive(BeNil()))
	})

	dial := func() error {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // a self-signed test certificate
		if err == nil {
			return conn.Close()
		}
		return err
	}
	g.Eventually(logged.all).Should(ConsistOf(ContainSubstring("waiting for the serving certificate")))
	for range 5 {
		err := dial()
		g.Expect(errors.Is(err, syscall.ECONNREFUSED)).To(BeTrue(), "before the certificate, a connection must be refused, got %v", err)
	}
	g.Expect(gated.StartedChecker()(nil)).NotTo(Succeed(), "ready before it serves")

	cert.Store(selfSignedCertificate(t))
	g.Eventually(dial).WithTimeout(10 * time.Second).Should(Succeed())
	g.Expect(gated.StartedChecker()(nil)).To(Succeed())
	g.Expect(logged.all()).To(ConsistOf(ContainSubstring("waiting for the serving certificate"), ContainSubstring("accepting connections")))
	g.Expect(stdlog.String()).NotTo(ContainSubstring("TLS handshake error"))
}

// A server whose certificate is there from the start (files from --cert-dir) serves at once and says nothing.
func TestCertGatedServerWithACertificateStartsAtOnce(t *testing.T) {
	g := NewWithT(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	host, port, _ := net.SplitHostPort(addr)
	portNumber, _ := strconv.Atoi(port)
	cert := selfSignedCertificate(t)
	server := crwebhook.NewServer(crwebhook.Options{Host: host, Port: portNumber, TLSOpts: []func(*tls.Config){func(c *tls.Config) {
		c.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cert, nil }
	}}})
	logged := &messageSink{}
	logger := logr.New(logged)
	gated := &CertGatedServer{Server: server, Log: &logger, HaveCertificate: func() error { return nil }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gated.Start(ctx) }()
	g.Eventually(func() error { return gated.StartedChecker()(nil) }).WithTimeout(10 * time.Second).Should(Succeed())
	g.Expect(logged.all()).To(BeEmpty())
	cancel()
	g.Eventually(done).WithTimeout(10 * time.Second).Should(Receive(BeNil()))
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func selfSignedCertificate(t *testing.T) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// messageSink is a logr.LogSink that keeps the messages logged.
type messageSink struct {
	mu   sync.Mutex
	msgs []string
}

func (s *messageSink) Init(logr.RuntimeInfo)               {}
func (s *messageSink) Enabled(int) bool                    { return true }
func (s *messageSink) WithValues(...any) logr.LogSink      { return s }
func (s *messageSink) WithName(string) logr.LogSink        { return s }
func (s *messageSink) Error(_ error, msg string, _ ...any) { s.Info(0, msg) }
func (s *messageSink) Info(_ int, msg string, _ ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, msg)
}

func (s *messageSink) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

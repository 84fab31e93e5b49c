// Package registrytest runs the real registry (Debian's docker-registry, distribution 2.8) on 127.0.0.1 over TLS,
// for tests of code that talks to registries: the prober's end-to-end tests and the envtest suite.
//
// Two authentication modes:
//   - Htpasswd: Basic auth from an htpasswd file of bcrypt entries. Every user can push: distribution's htpasswd
//     mode has no per-user rights, so User.Push is ignored.
//   - Token: the registry's auth.token mode, backed by an in-process token service on 127.0.0.1 that issues ES256
//     JWTs granting pull to every user and push only to users with Push set.
//
// Each Registry has its own CA (Registry.CAPool, Registry.CAPEM); the registry's certificate is valid for
// IP:127.0.0.1 and DNS:localhost. Clients must allow loopback addresses. The token realm is
// https://localhost:<port>/token.
//
// The docker-registry binary is found with exec.LookPath; Start returns ErrNoBinary (and MustStart fails the test)
// when it is missing: install it with `apt-get install docker-registry`.
package registrytest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is the registry executable looked up in PATH.
const Binary = "docker-registry"

// ErrNoBinary means docker-registry is not installed.
var ErrNoBinary = errors.New(Binary + " not found in PATH: install Debian's docker-registry package (apt-get install docker-registry)")

// Mode selects how the registry authenticates clients.
type Mode int

const (
	Htpasswd Mode = iota // Basic auth; every user may push
	Token                // Bearer tokens from the in-process token service; push only for User.Push
)

func (m Mode) String() string {
	if m == Token {
		return "token"
	}
	return "htpasswd"
}

// User is an account on the test registry.
type User struct {
	Name, Password string
	Push           bool // token mode only: the token service grants push
	Delete         bool // token mode only: the token service grants delete
}

// The default users.
var (
	Writer = User{Name: "writer", Password: "writer-Pa55", Push: true}
	Reader = User{Name: "reader", Password: "reader-Pa55"}
	// Pruner may also delete, as the MCO's push secret should (it prunes the images of deleted builds).
	Pruner = User{Name: "pruner", Password: "pruner-Pa55", Push: true, Delete: true}
)

// Config describes a registry to start.
type Config struct {
	Mode  Mode
	Users []User // default: Writer, Reader and Pruner
	// Addr is the address to listen on, "127.0.0.1:<port>" (the certificate is for 127.0.0.1 and localhost).
	// Empty picks a free port; a fixed one is for `make run`, whose samples name it.
	Addr string
	// StartTimeout bounds the wait for the registry to answer. Default 10s.
	StartTimeout time.Duration
}

// Registry is a running docker-registry process.
type Registry struct {
	Host   string // "127.0.0.1:<port>"
	URL    string // "https://127.0.0.1:<port>"
	CAPool *x509.CertPool
	CAPEM  []byte
	Users  []User
	Mode   Mode
	// TokenRealm is the token service URL (token mode only).
	TokenRealm string

	dir     string
	cmd     *exec.Cmd
	exited  chan struct{}
	output  *tailBuffer
	token   *tokenServer
	stopped *sync.Once
}

// MustStart starts a registry for one test and stops it when the test ends. It fails the test, never skips it,
// when the registry cannot start.
func MustStart(t testing.TB, cfg Config) *Registry {
	t.Helper()
	r, err := Start(cfg)
	if err != nil {
		t.Fatalf("starting the test registry (%s mode): %v", cfg.Mode, err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("closing the test registry: %v", err)
		}
	})
	return r
}

// StartHtpasswd is MustStart in Htpasswd mode; no users means Writer and Reader.
func StartHtpasswd(t testing.TB, users ...User) *Registry {
	t.Helper()
	return MustStart(t, Config{Mode: Htpasswd, Users: users})
}

// StartToken is MustStart in Token mode; no users means Writer and Reader.
func StartToken(t testing.TB, users ...User) *Registry {
	t.Helper()
	return MustStart(t, Config{Mode: Token, Users: users})
}

// Start starts a registry; the caller must Close it. Suites without a testing.TB (e.g. Ginkgo's BeforeSuite) use
// this.
func Start(cfg Config) (*Registry, error) {
	bin, err := exec.LookPath(Binary)
	if err != nil {
		return nil, ErrNoBinary
	}
	if len(cfg.Users) == 0 {
		cfg.Users = []User{Writer, Reader, Pruner}
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 10 * time.Second
	}
	dir, err := os.MkdirTemp("", "ocl-guard-registry-")
	if err != nil {
		return nil, err
	}
	r := &Registry{dir: dir, Users: cfg.Users, Mode: cfg.Mode}
	if err := r.prepare(cfg); err != nil {
		r.Close()
		return nil, err
	}
	// Another process may take the free port between our probe and the registry's bind: try a few ports.
	for attempt := 1; ; attempt++ {
		err = r.launch(bin, cfg.Addr, cfg.StartTimeout)
		if err == nil {
			return r, nil
		}
		if attempt == 3 || cfg.Addr != "" || !strings.Contains(r.output.String(), "address already in use") {
			r.Close()
			return nil, err
		}
	}
}

// prepare writes the certificates, the credentials and (token mode) starts the token service.
func (r *Registry) prepare(cfg Config) error {
	ca, err := newAuthority("ocl-guard test registry CA")
	if err != nil {
		return err
	}
	r.CAPEM = ca.pem
	r.CAPool = x509.NewCertPool()
	r.CAPool.AddCert(ca.cert)
	serving, err := ca.serve("ocl-guard test registry")
	if err != nil {
		return err
	}
	if err := serving.writeFiles(r.path("tls.crt"), r.path("tls.key")); err != nil {
		return err
	}
	switch cfg.Mode {
	case Htpasswd:
		return writeHtpasswd(r.path("htpasswd"), cfg.Users)
	case Token:
		signer, err := newSigningKeyPair()
		if err != nil {
			return err
		}
		if err := os.WriteFile(r.path("token-signer.crt"), signer.certPEM, 0o600); err != nil {
			return err
		}
		tokenServing, err := ca.serve("ocl-guard test token service")
		if err != nil {
			return err
		}
		tc, err := tokenServing.tlsCertificate()
		if err != nil {
			return err
		}
		r.token = startTokenServer(tc, signer, cfg.Users)
		r.TokenRealm = r.token.realm()
		return nil
	}
	return fmt.Errorf("unknown mode %d: use Htpasswd or Token", cfg.Mode)
}

// launch picks a free port unless addr names one, writes the config and starts the registry, waiting until it
// answers /v2/.
func (r *Registry) launch(bin, addr string, timeout time.Duration) error {
	r.Host = addr
	if addr == "" {
		port, err := freePort()
		if err != nil {
			return err
		}
		r.Host = fmt.Sprintf("127.0.0.1:%d", port)
	}
	r.URL = "https://" + r.Host
	if err := os.WriteFile(r.path("config.yml"), []byte(r.config()), 0o600); err != nil {
		return err
	}
	r.output = &tailBuffer{max: 16 << 10}
	r.cmd = exec.Command(bin, "serve", r.path("config.yml"))
	r.cmd.Stdout, r.cmd.Stderr = r.output, r.output
	r.cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + r.dir} // no REGISTRY_* overrides from outside
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}        // never outlive the test binary
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", bin, err)
	}
	r.exited = make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(r.exited) }()
	r.stopped = &sync.Once{}
	return r.waitReady(timeout)
}

func (r *Registry) waitReady(timeout time.Duration) error {
	client := &http.Client{
		Timeout:   time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: r.CAPool}, Proxy: nil},
	}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(r.URL + "/v2/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-r.exited:
			return fmt.Errorf("%s exited before answering on %s; its output:\n%s", Binary, r.Host, r.output)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			r.Stop()
			return fmt.Errorf("%s did not answer on %s within %v (last error: %v); its output:\n%s", Binary, r.Host, timeout, err, r.output)
		}
	}
}

func (r *Registry) config() string {
	var auth string
	switch r.Mode {
	case Htpasswd:
		auth = fmt.Sprintf("  htpasswd:\n    realm: ocl-guard-test\n    path: %s\n", r.path("htpasswd"))
	case Token:
		auth = fmt.Sprintf("  token:\n    realm: %s\n    service: %s\n    issuer: %s\n    rootcertbundle: %s\n",
			r.TokenRealm, tokenService, tokenIssuer, r.path("token-signer.crt"))
	}
	return fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: ocl-guard-test-secret
  tls:
    certificate: %s
    key: %s
auth:
%s`, r.path("storage"), r.Host, r.path("tls.crt"), r.path("tls.key"), auth)
}

// Stop stops the registry process and waits for it to exit, so its port refuses connections afterwards. The token
// service keeps running. Stop is idempotent.
func (r *Registry) Stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	r.stopped.Do(func() {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.exited:
		case <-time.After(5 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.exited
		}
	})
}

// Close stops the registry and the token service and removes the registry's files.
func (r *Registry) Close() error {
	r.Stop()
	if r.token != nil {
		r.token.close()
	}
	return os.RemoveAll(r.dir)
}

// Repository returns "<host>/<path>", the form the prober and push specs use.
func (r *Registry) Repository(path string) string { return r.Host + "/" + path }

// DockerConfigJSON returns a .dockerconfigjson holding u's credentials for this registry, for a
// kubernetes.io/dockerconfigjson Secret.
func (r *Registry) DockerConfigJSON(u User) []byte {
	b, _ := json.Marshal(map[string]any{"auths": map[string]any{r.Host: map[string]string{
		"username": u.Name,
		"password": u.Password,
		"auth":     base64.StdEncoding.EncodeToString([]byte(u.Name + ":" + u.Password)),
	}}})
	return b
}

// Output returns the last lines the registry printed, for failure messages.
func (r *Registry) Output() string {
	if r.output == nil {
		return ""
	}
	return r.output.String()
}

func (r *Registry) path(name string) string { return filepath.Join(r.dir, name) }

func freePort() (int, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port on 127.0.0.1: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append([]byte(nil), b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

package registry

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
)

const (
	testUser     = "builder"
	testPassword = "s3cret-Pa55word"
)

// newBasicRegistry serves go-containerregistry's in-process registry over TLS behind Basic auth for testUser.
func newBasicRegistry(t *testing.T) *httptest.Server {
	t.Helper()
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != testUser || pass != testPassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func hostOf(srv *httptest.Server) string {
	return strings.TrimPrefix(srv.URL, "https://")
}

func poolFor(srv *httptest.Server) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return pool
}

// newTestProber returns a Prober for loopback test servers; edit adjusts the options first.
func newTestProber(t *testing.T, srv *httptest.Server, edit func(*Options)) *Prober {
	t.Helper()
	opts := Options{AllowLoopback: true, Budget: 2 * time.Second}
	if srv != nil {
		opts.RootCAs = poolFor(srv)
	}
	if edit != nil {
		edit(&opts)
	}
	p, err := NewProber(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.CloseIdleConnections)
	return p
}

// countDials wraps the prober's dialer so tests can prove how many connections were attempted, and to where.
func countDials(p *Prober) *dialLog {
	l := &dialLog{}
	inner := p.dialer.dial
	p.dialer.dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		l.mu.Lock()
		l.addrs = append(l.addrs, address)
		l.mu.Unlock()
		return inner(ctx, network, address)
	}
	return l
}

type dialLog struct {
	mu    sync.Mutex
	addrs []string
}

func (l *dialLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.addrs...)
}

func basicAuth(user, pass string) authn.Authenticator {
	return authn.FromConfig(authn.AuthConfig{Username: user, Password: pass})
}

// fakeResolver maps host names to addresses without DNS.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	ips, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, ip := range ips {
		out = append(out, netip.MustParseAddr(ip))
	}
	return out, nil
}

// tokenRegistry is a fake token-auth registry: /v2/ challenges with Bearer, /token issues tokens on the same
// host (go-containerregistry accepts a loopback realm only there), and a token is accepted on /v2/ if it was issued.
type tokenRegistry struct {
	*httptest.Server
	grants  map[string][]string // user -> actions granted on any repository
	opaque  bool                // issue opaque tokens instead of JWTs
	mu      sync.Mutex
	issued  map[string][]string // token -> actions it grants
	uploads atomic.Int32
}

func newTokenRegistry(t *testing.T, grants map[string][]string, opaque bool) *tokenRegistry {
	t.Helper()
	tr := &tokenRegistry{grants: grants, opaque: opaque, issued: map[string][]string{}}
	tr.Server = httptest.NewTLSServer(http.HandlerFunc(tr.serve))
	t.Cleanup(tr.Close)
	return tr
}

func (tr *tokenRegistry) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		tr.serveToken(w, r)
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tr.mu.Lock()
	actions, ok := tr.issued[tok]
	tr.mu.Unlock()
	upload := r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/blobs/uploads/")
	if !ok || (upload && !slices.Contains(actions, "push")) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="test"`, tr.URL))
		http.Error(w, "{}", http.StatusUnauthorized)
		return
	}
	if upload {
		tr.uploads.Add(1)
		w.Header().Set("Location", r.URL.Path+"some-upload-id")
		w.WriteHeader(http.StatusAccepted)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (tr *tokenRegistry) serveToken(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	actions, known := tr.grants[user]
	if !ok || !known || pass != testPassword {
		http.Error(w, `{"details":"bad credentials"}`, http.StatusUnauthorized)
		return
	}
	var tok string
	if tr.opaque {
		tok = fmt.Sprintf("opaque-%d", time.Now().UnixNano())
	} else {
		scope := strings.Split(r.URL.Query().Get("scope"), ":") // repository:<name>:push,pull
		claims := map[string]any{"iat": time.Now().UnixNano()}
		if len(scope) == 3 {
			claims["access"] = []map[string]any{{"type": "repository", "name": scope[1], "actions": actions}}
		}
		tok = fakeJWT(claims)
	}
	tr.mu.Lock()
	tr.issued[tok] = actions
	tr.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_in": 300})
}

// fakeJWT builds an unsigned JWT: the prober reads the claims and leaves signature checks to the registry.
func fakeJWT(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "ES256", "typ": "JWT"}) + "." + enc(claims) + ".c2ln"
}

// checkNoSecret fails the test if any detail quotes the password.
func checkNoSecret(t *testing.T, r Result) {
	t.Helper()
	for _, s := range []string{r.ReachableDetail, r.PushDetail} {
		if strings.Contains(s, testPassword) {
			t.Errorf("detail leaks the password: %q", s)
		}
	}
}

package registry

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

func TestProbeBasicAuth(t *testing.T) {
	srv := newBasicRegistry(t)
	repo := hostOf(srv) + "/ocl/os-image"
	tests := []struct {
		name        string
		auth        authn.Authenticator
		writeProbe  bool
		wantPush    Status
		wantRefused bool
		wantDetail  string
	}{
		{"good credentials", basicAuth(testUser, testPassword), false, StatusUnknown, false,
			"credentials accepted by " + hostOf(srv) + " (HTTP 200 on /v2/); push right on ocl/os-image not verified without the write probe"},
		{"wrong password", basicAuth(testUser, "wrong"), false, StatusFailed, true, "refused the push secret's credentials (HTTP 401 on /v2/)"},
		{"no credentials", authn.Anonymous, false, StatusSkipped, false, "holds no credentials for " + hostOf(srv)},
		{"write probe, good credentials", basicAuth(testUser, testPassword), true, StatusOK, false, "accepted a test blob upload to ocl/os-image (HTTP 202"},
		{"write probe, wrong password", basicAuth(testUser, "wrong"), true, StatusFailed, true, "HTTP 401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestProber(t, srv, func(o *Options) { o.WriteProbe = tt.writeProbe })
			r := p.Probe(context.Background(), Request{Repository: repo, Auth: tt.auth, CredentialVersion: "uid/1"})
			if r.Reachable != StatusOK {
				t.Fatalf("Reachable = %s (%s), want OK", r.Reachable, r.ReachableDetail)
			}
			if r.Push != tt.wantPush || r.CredentialsRefused != tt.wantRefused {
				t.Errorf("Push = %s, CredentialsRefused = %v (%s); want %s, %v", r.Push, r.CredentialsRefused, r.PushDetail, tt.wantPush, tt.wantRefused)
			}
			if !strings.Contains(r.PushDetail, tt.wantDetail) {
				t.Errorf("PushDetail = %q, want it to contain %q", r.PushDetail, tt.wantDetail)
			}
			checkNoSecret(t, r)
		})
	}
}

func TestPushUnverifiedByDesignOnlyForTheRoutineUnknown(t *testing.T) {
	srv := newBasicRegistry(t)
	p := newTestProber(t, srv, nil)
	r := p.Probe(context.Background(), Request{Repository: hostOf(srv) + "/a/b", Auth: basicAuth(testUser, testPassword), CredentialVersion: "v"})
	if !PushUnverifiedByDesign(r) {
		t.Errorf("Basic auth without the write probe should be routine: %+v", r)
	}
	if PushUnverifiedByDesign(Result{Push: StatusUnknown, PushDetail: "getting a token at x did not finish within 3s"}) {
		t.Error("a timeout is not routine")
	}
}

func TestProbeTokenAuth(t *testing.T) {
	grants := map[string][]string{"writer": {"pull", "push"}, "reader": {"pull"}, "nobody": {}}
	tests := []struct {
		name        string
		user, pass  string
		opaque      bool
		writeProbe  bool
		wantPush    Status
		wantRefused bool
		wantDetail  string
		wantUploads int32
	}{
		{"writer", "writer", testPassword, false, false, StatusOK, false, "granted push on ocl/os-image", 0},
		{"reader", "reader", testPassword, false, false, StatusFailed, false, "grant pull but not push on ocl/os-image", 0},
		{"no access", "nobody", testPassword, false, false, StatusFailed, false, "grant no access to ocl/os-image", 0},
		{"wrong password", "writer", "wrong", false, false, StatusFailed, true, "token service of 127.0.0.1", 0},
		{"opaque token", "writer", testPassword, true, false, StatusUnknown, false, "its token is opaque; push right on ocl/os-image not verified without the write probe", 0},
		{"opaque token, write probe", "writer", testPassword, true, true, StatusOK, false, "accepted a test blob upload", 1},
		{"writer, write probe", "writer", testPassword, false, true, StatusOK, false, "accepted a test blob upload to ocl/os-image", 1},
		{"reader, write probe", "reader", testPassword, false, true, StatusFailed, false, "refused a test blob upload to ocl/os-image (HTTP 401)", 0},
		{"opaque token, reader, write probe", "reader", testPassword, true, true, StatusFailed, false, "HTTP 401", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := newTokenRegistry(t, grants, tt.opaque)
			p := newTestProber(t, reg.Server, func(o *Options) { o.WriteProbe = tt.writeProbe })
			r := p.Probe(context.Background(), Request{Repository: hostOf(reg.Server) + "/ocl/os-image", Auth: basicAuth(tt.user, tt.pass), CredentialVersion: "v"})
			if r.Reachable != StatusOK {
				t.Fatalf("Reachable = %s (%s)", r.Reachable, r.ReachableDetail)
			}
			if r.Push != tt.wantPush || r.CredentialsRefused != tt.wantRefused || !strings.Contains(r.PushDetail, tt.wantDetail) {
				t.Errorf("got Push=%s refused=%v %q; want %s %v containing %q", r.Push, r.CredentialsRefused, r.PushDetail, tt.wantPush, tt.wantRefused, tt.wantDetail)
			}
			if got := reg.uploads.Load(); got != tt.wantUploads {
				t.Errorf("%d test uploads, want %d", got, tt.wantUploads)
			}
			checkNoSecret(t, r)
		})
	}
}

func TestProbeRefusesMetadataAddressWithoutConnecting(t *testing.T) {
	p := newTestProber(t, nil, nil)
	dials := countDials(p)
	r := p.Probe(context.Background(), Request{Repository: "169.254.169.254/x/y", Auth: basicAuth(testUser, testPassword), CredentialVersion: "v"})
	want := "refused to connect to 169.254.169.254 (link-local/metadata address); allow it in settings if intended"
	if r.Reachable != StatusFailed || r.ReachableDetail != want {
		t.Errorf("got %s %q, want Failed %q", r.Reachable, r.ReachableDetail, want)
	}
	if got := dials.list(); len(got) != 0 {
		t.Errorf("dialed %v; want no connection at all", got)
	}
}

func TestProbeRefusesNamesThatResolveToRefusedAddresses(t *testing.T) {
	srv := newBasicRegistry(t)
	_, port, _ := net.SplitHostPort(hostOf(srv))
	resolver := fakeResolver{
		"metadata.example": {"169.254.169.254"},
		"private.example":  {"10.1.2.3"},
		"mixed.example":    {"fd00:ec2::254", "127.0.0.1"},
	}
	tests := []struct {
		host, wantDetail string
		wantDials        []string
	}{
		{"metadata.example", "refused to connect to metadata.example (169.254.169.254: link-local/metadata address)", nil},
		{"private.example", "refused to connect to private.example (10.1.2.3: private address)", nil},
		{"mixed.example", "", []string{"127.0.0.1:" + port}}, // the refused address is skipped, the allowed one used
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			p := newTestProber(t, srv, func(o *Options) { o.Resolver = resolver })
			dials := countDials(p)
			r := p.Probe(context.Background(), Request{Repository: tt.host + ":" + port + "/x/y"})
			if tt.wantDetail != "" && (r.Reachable != StatusFailed || !strings.HasPrefix(r.ReachableDetail, tt.wantDetail)) {
				t.Errorf("got %s %q, want Failed %q", r.Reachable, r.ReachableDetail, tt.wantDetail)
			}
			if got := dials.list(); strings.Join(got, ",") != strings.Join(tt.wantDials, ",") {
				t.Errorf("dialed %v, want %v", got, tt.wantDials)
			}
		})
	}
}

func TestProbeNeverFollowsARedirectToARefusedAddress(t *testing.T) {
	srv := httptest.NewTLSServer(http.RedirectHandler("https://169.254.169.254/v2/", http.StatusFound))
	t.Cleanup(srv.Close)
	p := newTestProber(t, srv, nil)
	dials := countDials(p)
	r := p.Probe(context.Background(), Request{Repository: hostOf(srv) + "/x/y"})
	// The message says it was a redirect: the push spec did not name that address.
	if r.Reachable != StatusFailed || !strings.HasPrefix(r.ReachableDetail, "redirected to 169.254.169.254: refused to connect to 169.254.169.254 (link-local/metadata address)") {
		t.Errorf("got %s %q", r.Reachable, r.ReachableDetail)
	}
	for _, addr := range dials.list() {
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Errorf("dialed %s", addr)
		}
	}
}

func TestProbeStopsAfterThreeRedirects(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "/v2/?again", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	p := newTestProber(t, srv, nil)
	r := p.Probe(context.Background(), Request{Repository: hostOf(srv) + "/x/y"})
	if r.Reachable != StatusFailed || !strings.Contains(r.ReachableDetail, "more than 3 redirects") {
		t.Errorf("got %s %q", r.Reachable, r.ReachableDetail)
	}
	if n := hits.Load(); n != 4 { // the request and three redirects
		t.Errorf("server saw %d requests, want 4", n)
	}
}

func TestProbeReturnsUnknownWithinBudgetWhenTheServerNeverAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }() // never answers; ends when the client gives up
		}
	}()
	budget := 500 * time.Millisecond
	p := newTestProber(t, nil, func(o *Options) { o.Budget = budget })
	start := time.Now()
	r := p.Probe(context.Background(), Request{Repository: ln.Addr().String() + "/x/y"})
	elapsed := time.Since(start)
	if elapsed > budget+time.Second {
		t.Errorf("Probe took %v with a budget of %v", elapsed, budget)
	}
	want := "could not reach " + ln.Addr().String() + " within 500ms"
	if r.Reachable != StatusUnknown || r.ReachableDetail != want {
		t.Errorf("got %s %q, want Unknown %q", r.Reachable, r.ReachableDetail, want)
	}
}

func TestProbeClassifiesNetworkFailures(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	untrusted := newBasicRegistry(t)
	notRegistry := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(notRegistry.Close)

	tests := []struct {
		name, repo string
		opts       func(*Options)
		want       Status
		detail     string
	}{
		{"connection refused", closedAddr + "/x/y", nil, StatusFailed, "cannot reach registry " + closedAddr + ": connection refused"},
		{"unknown CA", hostOf(untrusted) + "/x/y", func(o *Options) { o.RootCAs = nil }, StatusFailed, "x509: certificate signed by unknown authority"},
		{"plain HTTP server", strings.TrimPrefix(plain.URL, "http://") + "/x/y", nil, StatusFailed, "server answered HTTPS with plain HTTP"},
		{"not a registry", hostOf(notRegistry) + "/x/y", func(o *Options) { o.RootCAs = poolFor(notRegistry) }, StatusFailed, "HTTP 404"},
		{"no such host", "registry.invalid/x/y", func(o *Options) { o.Resolver = fakeResolver{} }, StatusFailed, "cannot reach registry registry.invalid: no such host"},
		{"loopback not allowed", hostOf(untrusted) + "/x/y", func(o *Options) { o.AllowLoopback = false }, StatusFailed, "(loopback address)"},
		{"loopback allowed by CIDR", hostOf(untrusted) + "/x/y", func(o *Options) {
			o.AllowLoopback = false
			o.AllowedCIDRs = append(o.AllowedCIDRs, mustPrefix("127.0.0.0/8"))
			o.RootCAs = poolFor(untrusted)
		}, StatusOK, "Basic auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestProber(t, untrusted, tt.opts)
			r := p.Probe(context.Background(), Request{Repository: tt.repo})
			if r.Reachable != tt.want || !strings.Contains(r.ReachableDetail, tt.detail) {
				t.Errorf("got %s %q, want %s containing %q", r.Reachable, r.ReachableDetail, tt.want, tt.detail)
			}
		})
	}
}

func TestProbeUsesPlainHTTPOnlyForInsecureHosts(t *testing.T) {
	var hits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(plain.Close)
	host := strings.TrimPrefix(plain.URL, "http://")

	p := newTestProber(t, nil, nil)
	if r := p.Probe(context.Background(), Request{Repository: host + "/x/y"}); r.Reachable != StatusFailed {
		t.Errorf("without insecureHosts: %s %q, want Failed", r.Reachable, r.ReachableDetail)
	}
	if hits.Load() != 0 {
		t.Errorf("the HTTP server was sent %d requests without being listed in insecureHosts", hits.Load())
	}
	p = newTestProber(t, nil, func(o *Options) { o.InsecureHosts = []string{"127.0.0.1"} })
	r := p.Probe(context.Background(), Request{Repository: host + "/x/y"})
	if r.Reachable != StatusOK || !strings.Contains(r.ReachableDetail, "over HTTP without credentials") {
		t.Errorf("with insecureHosts: %s %q", r.Reachable, r.ReachableDetail)
	}
	if !PushUnverifiedByDesign(r) {
		t.Errorf("open registry push verdict: %s %q", r.Push, r.PushDetail)
	}
}

func TestProbeReturnsWhenTheCallerGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	p := newTestProber(t, nil, func(o *Options) { o.Budget = 5 * time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := p.Probe(ctx, Request{Repository: ln.Addr().String() + "/x/y"})
	if time.Since(start) > 2*time.Second || r.Reachable != StatusUnknown {
		t.Errorf("after %v: %s %q", time.Since(start), r.Reachable, r.ReachableDetail)
	}
}

func TestProbeSkipsRepositoriesThatDoNotParse(t *testing.T) {
	p := newTestProber(t, nil, nil)
	r := p.Probe(context.Background(), Request{Repository: "Not A Repo!"})
	if r.Reachable != StatusSkipped || r.Push != StatusSkipped {
		t.Errorf("got %+v", r)
	}
}

// Probes of distinct repositories do not share a flight; without a bound, a burst of them was a burst of
// connections and goroutines, each holding its budget.
func TestProbesInFlightAreBounded(t *testing.T) {
	var inside, most atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inside.Add(1)
		defer inside.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	p := newTestProber(t, srv, func(o *Options) { o.MaxConcurrentProbes = 2; o.Budget = 300 * time.Millisecond })
	results := make(chan Result, 6)
	for i := range 6 {
		go func() {
			results <- p.Probe(context.Background(), Request{Repository: fmt.Sprintf("%s/x/y%d", hostOf(srv), i)})
		}()
	}
	for range 6 {
		if r := <-results; r.Reachable != StatusUnknown {
			t.Errorf("got %s %q, want Unknown", r.Reachable, r.ReachableDetail)
		}
	}
	if n := most.Load(); n > 2 || n < 1 { // unbounded, all six arrive together
		t.Errorf("%d probes reached the registry at once, want at most 2 (the bound)", n)
	}
}

// A registry (or a proxy in front of it) that answers the credentialed /v2/ with a redirect to a page answering 200
// once counted as "credentials accepted".
func TestProbeDoesNotTakeARedirectedCredentialCheckAsAcceptance(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/login":
			w.WriteHeader(http.StatusOK)
		case r.Header.Get("Authorization") == "":
			w.Header().Set("WWW-Authenticate", `Basic realm="r"`)
			w.WriteHeader(http.StatusUnauthorized)
		default:
			http.Redirect(w, r, "/login", http.StatusFound)
		}
	}))
	t.Cleanup(srv.Close)
	p := newTestProber(t, srv, nil)
	r := p.Probe(context.Background(), Request{Repository: hostOf(srv) + "/x/y", Auth: basicAuth("u", "p")})
	if r.Push != StatusUnknown || !strings.Contains(r.PushDetail, "by a redirect (HTTP 302)") {
		t.Errorf("got %s %q, want Unknown naming the redirect", r.Push, r.PushDetail)
	}
}

// Oversized answers once surfaced as "unexpected error (*errors.errorString)".
func TestProbeNamesOversizedAnswers(t *testing.T) {
	for name, tc := range map[string]struct {
		handler http.HandlerFunc
		want    string
	}{
		"headers": {func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Filler", strings.Repeat("a", 80<<10))
			w.WriteHeader(http.StatusOK)
		}, "response headers over 65536 bytes"},
		"token body": {func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/token" {
				_, _ = w.Write([]byte(`{"token":"` + strings.Repeat("a", 2<<20) + `"}`))
				return
			}
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="https://%s/token",service="s"`, r.Host))
			w.WriteHeader(http.StatusUnauthorized)
		}, "oversized response body"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewTLSServer(tc.handler)
			t.Cleanup(srv.Close)
			p := newTestProber(t, srv, nil)
			r := p.Probe(context.Background(), Request{Repository: hostOf(srv) + "/x/y", Auth: basicAuth("u", "p")})
			if all := r.ReachableDetail + " | " + r.PushDetail; !strings.Contains(all, tc.want) || strings.Contains(all, "unexpected error") {
				t.Errorf("got %q, want it to name %q", all, tc.want)
			}
		})
	}
}

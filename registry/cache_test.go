package registry

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// pingCounter wraps a handler and counts unauthenticated /v2/ requests: one per probe.
func pingCounter(next http.Handler, delay time.Duration) (http.Handler, *atomic.Int32) {
	var pings atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" && r.Header.Get("Authorization") == "" {
			pings.Add(1)
			time.Sleep(delay)
		}
		next.ServeHTTP(w, r)
	}), &pings
}

func newCountingBasicRegistry(t *testing.T, delay time.Duration) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	inner := newBasicRegistry(t)
	h, pings := pingCounter(inner.Config.Handler, delay)
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv, pings
}

func TestConcurrentProbesOfOneKeyShareOneProbe(t *testing.T) {
	srv, pings := newCountingBasicRegistry(t, 200*time.Millisecond)
	reg := prometheus.NewRegistry()
	p := newTestProber(t, srv, func(o *Options) { o.Registerer = reg })
	req := Request{Repository: hostOf(srv) + "/a/b", Auth: basicAuth(testUser, testPassword), CredentialVersion: "uid/7"}

	const n = 20
	var wg sync.WaitGroup
	results := make([]Result, n)
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = p.Probe(context.Background(), req) }()
	}
	wg.Wait()
	if got := pings.Load(); got != 1 {
		t.Errorf("%d probes reached the registry, want 1", got)
	}
	for i, r := range results {
		if r.Reachable != StatusOK {
			t.Errorf("caller %d: %+v", i, r)
		}
	}
	if got := testutil.ToFloat64(p.metrics.probes.WithLabelValues("OK", "Unknown")); got != 1 {
		t.Errorf("%s = %v, want 1", MetricProbes, got)
	}
	if r := p.Probe(context.Background(), req); !r.Cached {
		t.Error("the next probe was not served from the cache")
	}
	if got := testutil.ToFloat64(p.metrics.cacheHits); got < 1 {
		t.Errorf("%s = %v, want at least 1", MetricCacheHits, got)
	}
	if got := testutil.CollectAndCount(reg, MetricProbeDuration); got != 1 {
		t.Errorf("%s has %d series, want 1", MetricProbeDuration, got)
	}
}

func TestCacheKeysOnHostRepositoryAndCredentialVersion(t *testing.T) {
	srv, pings := newCountingBasicRegistry(t, 0)
	p := newTestProber(t, srv, nil)
	auth := basicAuth(testUser, testPassword)
	probe := func(repo, version string) {
		p.Probe(context.Background(), Request{Repository: hostOf(srv) + repo, Auth: auth, CredentialVersion: version})
	}
	probe("/a/b", "uid/1")
	probe("/a/b", "uid/1") // hit
	probe("/a/b", "uid/2") // edited secret
	probe("/a/c", "uid/2") // other repository
	probe("/a/c", "")      // credentials without a version: never cached
	probe("/a/c", "")
	if got := pings.Load(); got != 5 {
		t.Errorf("%d probes, want 5", got)
	}
}

func TestCacheTTLs(t *testing.T) {
	srv, pings := newCountingBasicRegistry(t, 0)
	p := newTestProber(t, srv, func(o *Options) { o.SuccessTTL = time.Minute; o.FailureTTL = 10 * time.Second })
	now := time.Unix(1_000_000, 0)
	p.now = func() time.Time { return now }
	good := Request{Repository: hostOf(srv) + "/a/b", Auth: basicAuth(testUser, testPassword), CredentialVersion: "good"}
	bad := Request{Repository: hostOf(srv) + "/a/b", Auth: basicAuth(testUser, "wrong"), CredentialVersion: "bad"}

	check := func(step string, req Request, wantCached bool) {
		t.Helper()
		if r := p.Probe(context.Background(), req); r.Cached != wantCached {
			t.Errorf("%s: Cached = %v, want %v", step, r.Cached, wantCached)
		}
	}
	check("good, first", good, false)
	check("bad, first", bad, false)
	now = now.Add(9 * time.Second)
	check("good within success TTL", good, true)
	check("bad within failure TTL", bad, true)
	now = now.Add(2 * time.Second)
	check("bad after failure TTL", bad, false)
	check("good still within success TTL", good, true)
	now = now.Add(time.Minute)
	check("good after success TTL", good, false)
	if got := pings.Load(); got != 4 {
		t.Errorf("%d probes, want 4", got)
	}
}

func TestUnknownResultsAreKeptShorterThanFailures(t *testing.T) {
	p := newTestProber(t, nil, func(o *Options) { o.FailureTTL = 10 * time.Second })
	for _, tt := range []struct {
		out  outcome
		want time.Duration
	}{
		{outcome{Result: Result{Reachable: StatusFailed, Push: StatusSkipped}}, 10 * time.Second},
		{outcome{Result: Result{Reachable: StatusOK, Push: StatusFailed}}, 10 * time.Second},
		{outcome{Result: Result{Reachable: StatusUnknown, Push: StatusSkipped}, transient: true}, 5 * time.Second},
		{outcome{Result: Result{Reachable: StatusOK, Push: StatusUnknown}, transient: true}, 5 * time.Second},
		{outcome{Result: Result{Reachable: StatusOK, Push: StatusUnknown}}, DefaultSuccessTTL},
		{outcome{Result: Result{Reachable: StatusOK, Push: StatusOK}}, DefaultSuccessTTL},
	} {
		if got := p.ttl(tt.out); got != tt.want {
			t.Errorf("ttl(%+v) = %v, want %v", tt.out, got, tt.want)
		}
	}
}

func TestResultCacheEvictsTheLeastRecentlyUsedEntryWhenFull(t *testing.T) {
	c := newResultCache(3)
	now := time.Unix(0, 0)
	far := now.Add(time.Hour)
	key := func(i int) cacheKey { return cacheKey{host: fmt.Sprintf("h%d", i), repository: "r"} }
	for i := range 5 {
		c.put(key(i), Result{ReachableDetail: fmt.Sprint(i)}, far)
	}
	if c.len() != 3 {
		t.Fatalf("len = %d, want 3", c.len())
	}
	for i := range 5 {
		_, ok := c.get(key(i), now)
		if want := i >= 2; ok != want {
			t.Errorf("entry %d present = %v, want %v", i, ok, want)
		}
	}
	c.get(key(2), now) // reading an entry makes it the most recently used
	c.put(key(5), Result{}, far)
	if _, ok := c.get(key(3), now); ok {
		t.Error("entry 3 should have been evicted before the recently read entry 2")
	}
	if _, ok := c.get(key(2), now); !ok {
		t.Error("recently read entry 2 was evicted")
	}
	if _, ok := c.get(key(2), far); ok {
		t.Error("an entry is served at its expiry time")
	}
}

// A burst of distinct repositories on one host (a typo loop, or someone probing names) once evicted every other
// registry's verdict; now it evicts only that host's own entries.
func TestResultCacheBurstOnOneHostKeepsOtherHosts(t *testing.T) {
	c := newResultCache(64) // 8 entries per host
	now := time.Unix(0, 0)
	far := now.Add(time.Hour)
	others := []cacheKey{{host: "quay.io", repository: "acme/os"}, {host: "registry.example.com", repository: "os"}}
	for _, k := range others {
		c.put(k, Result{}, far)
	}
	for i := range 10_000 {
		c.put(cacheKey{host: "burst.example.com", repository: fmt.Sprint(i)}, Result{}, far)
	}
	for _, k := range others {
		if _, ok := c.get(k, now); !ok {
			t.Errorf("%v was evicted by a burst on another host", k)
		}
	}
	if c.len() != 2+8 {
		t.Errorf("len = %d, want the two others plus 8 of the burst", c.len())
	}
	if _, ok := c.get(cacheKey{host: "burst.example.com", repository: "9999"}, now); !ok {
		t.Error("the burst's newest entry is missing")
	}
}

// Each Prober registers its metrics with the registry it is given: one per registry, so a second Prober on the
// registry of the first is a wiring mistake, refused with an error, while Probers on registries of their own (one
// per process, or per test) do not meet.
func TestNewProberRegistersItsMetricsOnce(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := NewProber(Options{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewProber(Options{Registerer: reg}); err == nil {
		t.Error("a second Prober registered its metrics with the registry of the first")
	}
	if _, err := NewProber(Options{Registerer: prometheus.NewRegistry()}); err != nil {
		t.Errorf("a Prober with a registry of its own: %v", err)
	}
}

package registry

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"
)

// returnMargin is how long past the budget Probe may take to hand back a result: scheduling and bookkeeping.
const returnMargin = 250 * time.Millisecond

// Request is one thing to probe.
type Request struct {
	// Repository is "host[:port]/path/name", without tag or digest.
	Repository string
	// Auth holds the push secret's credentials for the repository's host; nil or authn.Anonymous when it has none.
	Auth authn.Authenticator
	// CredentialVersion identifies the credentials, e.g. "<secret-uid>/<resourceVersion>", and is part of the cache
	// key. When it is empty and Auth is not anonymous the result is neither cached nor shared, since two callers
	// could hold different credentials.
	CredentialVersion string
}

// Prober probes registries with a cache and one probe at a time per key. It is safe for concurrent use.
type Prober struct {
	opts      Options
	dialer    *safeDialer
	transport *http.Transport
	rt        http.RoundTripper
	cache     *resultCache
	flights   singleflight.Group
	running   *semaphore.Weighted
	metrics   *metrics
	now       func() time.Time
}

// NewProber validates opts, applies defaults and returns a Prober.
func NewProber(opts Options) (*Prober, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("registry probe options: %w", err)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	dialer := newSafeDialer(addressPolicy{
		allowLoopback: opts.AllowLoopback,
		allowPrivate:  opts.AllowPrivate,
		allowed:       opts.AllowedCIDRs,
	}, opts.Resolver)
	tr := newHTTPTransport(dialer, opts)
	return &Prober{
		opts:      opts,
		dialer:    dialer,
		transport: tr,
		rt:        &policyTransport{inner: tr, insecure: opts.insecure},
		cache:     newResultCache(opts.CacheSize),
		running:   semaphore.NewWeighted(int64(opts.MaxConcurrentProbes)),
		metrics:   m,
		now:       time.Now,
	}, nil
}

// CloseIdleConnections closes the connections kept for reuse between probes, e.g. at shutdown.
func (p *Prober) CloseIdleConnections() { p.transport.CloseIdleConnections() }

// Budget is the time each probe may take.
func (p *Prober) Budget() time.Duration { return p.opts.Budget }

// Probe checks the registry of req.Repository. It returns within the budget plus a small margin whatever the
// network does, and never returns a credential.
func (p *Prober) Probe(ctx context.Context, req Request) Result { return p.probe(ctx, req, "") }

// probe is Probe with why: the reason anonymous credentials are all there is, for the details.
func (p *Prober) probe(ctx context.Context, req Request, why string) Result {
	repo, err := p.parseRepository(req.Repository)
	if err != nil {
		return skipped(fmt.Sprintf("not probed: repository %q does not parse (%v)", req.Repository, err))
	}
	if req.Auth == nil {
		req.Auth = authn.Anonymous
	}
	key := cacheKey{host: repo.RegistryStr(), repository: repo.RepositoryStr(), credentialVersion: req.CredentialVersion}
	shareable := req.CredentialVersion != "" || req.Auth == authn.Anonymous
	return p.shared(ctx, key, shareable, func(ctx context.Context) outcome {
		return (&probeRun{p: p, ctx: ctx, repo: repo, auth: req.Auth, why: why}).run()
	})
}

// shared runs probe for key at most once at a time, answers from the cache when it can, and returns within the
// budget plus a small margin whatever the network does. Every kind of probe (push, pull, delete) goes through it.
func (p *Prober) shared(ctx context.Context, key cacheKey, shareable bool, probe func(context.Context) outcome) Result {
	if shareable {
		if r, ok := p.cache.get(key, p.now()); ok {
			p.metrics.cacheHits.Inc()
			r.Cached = true
			return r
		}
	}

	probeCtx := context.WithoutCancel(ctx) // shared by every caller waiting on this key, so no one caller may end it
	run := func() (any, error) {
		if shareable {
			if r, ok := p.cache.get(key, p.now()); ok { // a flight for this key finished between our check and now
				p.metrics.cacheHits.Inc()
				r.Cached = true
				return r, nil
			}
		}
		return p.probeAndRecord(probeCtx, key, probe, shareable), nil
	}
	var done <-chan singleflight.Result
	if shareable {
		done = p.flights.DoChan(key.String(), run)
	} else {
		ch := make(chan singleflight.Result, 1)
		go func() { v, _ := run(); ch <- singleflight.Result{Val: v} }()
		done = ch
	}

	timer := time.NewTimer(p.opts.Budget + returnMargin)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.Val.(Result)
	case <-ctx.Done():
		return unknown(fmt.Sprintf("stopped waiting for %s: the caller's deadline came first", key.host))
	case <-timer.C:
		return unknown(fmt.Sprintf("could not reach %s within %s", key.host, formatBudget(p.opts.Budget)))
	}
}

func (p *Prober) probeAndRecord(ctx context.Context, key cacheKey, probe func(context.Context) outcome, cache bool) Result {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Budget)
	defer cancel()
	if err := p.running.Acquire(ctx, 1); err != nil {
		// Not cached: room frees up as soon as the probes ahead finish.
		return unknown(fmt.Sprintf("not probed: %d registry probes already running, none finished within %s",
			p.opts.MaxConcurrentProbes, formatBudget(p.opts.Budget)))
	}
	defer p.running.Release(1)
	start := time.Now()
	out := probe(ctx)
	p.metrics.observe(out.Result, time.Since(start).Seconds())
	if cache {
		p.cache.put(key, out.Result, p.now().Add(p.ttl(out)))
	}
	return out.Result
}

// ttl keeps failures briefly (the user is probably fixing them) and Unknowns more briefly still (the next try may
// get an answer), but keeps them at all so a dead registry does not cost every admission the whole budget.
func (p *Prober) ttl(out outcome) time.Duration {
	r := out.Result
	switch {
	case r.Reachable == StatusFailed || r.Push == StatusFailed || r.Pull == StatusFailed || r.Delete == StatusFailed:
		return p.opts.FailureTTL
	case r.Reachable == StatusUnknown || out.transient:
		return p.opts.FailureTTL / 2
	}
	return p.opts.SuccessTTL
}

// parseRepository parses "host[:port]/path/name" and marks hosts listed in InsecureHosts, so go-containerregistry
// may fall back to plain HTTP for them (and only them: policyTransport refuses HTTP to any other host).
func (p *Prober) parseRepository(s string) (name.Repository, error) {
	repo, err := name.NewRepository(s, name.WeakValidation)
	if err != nil {
		return repo, err
	}
	if p.opts.insecure(repo.RegistryStr()) {
		return name.NewRepository(s, name.WeakValidation, name.Insecure)
	}
	return repo, nil
}

func skipped(detail string) Result {
	return Result{Reachable: StatusSkipped, ReachableDetail: detail, Push: StatusSkipped, PushDetail: detail}
}

func unknown(detail string) Result {
	return Result{Reachable: StatusUnknown, ReachableDetail: detail, Push: StatusSkipped,
		PushDetail: "not checked: the registry did not answer"}
}

package registry

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied by NewProber to zero-valued options.
const (
	DefaultBudget     = 3 * time.Second
	DefaultSuccessTTL = 5 * time.Minute
	DefaultFailureTTL = 30 * time.Second
	DefaultCacheSize  = 1024
	// DefaultMaxConcurrentProbes bounds the probes running at once, whatever mix of registries requests name.
	DefaultMaxConcurrentProbes = 16
)

// Limits on options: a budget outside them is a configuration mistake, not a preference.
const (
	minBudget = 10 * time.Millisecond
	maxBudget = time.Minute
)

// Resolver looks up the addresses of a host. *net.Resolver implements it; tests pass a fake to map names to
// addresses without DNS.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options configure a Prober. The zero value is usable: NewProber fills in the defaults.
type Options struct {
	// Budget bounds each probe, from the first dial to the last byte. Default 3s.
	Budget time.Duration
	// SuccessTTL is how long a result without failures is reused. Default 5m.
	SuccessTTL time.Duration
	// FailureTTL is how long a result with a failure is reused; Unknown results are kept half as long. Default 30s.
	FailureTTL time.Duration
	// CacheSize bounds the number of cached results. One registry host may fill at most an eighth of it, so a
	// burst of distinct repositories on one host evicts that host's entries, not everyone's. Default 1024.
	CacheSize int
	// MaxConcurrentProbes bounds the probes in flight; a probe that finds no room within its budget is Unknown.
	// Default 16.
	MaxConcurrentProbes int

	// InsecureHosts may be probed over plain HTTP. An entry is "host" (any port) or "host:port".
	InsecureHosts []string
	// AllowLoopback permits 127.0.0.0/8 and ::1.
	AllowLoopback bool
	// AllowPrivate permits RFC 1918, 100.64.0.0/10 (shared address space) and fc00::/7 (ULA).
	AllowPrivate bool
	// AllowedCIDRs permits more ranges, and wins over every refusal except unspecified and multicast addresses.
	// A cloud metadata address is permitted only by a prefix of exactly that one address.
	AllowedCIDRs []netip.Prefix
	// RootCAs verifies registry certificates; nil means the system pool.
	RootCAs *x509.CertPool

	// WriteProbe starts and cancels a blob upload to prove push. It writes to the registry; see the package doc.
	WriteProbe bool

	// Registerer receives the probe metrics; nil means no metrics are exported.
	Registerer prometheus.Registerer
	// Resolver resolves registry host names; nil means net.DefaultResolver.
	Resolver Resolver
}

// withDefaults returns o with zero values replaced by defaults, or an error naming the bad option and the fix.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.Budget == 0 {
		o.Budget = DefaultBudget
	}
	if o.Budget < minBudget || o.Budget > maxBudget {
		errs = append(errs, fmt.Errorf("budget %v is out of range: use between %v and %v", o.Budget, minBudget, maxBudget))
	}
	if o.SuccessTTL == 0 {
		o.SuccessTTL = DefaultSuccessTTL
	}
	if o.SuccessTTL < 0 {
		errs = append(errs, fmt.Errorf("successTTL %v is negative: use a positive duration such as 5m", o.SuccessTTL))
	}
	if o.FailureTTL == 0 {
		o.FailureTTL = DefaultFailureTTL
	}
	if o.FailureTTL < 0 {
		errs = append(errs, fmt.Errorf("failureTTL %v is negative: use a positive duration such as 30s", o.FailureTTL))
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.MaxConcurrentProbes == 0 {
		o.MaxConcurrentProbes = DefaultMaxConcurrentProbes
	}
	if o.MaxConcurrentProbes < 0 {
		errs = append(errs, fmt.Errorf("maxConcurrentProbes %d is negative: use a positive number such as %d", o.MaxConcurrentProbes, DefaultMaxConcurrentProbes))
	}
	if o.CacheSize < 0 {
		errs = append(errs, fmt.Errorf("cacheSize %d is negative: use a positive number of entries such as %d", o.CacheSize, DefaultCacheSize))
	}
	for i, h := range o.InsecureHosts {
		if err := checkInsecureHost(h); err != nil {
			errs = append(errs, fmt.Errorf("insecureHosts[%d] %q: %w", i, h, err))
		}
	}
	for i, p := range o.AllowedCIDRs {
		if !p.IsValid() {
			errs = append(errs, fmt.Errorf("allowedCIDRs[%d] is not a valid prefix: use CIDR notation such as 10.1.0.0/16", i))
		}
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	return o, errors.Join(errs...)
}

func checkInsecureHost(h string) error {
	if h == "" {
		return errors.New("is empty: name a registry host, as host or host:port")
	}
	if strings.Contains(h, "://") || strings.ContainsAny(h, "/ ") {
		return errors.New("must be a bare host or host:port, without scheme or path")
	}
	return nil
}

// insecure reports whether plain HTTP is allowed for registry (host or host:port).
func (o Options) insecure(registry string) bool {
	hostOnly := registry
	if h, _, err := net.SplitHostPort(registry); err == nil {
		hostOnly = h
	}
	for _, h := range o.InsecureHosts {
		if strings.EqualFold(h, registry) || strings.EqualFold(strings.Trim(h, "[]"), hostOnly) {
			return true
		}
	}
	return false
}

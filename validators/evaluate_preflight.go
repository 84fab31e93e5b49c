package validators

import (
	"context"
	"strings"

	configv1 "github.com/openshift/api/config/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/ocl-guard/ocl-guard/registry"
)

// preflightMemo remembers the preflight lookups for one evaluation, as memoLookups does for the others; it shares
// memoLookups' mutex.
type preflightMemo struct {
	rendered    map[string]lookupResult[OSImages]
	imageConfig *lookupResult[*configv1.Image]
	policies    *lookupResult[[]configv1.ClusterImagePolicy]
	entitlement *lookupResult[EntitlementSources]
	pulls       map[string]registry.Result
	deletes     map[string]registry.Result
	parsed      map[string]lookupResult[parsedContainerfile] // by content
}

func newPreflightMemo() preflightMemo {
	return preflightMemo{
		rendered: map[string]lookupResult[OSImages]{},
		pulls:    map[string]registry.Result{},
		deletes:  map[string]registry.Result{},
		parsed:   map[string]lookupResult[parsedContainerfile]{},
	}
}

// parseOnce is parseContainerfile for the rules of one evaluation: three rules read the same content.
func (m *memoLookups) parseOnce(content string) (parsedContainerfile, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.pre.parsed[content]; ok {
		return r.obj, r.err
	}
	p, err := parseContainerfile(content)
	m.pre.parsed[content] = lookupResult[parsedContainerfile]{p, err}
	return p, err
}

// parsedFor parses content once per evaluation when the rules run under Evaluate, and every time when a rule is
// called on its own (tests).
func parsedFor(lookups Lookups, content string) (parsedContainerfile, error) {
	if m, ok := lookups.(*memoLookups); ok {
		return m.parseOnce(content)
	}
	return parseContainerfile(content)
}

func (m *memoLookups) RenderedOSImages(ctx context.Context, name string) (OSImages, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.pre.rendered[name]; ok {
		return r.obj, r.err
	}
	obj, err := m.inner.RenderedOSImages(ctx, name)
	m.pre.rendered[name] = lookupResult[OSImages]{obj, err}
	return obj, err
}

func (m *memoLookups) ImageConfig(ctx context.Context) (*configv1.Image, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pre.imageConfig == nil {
		obj, err := m.inner.ImageConfig(ctx)
		m.pre.imageConfig = &lookupResult[*configv1.Image]{obj, err}
	}
	return m.pre.imageConfig.obj, m.pre.imageConfig.err
}

func (m *memoLookups) ClusterImagePolicies(ctx context.Context) ([]configv1.ClusterImagePolicy, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pre.policies == nil {
		obj, err := m.inner.ClusterImagePolicies(ctx)
		m.pre.policies = &lookupResult[[]configv1.ClusterImagePolicy]{obj, err}
	}
	return m.pre.policies.obj, m.pre.policies.err
}

func (m *memoLookups) Entitlement(ctx context.Context) (EntitlementSources, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pre.entitlement == nil {
		obj, err := m.inner.Entitlement(ctx)
		m.pre.entitlement = &lookupResult[EntitlementSources]{obj, err}
	}
	return m.pre.entitlement.obj, m.pre.entitlement.err
}

func (m *memoLookups) ProbePull(ctx context.Context, image string, secret *corev1.Secret) registry.Result {
	return m.memoProbe(ctx, m.pre.pulls, image, secret, m.inner.ProbePull)
}

func (m *memoLookups) ProbeDelete(ctx context.Context, repository string, secret *corev1.Secret) registry.Result {
	return m.memoProbe(ctx, m.pre.deletes, repository, secret, m.inner.ProbeDelete)
}

// memoProbe runs each probe once per evaluation; like ProbeRegistry, it holds the lock while probing so that two
// rules asking the same question wait for one answer rather than each spending the budget.
func (m *memoLookups) memoProbe(ctx context.Context, memo map[string]registry.Result, target string, secret *corev1.Secret,
	probe func(context.Context, string, *corev1.Secret) registry.Result) registry.Result {
	key := target + "|" + secretVersion(secret)
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := memo[key]; ok {
		return r
	}
	host, _, _ := strings.Cut(target, "/")
	if m.silent(host) {
		// Each probe of a silent host waits the whole budget; a second wait would only push the admission past
		// the webhook's timeout, after which the API server ignores every finding.
		return registry.Result{Reachable: registry.StatusUnknown, ReachableDetail: host + " did not answer an earlier probe of this request"}
	}
	r := probe(ctx, target, secret)
	memo[key] = r
	return r
}

// silent reports whether a probe of host in this evaluation got no answer. The caller holds m.mu.
func (m *memoLookups) silent(host string) bool {
	for _, results := range []map[string]registry.Result{m.probes, m.pre.pulls, m.pre.deletes} {
		for key, r := range results {
			if strings.HasPrefix(key, host+"/") && r.Reachable == registry.StatusUnknown {
				return true
			}
		}
	}
	return false
}

func secretVersion(s *corev1.Secret) string {
	if s == nil {
		return ""
	}
	return s.Namespace + "/" + s.Name + "@" + s.ResourceVersion
}

func (m *memoLookups) Preflight() PreflightSettings { return m.inner.Preflight() }

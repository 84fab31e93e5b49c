package validators

import (
	"context"
	"strings"
	"sync"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/ocl-guard/ocl-guard/registry"
)

// Prober probes registries for the rules: registry.Prober. It returns within its own time budget.
type Prober interface {
	// ProbeWithSecret checks that the registry of repository ("host[:port]/path/name") answers and that the push
	// secret's credentials for it are accepted and grant push.
	ProbeWithSecret(ctx context.Context, repository string, secret *corev1.Secret) registry.Result
	// ProbePullWithSecret checks that image (a full reference with a tag or digest) exists and that the secret's
	// credentials may pull it. A nil secret is anonymous.
	ProbePullWithSecret(ctx context.Context, image string, secret *corev1.Secret) registry.Result
	// ProbeDeleteWithSecret asks the registry's token service whether the secret may delete in repository.
	ProbeDeleteWithSecret(ctx context.Context, repository string, secret *corev1.Secret) registry.Result
	// ProbeRepositoryWithSecret tells whether repository exists, in Pull: OK when it does, Failed with NotFound
	// when the registry says it does not, anything else when it cannot tell.
	ProbeRepositoryWithSecret(ctx context.Context, repository string, secret *corev1.Secret) registry.Result
}

// Env is what an evaluation depends on besides the object: where facts come from, the registry prober, the clock,
// the rules' actions and the preflight settings. Each process builds it once, from its own settings.
type Env struct {
	Source Source
	// Prober probes registries; nil leaves the registry rules "not probed" (findings.Skip).
	Prober  Prober
	Actions ActionFor
	// Now is the clock of the time-dependent rules; nil is time.Now.
	Now       func() time.Time
	Preflight PreflightSettings
}

// PreflightSettings are the thresholds of the preflight rules.
type PreflightSettings struct {
	// ExpiryWindow: a push credential expiring sooner than this is reported. Zero means DefaultExpiryWindow.
	ExpiryWindow time.Duration
}

// DefaultExpiryWindow is how early push-secret-lifetime warns about an expiring credential: two weeks leaves time
// to replace it before a build fails on it.
const DefaultExpiryWindow = 14 * 24 * time.Hour

func (s PreflightSettings) window() time.Duration {
	if s.ExpiryWindow <= 0 {
		return DefaultExpiryWindow
	}
	return s.ExpiryWindow
}

// Input is what one rule judges: the object, the facts gathered about it, the time of the evaluation, the
// settings, and the probes of this evaluation (shared by the rules, each asked once). The rules of one evaluation
// run one after the other, never concurrently.
type Input struct {
	Config   *mcfgv1.MachineOSConfig
	Facts    *Facts
	Now      time.Time
	Settings PreflightSettings

	probes *probes
	parsed map[string]parseResult // by Containerfile content: three rules read the same content
	// credentials are each Secret's registry credentials, read once: six rules read the push secret's. Facts hands
	// out one pointer per Secret for the whole evaluation, so the pointer is the key.
	credentials map[*corev1.Secret]*secretCredentials
	push        *parsedPushSpec
}

// NewInput gathers the facts about mosc from env's Source and returns the input of one evaluation.
func NewInput(ctx context.Context, mosc *mcfgv1.MachineOSConfig, env Env) *Input {
	now := time.Now
	if env.Now != nil {
		now = env.Now
	}
	return &Input{Config: mosc, Facts: Gather(ctx, mosc, env.Source), Now: now(), Settings: env.Preflight,
		probes: newProbes(env.Prober)}
}

// Check runs one rule as Evaluate runs it, for tests and tools that judge one rule alone.
func Check(ctx context.Context, validate func(context.Context, *Input) Findings, mosc *mcfgv1.MachineOSConfig, env Env) Findings {
	return validate(ctx, NewInput(ctx, mosc, env))
}

type parseResult struct {
	p   parsedContainerfile
	err error
}

// containerfile parses content once per evaluation.
func (in *Input) containerfile(content string) (parsedContainerfile, error) {
	if r, ok := in.parsed[content]; ok {
		return r.p, r.err
	}
	p, err := parseContainerfile(content)
	if in.parsed == nil {
		in.parsed = map[string]parseResult{}
	}
	in.parsed[content] = parseResult{p, err}
	return p, err
}

// secretCredentials are a Secret's registry credentials as the MCO reads them, and the Secret as the MCO hands it
// to the build (made when first asked for).
type secretCredentials struct {
	entries   map[string]dockerAuthEntry
	problem   string
	canonical *corev1.Secret
}

// dockerConfig reads a Secret's registry credentials (dockerConfigEntries) once per evaluation.
func (in *Input) dockerConfig(secret *corev1.Secret) *secretCredentials {
	if c, ok := in.credentials[secret]; ok {
		return c
	}
	c := &secretCredentials{}
	c.entries, c.problem = dockerConfigEntries(secret)
	if in.credentials == nil {
		in.credentials = map[*corev1.Secret]*secretCredentials{}
	}
	in.credentials[secret] = c
	return c
}

// canonicalSecret returns the secret as the MCO hands it to the build: type dockerconfigjson with an "auths"
// object; false when the MCO cannot read it (secret-format reports why).
func (in *Input) canonicalSecret(secret *corev1.Secret) (*corev1.Secret, bool) {
	c := in.dockerConfig(secret)
	if c.problem != "" {
		return nil, false
	}
	if c.canonical == nil {
		c.canonical = canonicalFrom(secret, c.entries)
	}
	return c.canonical, true
}

// ProbePush, ProbePull and ProbeDelete ask the prober, once per evaluation for each question.
func (in *Input) ProbePush(ctx context.Context, repository string, secret *corev1.Secret) registry.Result {
	return in.probes.ask(ctx, pushProbe, repository, secret)
}

func (in *Input) ProbePull(ctx context.Context, image string, secret *corev1.Secret) registry.Result {
	return in.probes.ask(ctx, pullProbe, image, secret)
}

func (in *Input) ProbeDelete(ctx context.Context, repository string, secret *corev1.Secret) registry.Result {
	return in.probes.ask(ctx, deleteProbe, repository, secret)
}

func (in *Input) ProbeRepository(ctx context.Context, repository string, secret *corev1.Secret) registry.Result {
	return in.probes.ask(ctx, repositoryProbe, repository, secret)
}

type probeKind uint8

const (
	pushProbe probeKind = iota
	pullProbe
	deleteProbe
	repositoryProbe
)

// probes remembers each probe of one evaluation. It holds its lock while probing, so that two rules asking the
// same question wait for one answer rather than each spending the budget: the prober's cache does not keep a probe
// that ran out of budget, and two rules each waiting the whole budget would double the admission's worst case.
type probes struct {
	prober  Prober
	mu      sync.Mutex
	answers map[probeKey]registry.Result
}

type probeKey struct {
	kind          probeKind
	target        string
	secretVersion string
}

func newProbes(p Prober) *probes { return &probes{prober: p, answers: map[probeKey]registry.Result{}} }

func (p *probes) ask(ctx context.Context, kind probeKind, target string, secret *corev1.Secret) registry.Result {
	if p.prober == nil {
		return registry.Result{Reachable: registry.StatusSkipped, Push: registry.StatusSkipped, Pull: registry.StatusSkipped,
			Delete: registry.StatusSkipped, PullDetail: "not probed: registry probes are off"}
	}
	key := probeKey{kind: kind, target: target, secretVersion: secretVersion(secret)}
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.answers[key]; ok {
		return r
	}
	host, _, _ := strings.Cut(target, "/")
	if p.silent(host) {
		// Each probe of a silent host waits the whole budget; a second wait would only push the admission past
		// the webhook's timeout, after which the API server ignores every finding.
		detail := host + " did not answer an earlier probe of this request"
		return registry.Result{Reachable: registry.StatusUnknown, ReachableDetail: detail, Pull: registry.StatusUnknown, PullDetail: detail}
	}
	var r registry.Result
	switch kind {
	case pushProbe:
		r = p.prober.ProbeWithSecret(ctx, target, secret)
	case pullProbe:
		r = p.prober.ProbePullWithSecret(ctx, target, secret)
	case deleteProbe:
		r = p.prober.ProbeDeleteWithSecret(ctx, target, secret)
	case repositoryProbe:
		r = p.prober.ProbeRepositoryWithSecret(ctx, target, secret)
	}
	p.answers[key] = r
	return r
}

// silent reports whether a probe of host in this evaluation got no answer. The caller holds p.mu.
func (p *probes) silent(host string) bool {
	for key, r := range p.answers {
		if strings.HasPrefix(key.target, host+"/") && r.Reachable == registry.StatusUnknown {
			return true
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

// Package config loads and validates ocl-guard's settings file. The manifests beside it follow the kubebuilder
// layout (kustomize bases, overlays and samples); settings.schema.json documents the file format.
package config

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/ocl-guard/ocl-guard/validators"
)

// Settings is the whole settings file. Every field is optional; Defaults fills what is left out.
type Settings struct {
	// Rules maps a rule ID to deny, warn or off.
	Rules map[validators.RuleID]validators.Action `json:"rules,omitempty"`
	// Registry configures the push-spec registry probe.
	Registry RegistrySettings `json:"registry,omitempty"`
	// Checker configures the thresholds of the build and rollout diagnosis.
	Checker CheckerSettings `json:"checker,omitempty"`
	// Preflight configures the rules that check build and rollout facts at apply time.
	Preflight PreflightSettings `json:"preflight,omitempty"`
}

// CheckerSettings are the time limits of the checker; zero values take the defaults below.
type CheckerSettings struct {
	// BuildStuckAfter: a build running longer is BuildStuck (the MCO sets no deadline on build Jobs).
	BuildStuckAfter metav1.Duration `json:"buildStuckAfter,omitempty"`
	// BuildPendingAfter: a build pod unscheduled longer is BuildPendingTooLong.
	BuildPendingAfter metav1.Duration `json:"buildPendingAfter,omitempty"`
	// RolloutStartAfter: a built image no node was given after this long is RolloutNotStarted.
	RolloutStartAfter metav1.Duration `json:"rolloutStartAfter,omitempty"`
	// RolloutStallAfter: no progress in updatedMachineCount for this long is RolloutStalled.
	RolloutStallAfter metav1.Duration `json:"rolloutStallAfter,omitempty"`
	// NodeRebootAfter: a node rebooting or updating this long is NodeRebootStuck.
	NodeRebootAfter metav1.Duration `json:"nodeRebootAfter,omitempty"`
	// ConfigObserveAfter: a MachineOSConfig change (a new config, a spec edit, a rebuild request) the MCO has not
	// acted on after this long is GenerationNotObserved or RebuildNotStarted.
	ConfigObserveAfter metav1.Duration `json:"configObserveAfter,omitempty"`
	// Recheck is how often running builds and layered pools are looked at again.
	Recheck metav1.Duration `json:"recheck,omitempty"`
	// AuditResync is how often every MachineOSConfig is audited again.
	AuditResync metav1.Duration `json:"auditResync,omitempty"`
	// LogLimitBytes caps the build log read for one diagnosis.
	LogLimitBytes int64 `json:"logLimitBytes,omitempty"`
	// PolicyReport: auto writes the audit's findings into a wgpolicyk8s.io ClusterPolicyReport when that CRD is
	// installed (Kyverno, Policy Reporter); off never does.
	PolicyReport PolicyReportMode `json:"policyReport,omitempty"`
}

// PolicyReportMode switches the checker's ClusterPolicyReport.
type PolicyReportMode string

const (
	PolicyReportAuto PolicyReportMode = "auto"
	PolicyReportOff  PolicyReportMode = "off"
)

// RegistrySettings configures how the webhook and checker talk to the registry of renderedImagePushSpec.
type RegistrySettings struct {
	// Budget caps the time one admission request may spend probing the registry.
	Budget metav1.Duration `json:"budget,omitempty"`
	// SuccessTTL and FailureTTL are how long a probe result is reused.
	SuccessTTL metav1.Duration `json:"successTTL,omitempty"`
	FailureTTL metav1.Duration `json:"failureTTL,omitempty"`
	// InsecureHosts may be probed over plain HTTP ("host" or "host:port").
	InsecureHosts []string `json:"insecureHosts,omitempty"`
	// AllowLoopback lets the probe dial loopback addresses (off by default).
	AllowLoopback bool `json:"allowLoopback,omitempty"`
	// AllowPrivate lets the probe dial private addresses (RFC 1918, 100.64.0.0/10, ULA), where enterprise
	// registries and the internal registry's service live. Unset means true; see PrivateAllowed.
	AllowPrivate *bool `json:"allowPrivate,omitempty"`
	// AllowedCIDRs are further ranges the probe may dial, e.g. a registry on a link-local address.
	AllowedCIDRs []string `json:"allowedCIDRs,omitempty"`
	// CABundles are PEM files trusted in addition to the system roots and the cluster service CA.
	CABundles []string `json:"caBundles,omitempty"`
	// WriteProbe starts and cancels a blob upload to prove push rights. It writes to the registry, so it is off
	// unless set, and the webhook never uses it (it declares sideEffects None and also answers dry-run requests):
	// it applies to the checker's audit and to `ocl-guard check`.
	WriteProbe bool `json:"writeProbe,omitempty"`
}

// PrivateAllowed is AllowPrivate with its default, true: the author of a MachineOSConfig is a cluster
// administrator, and the webhook answers only the API server (config/manager's NetworkPolicy), so no pod can make
// it dial an address of its choosing. Link-local and cloud metadata addresses stay refused whatever this says.
func (r RegistrySettings) PrivateAllowed() bool { return r.AllowPrivate == nil || *r.AllowPrivate }

// PreflightSettings are the thresholds of the preflight rules.
type PreflightSettings struct {
	// PushSecretExpiryWindow: push-secret-lifetime reports a credential that expires sooner than this.
	PushSecretExpiryWindow metav1.Duration `json:"pushSecretExpiryWindow,omitempty"`
}

// Rules returns the settings the preflight rules read.
func (p PreflightSettings) Rules() validators.PreflightSettings {
	return validators.PreflightSettings{ExpiryWindow: p.PushSecretExpiryWindow.Duration}
}

// Default budget and TTLs; the budget stays well under the webhook's timeoutSeconds of 10.
const (
	DefaultRegistryBudget = 3 * time.Second
	DefaultSuccessTTL     = 5 * time.Minute
	DefaultFailureTTL     = 30 * time.Second
	maxRegistryBudget     = 8 * time.Second

	DefaultBuildStuckAfter    = 2 * time.Hour
	DefaultBuildPendingAfter  = 15 * time.Minute
	DefaultRolloutStartAfter  = 10 * time.Minute
	DefaultRolloutStallAfter  = 30 * time.Minute
	DefaultNodeRebootAfter    = 20 * time.Minute
	DefaultConfigObserveAfter = 10 * time.Minute
	DefaultRecheck            = time.Minute
	DefaultAuditResync        = 10 * time.Minute
	DefaultLogLimitBytes      = 64 << 10
)

// Defaults returns the settings used when no file is given.
func Defaults() Settings {
	s := Settings{}
	s.applyDefaults()
	return s
}

// Load reads a settings file. Unknown keys, unknown rule IDs and bad values are errors that name the key.
func Load(path string) (Settings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Settings{}, fmt.Errorf("reading settings: %w", err)
	}
	return Parse(data)
}

// Parse is Load for settings already in memory.
func Parse(data []byte) (Settings, error) {
	var s Settings
	if err := yaml.UnmarshalStrict(data, &s); err != nil {
		return Settings{}, fmt.Errorf("settings: %w", err)
	}
	if err := s.validate(); err != nil {
		return Settings{}, fmt.Errorf("settings: %w", err)
	}
	s.applyDefaults()
	return s, nil
}

// ActionFor returns the action configured for a rule.
func (s Settings) ActionFor(id validators.RuleID) validators.Action {
	if a, ok := s.Rules[id]; ok {
		return a
	}
	for _, r := range validators.Stage1Rules() {
		if r.ID == id {
			return r.DefaultAction
		}
	}
	return validators.ActionOff
}

func (s *Settings) applyDefaults() {
	rules := make(map[validators.RuleID]validators.Action, len(s.Rules))
	for _, r := range validators.Stage1Rules() {
		rules[r.ID] = r.DefaultAction
	}
	for id, a := range s.Rules {
		rules[id] = a
	}
	s.Rules = rules
	setDefault(&s.Registry.Budget, DefaultRegistryBudget)
	setDefault(&s.Registry.SuccessTTL, DefaultSuccessTTL)
	setDefault(&s.Registry.FailureTTL, DefaultFailureTTL)
	setDefault(&s.Preflight.PushSecretExpiryWindow, validators.DefaultExpiryWindow)
	c := &s.Checker
	setDefault(&c.BuildStuckAfter, DefaultBuildStuckAfter)
	setDefault(&c.BuildPendingAfter, DefaultBuildPendingAfter)
	setDefault(&c.RolloutStartAfter, DefaultRolloutStartAfter)
	setDefault(&c.RolloutStallAfter, DefaultRolloutStallAfter)
	setDefault(&c.NodeRebootAfter, DefaultNodeRebootAfter)
	setDefault(&c.ConfigObserveAfter, DefaultConfigObserveAfter)
	setDefault(&c.Recheck, DefaultRecheck)
	setDefault(&c.AuditResync, DefaultAuditResync)
	if c.LogLimitBytes == 0 {
		c.LogLimitBytes = DefaultLogLimitBytes
	}
	if c.PolicyReport == "" {
		c.PolicyReport = PolicyReportAuto
	}
}

func setDefault(d *metav1.Duration, def time.Duration) {
	if d.Duration == 0 {
		d.Duration = def
	}
}

func (s Settings) validate() error {
	var problems []string
	known := validators.RuleIDs()
	for id, action := range s.Rules {
		if !slices.Contains(known, id) {
			problems = append(problems, fmt.Sprintf("rules.%s: unknown rule; known rules are %s", id, joinIDs(known)))
		}
		switch action {
		case validators.ActionDeny, validators.ActionWarn, validators.ActionOff:
		default:
			problems = append(problems, fmt.Sprintf("rules.%s: %q is not an action; use deny, warn or off", id, action))
		}
	}
	r := s.Registry
	if r.Budget.Duration < 0 || r.Budget.Duration > maxRegistryBudget {
		problems = append(problems, fmt.Sprintf("registry.budget: %s is out of range; use up to %s, below the webhook's 10s timeout", r.Budget.Duration, maxRegistryBudget))
	}
	if r.SuccessTTL.Duration < 0 || r.FailureTTL.Duration < 0 {
		problems = append(problems, "registry.successTTL and registry.failureTTL must not be negative")
	}
	if s.Preflight.PushSecretExpiryWindow.Duration < 0 {
		problems = append(problems, "preflight.pushSecretExpiryWindow: must not be negative; use a duration such as 336h")
	}
	c := s.Checker
	for name, d := range map[string]metav1.Duration{
		"buildStuckAfter": c.BuildStuckAfter, "buildPendingAfter": c.BuildPendingAfter, "rolloutStartAfter": c.RolloutStartAfter,
		"rolloutStallAfter": c.RolloutStallAfter, "nodeRebootAfter": c.NodeRebootAfter, "configObserveAfter": c.ConfigObserveAfter, "recheck": c.Recheck, "auditResync": c.AuditResync,
	} {
		if d.Duration < 0 {
			problems = append(problems, fmt.Sprintf("checker.%s: must not be negative", name))
		}
	}
	if c.LogLimitBytes < 0 || c.LogLimitBytes > 4<<20 {
		problems = append(problems, "checker.logLimitBytes: use 1 to 4194304 bytes")
	}
	if c.PolicyReport != "" && c.PolicyReport != PolicyReportAuto && c.PolicyReport != PolicyReportOff {
		problems = append(problems, fmt.Sprintf("checker.policyReport: %q: use auto or off", c.PolicyReport))
	}
	for i, cidr := range r.AllowedCIDRs {
		if _, err := parsePrefix(cidr); err != nil {
			problems = append(problems, fmt.Sprintf("registry.allowedCIDRs[%d]: %q is not a CIDR such as 10.0.0.0/8", i, cidr))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

func joinIDs(ids []validators.RuleID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	return strings.Join(s, ", ")
}

// Package validators holds ocl-guard's admission rules: pure functions of a MachineOSConfig and the facts gathered
// about it once per evaluation (facts.go), with the registry prober and the clock as explicit dependencies
// (input.go). Evaluate turns what they find into findings (package findings) whose outcome it decides once; the
// webhook, the checker, `ocl-guard check` and `ocl-guard status` render those and hold no rule logic of their own.
package validators

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/mco"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// RuleID is the stable name of a rule (findings.RuleID).
type RuleID = findings.RuleID

const (
	RuleSecretExists       RuleID = "secret-exists"
	RuleSecretFormat       RuleID = "secret-format"
	RuleSecretRegistryAuth RuleID = "secret-registry-auth"
	RulePushSpecSyntax     RuleID = "pushspec-syntax"
	RulePoolExists         RuleID = "pool-exists"
	RuleContainerfile      RuleID = "containerfile"
	RuleBuildNameLength    RuleID = "build-name-length"

	// Preflight rules: stage-2 and stage-3 failures (build, rollout) already decided when the config is applied.
	RuleBaseImagePull            RuleID = "base-image-pull"
	RuleContainerfileImages      RuleID = "containerfile-images"
	RuleEntitlement              RuleID = "entitlement"
	RulePushSecretLifetime       RuleID = "push-secret-lifetime"
	RuleImagePolicy              RuleID = "image-policy"
	RulePrebuiltImage            RuleID = "prebuilt-image"
	RulePrebuiltImagePull        RuleID = "prebuilt-image-pull"
	RulePushSpecDeletePermission RuleID = "pushspec-delete-permission"
)

// Action says what a rule's errors do at admission.
type Action string

const (
	ActionDeny Action = "deny" // errors reject the request
	ActionWarn Action = "warn" // errors are returned as warnings and the request is admitted
	ActionOff  Action = "off"  // the rule does not run
)

// Findings is what one rule says about one object: errors (which its Action turns into a denial or warnings),
// warnings (which never deny) and what it could not judge. Evaluate turns them into findings.Finding values.
type Findings struct {
	Errs     field.ErrorList
	Warnings []string
	// Skipped says why the rule could not judge, e.g. its registry was not probed.
	Skipped []string
	// Evidence is the detail behind Errs and Warnings that may vary between two looks at the same facts (see
	// findings.Finding.Evidence); it is attached to every finding of the rule.
	Evidence []string
}

func (f *Findings) add(err *field.Error) { f.Errs = append(f.Errs, err) }

func (f *Findings) warn(format string, args ...any) {
	f.Warnings = append(f.Warnings, fmt.Sprintf(format, args...))
}

func (f *Findings) skip(format string, args ...any) {
	f.Skipped = append(f.Skipped, fmt.Sprintf(format, args...))
}

func (f *Findings) evidence(format string, args ...any) {
	f.Evidence = append(f.Evidence, fmt.Sprintf(format, args...))
}

// Rule is one stage-1 check of a MachineOSConfig.
type Rule struct {
	ID RuleID
	// DefaultAction applies when the settings do not name the rule.
	DefaultAction Action
	// Summary is a one-line description for docs and --help.
	Summary string
	// Reads are what the rule judges besides the MachineOSConfig (TestRulesReadOnlyWhatTheyDeclare holds it).
	Reads    Reads
	Validate func(ctx context.Context, in *Input) Findings
}

// Reads are the facts a rule judges by, besides the MachineOSConfig itself: what a source that holds only part of
// the cluster (a must-gather, PartialSource) must hold for the rule to be judged, and which rules reach the network.
type Reads uint8

const (
	// ReadsPool is Facts.Pool: the MachineConfigPool the config names.
	ReadsPool Reads = 1 << iota
	// ReadsRenderedConfig is Facts.OSImages: the pool's rendered MachineConfig.
	ReadsRenderedConfig
	// ReadsSecrets is whether the Secrets the config names (Facts.Secrets, Facts.ClusterPullSecret) exist.
	ReadsSecrets
	// ReadsSecretData is those Secrets' data: credentials, their format, their expiry.
	ReadsSecretData
	// ProbesRegistry is a registry asked over the network with those credentials (Input.Prober).
	ProbesRegistry
	// ReadsImagePolicy is Facts.ImageConfig and Facts.ClusterImagePolicies.
	ReadsImagePolicy
	// ReadsEntitlement is Facts.Entitlement.
	ReadsEntitlement
)

// probesWithSecret are the reads of a rule that asks a registry with a Secret's credentials.
const probesWithSecret = ReadsSecrets | ReadsSecretData | ProbesRegistry

// Stage1Rules lists the MachineOSConfig rules in the order they run and report.
func Stage1Rules() []Rule {
	return []Rule{
		{RulePoolExists, ActionDeny, "spec.machineConfigPool.name names an existing MachineConfigPool", ReadsPool, ValidatePoolExists},
		{RuleBuildNameLength, ActionWarn, "the pool name leaves room for the MCO's build and job names in 63-character labels", 0, ValidateBuildNameLength},
		{RuleSecretExists, ActionDeny, "the push and base-image pull secrets exist in " + mco.Namespace, ReadsSecrets, ValidateSecretsExist},
		{RuleSecretFormat, ActionDeny, "those secrets are docker config secrets holding at least one credential", ReadsSecrets | ReadsSecretData, ValidateSecretFormat},
		{RuleSecretRegistryAuth, ActionDeny, "the push secret holds credentials for the registry of renderedImagePushSpec", ReadsSecrets | ReadsSecretData, ValidateSecretRegistryAuth},
		{RulePushSpecSyntax, ActionDeny, "renderedImagePushSpec parses as the MCO parses it (distribution reference grammar)", 0, ValidatePushSpecSyntax},
		{RuleContainerfile, ActionDeny, "each containerFile entry parses as a Containerfile", 0, ValidateContainerfile},
		// Warn by default: the webhook's network may differ from the build pod's, so "unreachable from here" is a hint.
		{RulePushSpecReachable, ActionWarn, "the registry of renderedImagePushSpec answers the registry API", probesWithSecret, ValidatePushSpecReachable},
		{RulePushSpecPushPermission, ActionDeny, "the push secret's credentials are accepted and grant push on the repository", probesWithSecret, ValidatePushSpecPushPermission},
		// Warn: the MCO only logs a refused delete when it prunes an image, and many registries do not say.
		{RulePushSpecDeletePermission, ActionWarn, "the push secret's token grants delete, which the MCO uses to prune old images", probesWithSecret, ValidatePushSpecDeletePermission},
		{RulePushSpecECRRepository, ActionWarn, "a push spec on Amazon ECR names an existing repository: ECR does not create one on push", probesWithSecret, ValidatePushSpecECRRepository},
		{RulePushSecretLifetime, ActionWarn, "the push secret is not a rotating service-account token and does not expire soon", ReadsSecrets | ReadsSecretData, ValidatePushSecretLifetime},
		{RuleImagePolicy, ActionWarn, "the nodes' image policy lets them pull the built image", ReadsImagePolicy, ValidateImagePolicy},
		{RuleEntitlement, ActionWarn, "package installs have RHEL entitlements or yum repositories to resolve from", ReadsEntitlement, ValidateEntitlement},
		// Warn until proven in the field: the webhook's network and view of the registry may differ from the build pod's.
		{RuleBaseImagePull, ActionWarn, "the pool's base OS image can be pulled with the base image pull secret", ReadsPool | ReadsRenderedConfig | probesWithSecret, ValidateBaseImagePull},
		{RuleContainerfileImages, ActionWarn, "other images the Containerfile pulls are fully qualified and can be pulled", probesWithSecret, ValidateContainerfileImages},
		{RulePrebuiltImage, ActionDeny, "the pre-built-image annotation is a digested reference for an existing pool", ReadsPool, ValidatePrebuiltImage},
		{RulePrebuiltImagePull, ActionDeny, "the pre-built image exists and can be pulled with the push secret", probesWithSecret, ValidatePrebuiltImagePull},
	}
}

// RuleIDs returns the IDs of all rules, for settings validation.
func RuleIDs() []RuleID {
	var ids []RuleID
	for _, r := range Stage1Rules() {
		ids = append(ids, r.ID)
	}
	return ids
}

// ProbesNetwork reports whether a rule talks to something outside the cluster (a registry), which is too costly for
// requests that cannot be refused anyway.
func ProbesNetwork(id RuleID) bool { return readsOf(id)&ProbesRegistry != 0 }

// ReadsSecretContent reports whether a rule judges the data of a Secret (credentials, their format, their expiry,
// or a registry probe made with them), not only whether the Secret exists. A source that holds Secrets without
// their data, as a must-gather does, cannot judge these (PartialSource).
func ReadsSecretContent(id RuleID) bool { return readsOf(id)&ReadsSecretData != 0 }

// ReadsOf is what rule id judges by besides the MachineOSConfig; 0 for an unknown rule.
func ReadsOf(id RuleID) Reads { return readsOf(id) }

func readsOf(id RuleID) Reads { return readsByRule()[id] }

// readsByRule is every rule's Reads, built once: the webhook asks ProbesNetwork of every rule of an unchanged spec,
// and a must-gather asks ReadsOf of every rule of every config.
var readsByRule = sync.OnceValue(func() map[RuleID]Reads {
	reads := map[RuleID]Reads{}
	for _, r := range Stage1Rules() {
		reads[r.ID] = r.Reads
	}
	return reads
})

// KnownRule reports whether id names a rule.
func KnownRule(id RuleID) bool { return slices.Contains(RuleIDs(), id) }

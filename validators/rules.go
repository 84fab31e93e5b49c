// Package validators holds ocl-guard's admission rules: pure functions of a MachineOSConfig and the facts gathered
// about it once per evaluation (facts.go), with the registry prober and the clock as explicit dependencies
// (input.go). Evaluate turns what they find into findings (package findings) whose outcome it decides once; the
// webhook, the checker, `ocl-guard check` and `ocl-guard status` render those and hold no rule logic of their own.
package validators

import (
	"context"
	"fmt"
	"slices"

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
	Summary  string
	Validate func(ctx context.Context, in *Input) Findings
}

// Stage1Rules lists the MachineOSConfig rules in the order they run and report.
func Stage1Rules() []Rule {
	return []Rule{
		{RulePoolExists, ActionDeny, "spec.machineConfigPool.name names an existing MachineConfigPool", ValidatePoolExists},
		{RuleBuildNameLength, ActionWarn, "the pool name leaves room for the MCO's build and job names in 63-character labels", ValidateBuildNameLength},
		{RuleSecretExists, ActionDeny, "the push and base-image pull secrets exist in " + mco.Namespace, ValidateSecretsExist},
		{RuleSecretFormat, ActionDeny, "those secrets are docker config secrets holding at least one credential", ValidateSecretFormat},
		{RuleSecretRegistryAuth, ActionDeny, "the push secret holds credentials for the registry of renderedImagePushSpec", ValidateSecretRegistryAuth},
		{RulePushSpecSyntax, ActionDeny, "renderedImagePushSpec parses as the MCO parses it (distribution reference grammar)", ValidatePushSpecSyntax},
		{RuleContainerfile, ActionDeny, "each containerFile entry parses as a Containerfile", ValidateContainerfile},
		// Warn by default: the webhook's network may differ from the build pod's, so "unreachable from here" is a hint.
		{RulePushSpecReachable, ActionWarn, "the registry of renderedImagePushSpec answers the registry API", ValidatePushSpecReachable},
		{RulePushSpecPushPermission, ActionDeny, "the push secret's credentials are accepted and grant push on the repository", ValidatePushSpecPushPermission},
		// Warn: the MCO only logs a refused delete when it prunes an image, and many registries do not say.
		{RulePushSpecDeletePermission, ActionWarn, "the push secret's token grants delete, which the MCO uses to prune old images", ValidatePushSpecDeletePermission},
		{RulePushSpecECRRepository, ActionWarn, "a push spec on Amazon ECR names an existing repository: ECR does not create one on push", ValidatePushSpecECRRepository},
		{RulePushSecretLifetime, ActionWarn, "the push secret is not a rotating service-account token and does not expire soon", ValidatePushSecretLifetime},
		{RuleImagePolicy, ActionWarn, "the nodes' image policy lets them pull the built image", ValidateImagePolicy},
		{RuleEntitlement, ActionWarn, "package installs have RHEL entitlements or yum repositories to resolve from", ValidateEntitlement},
		// Warn until proven in the field: the webhook's network and view of the registry may differ from the build pod's.
		{RuleBaseImagePull, ActionWarn, "the pool's base OS image can be pulled with the base image pull secret", ValidateBaseImagePull},
		{RuleContainerfileImages, ActionWarn, "other images the Containerfile pulls are fully qualified and can be pulled", ValidateContainerfileImages},
		{RulePrebuiltImage, ActionDeny, "the pre-built-image annotation is a digested reference for an existing pool", ValidatePrebuiltImage},
		{RulePrebuiltImagePull, ActionDeny, "the pre-built image exists and can be pulled with the push secret", ValidatePrebuiltImagePull},
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
func ProbesNetwork(id RuleID) bool { return networkRules[id] }

var networkRules = map[RuleID]bool{
	RulePushSpecReachable: true, RulePushSpecPushPermission: true, RulePushSpecDeletePermission: true,
	RuleBaseImagePull: true, RuleContainerfileImages: true, RulePrebuiltImagePull: true, RulePushSpecECRRepository: true,
}

// ReadsSecretContent reports whether a rule judges the data of a Secret (credentials, their format, their expiry,
// or a registry probe made with them), not only whether the Secret exists. A source that holds Secrets without
// their data, as a must-gather does, cannot judge these (PartialSource).
func ReadsSecretContent(id RuleID) bool { return secretContentRules[id] }

var secretContentRules = map[RuleID]bool{
	RuleSecretFormat: true, RuleSecretRegistryAuth: true, RulePushSecretLifetime: true,
	// The registry rules probe with the Secret's credentials: without them a probe is not even attempted.
	RulePushSpecReachable: true, RulePushSpecPushPermission: true, RulePushSpecDeletePermission: true,
	RulePushSpecECRRepository: true, RuleBaseImagePull: true, RuleContainerfileImages: true, RulePrebuiltImagePull: true,
}

// KnownRule reports whether id names a rule.
func KnownRule(id RuleID) bool { return slices.Contains(RuleIDs(), id) }

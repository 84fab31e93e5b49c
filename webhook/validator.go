// Package webhook answers admission requests for MachineOSConfig. It decodes, asks validators.Evaluate, and renders
// the findings as a standard Invalid status and admission warnings; the rules and their outcomes live in validators/.
package webhook

import (
	"context"
	"fmt"
	"net/http"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ocl-guard/ocl-guard/findings"
	"github.com/ocl-guard/ocl-guard/validators"
)

// Path is where the MachineOSConfig validating webhook is served; config/webhook/manifests.yaml points at it.
const Path = "/validate-machineconfiguration-openshift-io-v1-machineosconfig"

// Validator is the admission handler for MachineOSConfig CREATE and UPDATE.
type Validator struct {
	Decoder admission.Decoder
	// Env is where the rules' facts come from, the prober, the clock and each rule's configured action.
	Env validators.Env
	// Metrics counts the findings; nil counts none.
	Metrics *Metrics
}

// NewValidator returns a Validator decoding with scheme, which must have the machineconfiguration/v1 types, and
// counting its findings in metrics (nil: not counted).
func NewValidator(scheme *runtime.Scheme, env validators.Env, metrics *Metrics) *Validator {
	return &Validator{Decoder: admission.NewDecoder(scheme), Env: env, Metrics: metrics}
}

var machineOSConfigGK = mcfgv1.GroupVersion.WithKind("MachineOSConfig").GroupKind()

// Handle implements admission.Handler.
func (v *Validator) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Kind.Group != machineOSConfigGK.Group || req.Kind.Kind != machineOSConfigGK.Kind {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf(
			"this webhook validates only %s; check the ValidatingWebhookConfiguration's rules (got %s)", machineOSConfigGK, req.Kind))
	}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("")
	}
	var mosc mcfgv1.MachineOSConfig
	if err := v.Decoder.DecodeRaw(req.Object, &mosc); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("could not decode the MachineOSConfig in the request: %w", err))
	}

	if req.Operation == admissionv1.Update {
		var old mcfgv1.MachineOSConfig
		if err := v.Decoder.DecodeRaw(req.OldObject, &old); err != nil {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("could not decode the old MachineOSConfig in the request: %w", err))
		}
		if equality.Semantic.DeepEqual(old.Spec, mosc.Spec) {
			return v.unchangedSpec(ctx, &mosc)
		}
	}
	if mosc.DeletionTimestamp != nil {
		return admission.Allowed("") // finalizer removal and other writes on the way out must go through
	}

	verdict := validators.Evaluate(ctx, &mosc, v.Env)
	v.Metrics.recordVerdict(verdict, false)
	warnings := findings.AdmissionWarnings(verdict.Findings.With(findings.Warn))
	if denials := verdict.Findings.Denials(); len(denials) > 0 {
		status := apierrors.NewInvalid(machineOSConfigGK, mosc.Name, denials).ErrStatus
		return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{
			Allowed: false, Result: &status, Warnings: warnings,
		}}
	}
	return admission.Allowed("").WithWarnings(warnings...)
}

// unchangedSpec admits an UPDATE that leaves the spec alone. Such writes come from the MCO (the
// current-machine-os-build annotation, clearing the rebuild annotation) and from humans labelling or repairing;
// refusing them could wedge the MCO, so every rule that would deny warns instead, and the registry is not probed.
func (v *Validator) unchangedSpec(ctx context.Context, mosc *mcfgv1.MachineOSConfig) admission.Response {
	env := v.Env
	env.Actions = func(id validators.RuleID) validators.Action {
		switch action := v.Env.Actions(id); {
		case validators.ProbesNetwork(id):
			return validators.ActionOff
		case action == validators.ActionDeny:
			return validators.ActionWarn
		default:
			return action
		}
	}
	verdict := validators.Evaluate(ctx, mosc, env)
	v.Metrics.recordVerdict(verdict, true)
	return admission.Allowed("spec unchanged").WithWarnings(findings.AdmissionWarnings(verdict.Findings.With(findings.Warn))...)
}

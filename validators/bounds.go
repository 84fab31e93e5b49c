package validators

import (
	"unicode/utf8"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// RuleCRDBounds names the limits of the MachineOSConfig CRD's own schema, checked before any rule runs. It is not
// configurable: the API server enforces the same limits before it calls the webhook, so only a request that did
// not come through the API server (an AdmissionReview posted directly) can fail it, and such a request must never
// reach the parsers with megabytes of input.
const RuleCRDBounds RuleID = "crd-bounds"

// The limits of the MachineOSConfig CRD (openshift/api machineconfiguration/v1 types_machineosconfig.go, the
// kubebuilder markers behind zz_generated.crd-manifests/0000_80_machine-config_01_machineosconfigs.crd.yaml); a
// test compares them with the CRD in the module.
const (
	maxContainerfiles       = 4
	maxContainerfileContent = 4096
	maxPushSpecLength       = 447
	maxObjectNameLength     = 253
)

// CheckCRDBounds reports every field over the CRD's limits, and annotations over the API server's total size.
// It only measures: it parses nothing. Lengths are in characters, as OpenAPI's maxLength counts them.
func CheckCRDBounds(mosc *mcfgv1.MachineOSConfig) field.ErrorList {
	spec := field.NewPath("spec")
	errs := apimachineryvalidation.ValidateAnnotations(mosc.Annotations, field.NewPath("metadata", "annotations"))
	for _, name := range []struct {
		path  *field.Path
		value string
	}{
		{spec.Child("machineConfigPool", "name"), mosc.Spec.MachineConfigPool.Name},
		{pushSecretPath, mosc.Spec.RenderedImagePushSecret.Name},
		{field.NewPath("metadata", "name"), mosc.Name},
	} {
		if exceeds(name.value, maxObjectNameLength) {
			errs = append(errs, field.TooLong(name.path, "", maxObjectNameLength))
		}
	}
	if s := mosc.Spec.BaseImagePullSecret; s != nil && exceeds(s.Name, maxObjectNameLength) {
		errs = append(errs, field.TooLong(spec.Child("baseImagePullSecret", "name"), "", maxObjectNameLength))
	}
	if exceeds(string(mosc.Spec.RenderedImagePushSpec), maxPushSpecLength) {
		errs = append(errs, field.TooLong(spec.Child("renderedImagePushSpec"), "", maxPushSpecLength))
	}
	files := spec.Child("containerFile")
	if n := len(mosc.Spec.Containerfile); n > maxContainerfiles {
		errs = append(errs, field.TooMany(files, n, maxContainerfiles))
	}
	for i, cf := range mosc.Spec.Containerfile {
		if exceeds(cf.Content, maxContainerfileContent) {
			errs = append(errs, field.TooLong(files.Index(i).Child("content"), "", maxContainerfileContent))
		}
	}
	return errs
}

// exceeds counts characters only as far as it must: a byte count within max settles it without decoding.
func exceeds(s string, max int) bool {
	return len(s) > max && utf8.RuneCountInString(s) > max
}

package validators

import (
	"context"
	"fmt"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// PreBuiltImageAnnotation on a MachineOSConfig in an installer's manifests seeds the pool with an image built
// beforehand instead of building one (openshift/machine-config-operator, pkg/controller/build/constants).
const PreBuiltImageAnnotation = "machineconfiguration.openshift.io/pre-built-image"

var preBuiltImagePath = field.NewPath("metadata", "annotations").Key(PreBuiltImageAnnotation)

// ValidatePreBuiltImage is rule prebuilt-image: the annotation's value is what the MCO's bootstrap accepts
// (openshift/machine-config-operator pkg/controller/bootstrap/bootstrap.go, validatePreBuiltImage): a reference in
// the distribution grammar, by digest, and the digest sha256. Anything else fails the installation at bootstrap.
func ValidatePreBuiltImage(_ context.Context, mosc *mcfgv1.MachineOSConfig, _ Lookups) Findings {
	var f Findings
	image, ok := mosc.Annotations[PreBuiltImageAnnotation]
	if !ok {
		return f
	}
	const form = "host/path@sha256:<64 hex digits>"
	if image == "" {
		f.add(field.Invalid(preBuiltImagePath, image, "is empty: give the pre-built image as "+form+", or remove the annotation to build on the cluster"))
		return f
	}
	ref, err := reference.ParseNamed(image)
	if err != nil {
		f.add(field.Invalid(preBuiltImagePath, image, fmt.Sprintf("is not an image reference the MCO can parse (%v): use %s", err, form)))
		return f
	}
	canonical, ok := ref.(reference.Canonical)
	if !ok {
		f.add(field.Invalid(preBuiltImagePath, image, fmt.Sprintf(
			"must name the image by digest, as %s: the MCO's bootstrap refuses a tag; 'skopeo inspect docker://%s' shows the digest", form, image)))
		return f
	}
	if canonical.Digest().Algorithm() != digest.SHA256 {
		f.add(field.Invalid(preBuiltImagePath, image, fmt.Sprintf("must use a sha256 digest, not %s: use %s", canonical.Digest().Algorithm(), form)))
	}
	return f
}

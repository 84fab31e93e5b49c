package validators

import (
	"context"
	"fmt"

	"github.com/distribution/reference"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/opencontainers/go-digest"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var prebuiltImagePath = field.NewPath("metadata", "annotations").Key(mco.AnnotationPreBuiltImage)

// ValidatePrebuiltImage is rule prebuilt-image: when the annotation is present it must be what the MCO's bootstrap
// accepts, a reference with a sha256 digest, for a pool that exists.
func ValidatePrebuiltImage(ctx context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	image, ok := mosc.Annotations[mco.AnnotationPreBuiltImage]
	if !ok {
		return f
	}
	if problem := prebuiltImageProblem(image); problem != "" {
		f.add(field.Invalid(prebuiltImagePath, image, problem))
		return f
	}
	pool := mosc.Spec.MachineConfigPool.Name
	if _, err := in.Facts.Pool.Get(); apierrors.IsNotFound(err) {
		f.add(field.Invalid(prebuiltImagePath, image, fmt.Sprintf(
			"seeds pool %q, which does not exist; create the pool or correct spec.machineConfigPool.name", pool)))
	}
	return f
}

func prebuiltImageProblem(image string) string {
	ref, err := reference.ParseNamed(image)
	if err != nil {
		return fmt.Sprintf("is not a valid image reference (%v); use host/path/name@sha256:<64 hex digits>", err)
	}
	canonical, ok := ref.(reference.Canonical)
	if !ok {
		return fmt.Sprintf("must be digested, as %s@sha256:<digest>: the MCO refuses a tag here; "+
			"'skopeo inspect docker://%s' prints the digest", ref.Name(), image)
	}
	if canonical.Digest().Algorithm() != digest.SHA256 {
		return fmt.Sprintf("uses a %s digest; the MCO accepts only sha256", canonical.Digest().Algorithm())
	}
	return ""
}

// ValidatePrebuiltImagePull is rule prebuilt-image-pull: the pre-built image exists and the push secret may pull
// it (the MCO records it as the pool's image, and that registry is where its builds go).
func ValidatePrebuiltImagePull(ctx context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	image, ok := mosc.Annotations[mco.AnnotationPreBuiltImage]
	if !ok || prebuiltImageProblem(image) != "" {
		return f // prebuilt-image reports a malformed one
	}
	name := mosc.Spec.RenderedImagePushSecret.Name
	secret, err := in.Facts.Secret(name)
	if err != nil {
		return f // secret-exists reports it
	}
	canonical, ok := in.canonicalSecret(secret)
	if !ok {
		return f // secret-format reports it
	}
	use := secretUse{path: pushSecretPath, name: name, role: "push secret"}
	reportPull(&f, prebuiltImagePath, image, "the pre-built image "+image, use, in.ProbePull(ctx, image, canonical))
	return f
}

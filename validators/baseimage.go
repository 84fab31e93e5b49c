package validators

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// ValidateBaseImagePull is rule base-image-pull: the images the MCO's stages start from, the pool's rendered
// MachineConfig's spec.osImageURL and (when set) spec.baseOSExtensionsContainerImage, can be pulled with the
// secret the build pulls with. Seen from the webhook, which does not apply the nodes' mirror configuration, so a
// warning by default.
func ValidateBaseImagePull(ctx context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	images, rendered, ok := poolOSImages(in, &f)
	if !ok {
		return f
	}
	secret, use := basePullSecret(ctx, mosc, in)
	for _, img := range []struct{ ref, what string }{
		{images.OSImageURL, "base OS image"},
		{images.ExtensionsImage, "extensions image"},
	} {
		if img.ref == "" {
			continue
		}
		what := fmt.Sprintf("the %s %s of pool %s (rendered config %s)", img.what, img.ref, mosc.Spec.MachineConfigPool.Name, rendered)
		reportPull(&f, pullSecretPath, use.name, what, use, in.ProbePull(ctx, img.ref, secret))
	}
	return f
}

// poolOSImages returns the base images of the pool's current rendered config. ok is false when there is nothing to
// check yet (no pool, or a pool not rendered yet: pool-exists and the MCO report those).
func poolOSImages(in *Input, f *Findings) (OSImages, string, bool) {
	pool, err := in.Facts.Pool.Get()
	if err != nil || pool.Spec.Configuration.Name == "" {
		return OSImages{}, "", false
	}
	rendered := pool.Spec.Configuration.Name
	images, err := in.Facts.OSImages.Get()
	switch {
	case apierrors.IsNotFound(err):
		f.warn("pool %s names rendered MachineConfig %s, which does not exist (yet); base image not checked", pool.Name, rendered)
		return images, rendered, false
	case err != nil:
		f.warn("could not read rendered MachineConfig %s: %v", rendered, err)
		return images, rendered, false
	}
	return images, rendered, true
}

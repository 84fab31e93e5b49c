package validators

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ocl-guard/ocl-guard/registry"
)

// ValidatePushSpecDeletePermission is rule pushspec-delete-permission: when a MachineOSBuild is deleted the MCO
// deletes its image with the push secret and only logs a refusal, so without delete old images pile up in the
// repository. Only a token service that lists its grants can tell; otherwise the rule says nothing.
func ValidatePushSpecDeletePermission(ctx context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	repo, err := in.pushRepository()
	if err != nil {
		return f
	}
	name := mosc.Spec.RenderedImagePushSecret.Name
	secret, err := in.Facts.Secret(name)
	if err != nil {
		return f
	}
	canonical, ok := in.canonicalSecret(secret)
	if !ok {
		return f
	}
	switch r := in.ProbeDelete(ctx, repo.Name(), canonical); {
	case r.Delete == registry.StatusSkipped: // the delete probe asks only the token service: its Reachable says nothing
		f.skip("delete on %s not probed", repo.Name())
	case r.Delete == registry.StatusFailed:
		f.add(field.Invalid(pushSecretPath, name, fmt.Sprintf(
			"%s; the MCO deletes the images of deleted MachineOSBuilds with this secret and only logs a refusal, "+
				"so grant delete on %s or prune the repository yourself", r.DeleteDetail, repo.Name())))
	}
	return f
}

package validators

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ocl-guard/ocl-guard/registry"
)

// RulePushSpecECRRepository: Amazon ECR does not create a repository on push, so a push to one that does not exist
// fails every build ("name unknown: The repository with name '...' does not exist in the registry with id '...'").
const RulePushSpecECRRepository RuleID = "pushspec-ecr-repository"

// ecrHost matches Amazon ECR's private registries: <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn].
var ecrHost = regexp.MustCompile(`^[0-9a-z-]+\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?(:443)?$`)

// ValidatePushSpecECRRepository is rule pushspec-ecr-repository: a push spec on Amazon ECR names a repository that
// exists, checked with the push secret's credentials (ECR's tag list answers NAME_UNKNOWN for a missing one); when
// that cannot be checked, a warning says that ECR will not create it.
func ValidatePushSpecECRRepository(ctx context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	repo, err := in.pushRepository()
	if err != nil || !ecrHost.MatchString(repo.RegistryStr()) {
		return f
	}
	r := registry.Result{Pull: registry.StatusSkipped, PullDetail: "the push secret cannot be read"}
	if secret, err := in.Facts.Secret(mosc.Spec.RenderedImagePushSecret.Name); err == nil {
		if canonical, ok := in.canonicalSecret(secret); ok {
			r = in.ProbeRepository(ctx, repo.Name(), canonical)
		}
	}
	ecrRepositoryFindings(&f, string(mosc.Spec.RenderedImagePushSpec), repo.RegistryStr(), repo.RepositoryStr(), r)
	return f
}

// ecrRepositoryFindings turns the existence probe of repository path on ECR host into findings on the push spec.
func ecrRepositoryFindings(f *Findings, pushSpec, host, path string, r registry.Result) {
	region := "<region>"
	if m := ecrHost.FindStringSubmatch(host); m != nil {
		region = m[2]
	}
	switch {
	case r.Pull == registry.StatusOK:
	case r.Pull == registry.StatusFailed && r.NotFound:
		f.add(field.Invalid(pushSpecPath, pushSpec, fmt.Sprintf(
			"repository %s does not exist in Amazon ECR registry %s, and ECR does not create repositories on push, so every build's push fails; "+
				"create it: aws ecr create-repository --repository-name %s --region %s", path, host, path, region)))
	default:
		why := strings.TrimPrefix(r.PullDetail, "not probed: ")
		if why == "" {
			why = "the registry was not probed"
		}
		f.warn("%s: %s is Amazon ECR, which does not create repositories on push: make sure repository %s exists "+
			"(aws ecr describe-repositories --repository-names %s --region %s); not verified: %s", pushSpecPath, host, path, path, region, why)
	}
}

package validators

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/ocl-guard/ocl-guard/mco"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// packageInstall matches a RUN that installs packages from repositories. Installing local or URL rpm files needs
// no repository, but telling them apart from package names in shell text is guesswork, so any install counts.
var packageInstall = regexp.MustCompile(`\b(dnf|yum|microdnf|rpm-ostree)\b[^;&|\n]*\binstall\b`)

// ValidateEntitlement is rule entitlement: RHCOS images have no enabled repositories, so a package install
// resolves only with the entitlement the MCO copies into the build, or with repository files from
// etc-yum-repos-d or from the Containerfile itself. Without any, dnf says "This system is not registered with an
// entitlement server" and the build fails.
//
// It also warns when a repository the Containerfile defines names a key under /etc/pki/rpm-gpg that nothing provides
// (rpmGPGKeyWarning): dnf then refuses every package of it.
func ValidateEntitlement(ctx context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	i, content, ok := noArchEntry(mosc)
	if !ok {
		return f // no build
	}
	parsed, err := in.containerfile(content)
	if err != nil {
		return f
	}
	line, found := firstPackageInstall(parsed.stages)
	if !found {
		return f
	}
	sources, err := in.Facts.Entitlement.Get()
	if err != nil {
		f.warn("could not check RHEL entitlements for package installs: %v", err)
		return f
	}
	if w := rpmGPGKeyWarning(sources.RPMGPGKeys, containerfilePath.Index(i).Child("content"), parsed); w != "" {
		f.warn("%s", w)
	}
	if sources.Secret || sources.YumRepos || strings.Contains(content, "yum.repos.d") {
		return f // entitled, or repositories from the ConfigMap or the Containerfile itself
	}
	f.add(field.Invalid(containerfilePath.Index(i).Child("content"), field.OmitValueType{}, fmt.Sprintf(
		"line %d installs packages, but there is no Secret %s/%s (RHEL entitlement) and no ConfigMap %s/%s "+
			"(repository files), so RHEL content will not resolve; enable Simple Content Access or create %s with your repositories",
		line, mco.EntitlementSecretNamespace, mco.EntitlementSecretName, mco.Namespace, mco.YumReposConfigMapName, mco.YumReposConfigMapName)))
	return f
}

func firstPackageInstall(stages []instructions.Stage) (int, bool) {
	for _, st := range stages {
		for _, cmd := range st.Commands {
			if run, ok := cmd.(*instructions.RunCommand); ok && packageInstall.MatchString(strings.Join(run.CmdLine, " ")) {
				return firstLine(run.Location()), true
			}
		}
	}
	return 0, false
}

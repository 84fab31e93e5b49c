package validators

import (
	"context"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/ocl-guard/ocl-guard/mco"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var containerfilePath = field.NewPath("spec", "containerFile")

// ContainerfileErrors are rule containerfile's errors on mosc. The rule reads no cluster fact, so the build
// diagnosis re-checks a Containerfile the MCO refused before creating a Job with it (diagnose.FailedBeforeJob).
func ContainerfileErrors(mosc *mcfgv1.MachineOSConfig) field.ErrorList {
	return ValidateContainerfile(context.Background(), &Input{Config: mosc}).Errs
}

// ValidateContainerfile is rule containerfile: the MCO builds only the first NoArch entry, and refuses it before any
// build when its own validation does (4.23/5.0+): that is a denial, with the MCO's words and the line of the entry.
// What the MCO lets through is never denied: buildkit's parser refusing it, the entries the MCO ignores, and what
// the parsed content says about the build (containerfileWarnings) are warnings.
func ValidateContainerfile(_ context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	entries := mosc.Spec.Containerfile
	built, _, hasBuilt := noArchEntry(mosc)
	anyFrom, allParsed, anyContent := false, true, false
	for i, entry := range entries {
		arch := entry.ContainerfileArch
		if arch == "" {
			arch = mcfgv1.NoArch
		}
		if arch != mcfgv1.NoArch {
			f.warn("%s (%s) is ignored: the MCO builds only the NoArch entry today", containerfilePath.Index(i), arch)
		}
		path := containerfilePath.Index(i).Child("content")
		if onlyCommentsOrWhitespace(entry.Content) {
			continue // below the MCO's stages, only comments: nothing to build, nothing to refuse
		}
		anyContent = true
		if hasBuilt && i == built {
			if r := mcoValidateContainerfile(entry.Content); r != nil {
				allParsed = false
				f.add(field.Invalid(path, field.OmitValueType{}, mcoRefusalDetail(r, i)))
				continue
			}
		}
		parsed, err := in.containerfile(entry.Content)
		anyFrom = anyFrom || parsed.hasFrom
		switch {
		case err != nil:
			allParsed = false
			f.warn("%s: %s", path, buildkitOnlyRefusal(err, hasBuilt && i == built))
		case hasBuilt && i == built:
			f.Warnings = append(f.Warnings, containerfileWarnings(path, parsed)...)
		}
	}
	if anyContent && allParsed && !anyFrom {
		f.warn("containerFile has no FROM, so it extends the MCO's own stage; start it with 'FROM configs AS final'")
	}
	return f
}

// parsedContainerfile is one containerFile entry as buildkit reads it.
type parsedContainerfile struct {
	hasFrom bool
	// stages are the entry's build stages; without a FROM, the first is the stand-in for the MCO's stage.
	stages []instructions.Stage
}

// parseContainerfile parses content with buildkit's parser, as part of the Containerfile the MCO renders: content
// without a FROM runs in the MCO's last stage, so a stand-in stage is put in front of it before parsing.
func parseContainerfile(content string) (parsedContainerfile, error) {
	var p parsedContainerfile
	result, err := parser.Parse(strings.NewReader(content))
	if err != nil {
		return p, err
	}
	p.hasFrom = slices.ContainsFunc(result.AST.Children, func(n *parser.Node) bool { return strings.EqualFold(n.Value, "from") })
	if !p.hasFrom {
		standIn, err := parser.Parse(strings.NewReader("FROM scratch AS " + mcoLastStage + "\n"))
		if err != nil {
			return p, err
		}
		result.AST.Children = append(standIn.AST.Children, result.AST.Children...)
	}
	p.stages, _, err = instructions.Parse(result.AST, linter.New(&linter.Config{}))
	return p, err
}

// mcoLastStage is the stage the MCO's rendered Containerfile ends with, which user content extends or names.
const mcoLastStage = mco.StageConfigs

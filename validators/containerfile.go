package validators

import (
	"context"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var containerfilePath = field.NewPath("spec", "containerFile")

// ValidateContainerfile is rule containerfile: each entry must parse as the build will see it. Only the NoArch
// entry is built today, and content without FROM continues the MCO's own last stage; both are worth a warning.
func ValidateContainerfile(_ context.Context, mosc *mcfgv1.MachineOSConfig, _ Lookups) Findings {
	var f Findings
	entries := mosc.Spec.Containerfile
	anyFrom, allParsed := false, true
	for i, entry := range entries {
		arch := entry.ContainerfileArch
		if arch == "" {
			arch = mcfgv1.NoArch
		}
		if arch != mcfgv1.NoArch {
			f.warn("%s (%s) is ignored: the MCO builds only the NoArch entry today", containerfilePath.Index(i), arch)
		}
		hasFrom, err := parseContainerfile(entry.Content)
		anyFrom = anyFrom || hasFrom
		if err != nil {
			allParsed = false
			f.add(field.Invalid(containerfilePath.Index(i).Child("content"), field.OmitValueType{}, err.Error()))
		}
	}
	if len(entries) > 0 && allParsed && !anyFrom {
		f.warn("containerFile has no FROM, so it extends the MCO's own stage; start it with 'FROM configs AS final'")
	}
	return f
}

// parseContainerfile parses content with buildkit's parser, as part of the Containerfile the MCO renders: content
// without a FROM runs in the MCO's last stage, so a stand-in stage is put in front of it before parsing.
func parseContainerfile(content string) (hasFrom bool, err error) {
	result, err := parser.Parse(strings.NewReader(content))
	if err != nil {
		return false, err
	}
	hasFrom = slices.ContainsFunc(result.AST.Children, func(n *parser.Node) bool { return strings.EqualFold(n.Value, "from") })
	if !hasFrom {
		standIn, err := parser.Parse(strings.NewReader("FROM scratch AS configs\n"))
		if err != nil {
			return false, err
		}
		result.AST.Children = append(standIn.AST.Children, result.AST.Children...)
	}
	_, _, err = instructions.Parse(result.AST, linter.New(&linter.Config{}))
	return hasFrom, err
}

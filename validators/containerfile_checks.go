package validators

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ocl-guard/ocl-guard/mco"
)

// mcoRefusalDetail is the denial for content the MCO refuses: where in the entry, the MCO's own words, the fix.
func mcoRefusalDetail(r *mcoRefusal, i int) string {
	where, numbered := "", ""
	if r.Line > 0 {
		where = fmt.Sprintf("line %d of containerFile[%d].content: ", r.Line, i)
	}
	if r.MCONumbersLine {
		numbered = " (the MCO's own message numbers the line in its rendered Containerfile, after its own stages)"
	}
	return fmt.Sprintf("%sthe MCO refuses it before any build starts: \"Containerfile validation failed: %s\"%s; %s",
		where, r.Cause, numbered, r.Fix)
}

// buildkitOnlyRefusal is the warning for content that buildkit's Dockerfile parser refuses while the MCO does not:
// the MCO's parser is imagebuilder's, and it lets through what it cannot read (handleParserError), so the build
// starts and buildah decides.
func buildkitOnlyRefusal(err error, built bool) string {
	if !built {
		return fmt.Sprintf("buildkit's Dockerfile parser refuses it (%v); the MCO ignores this entry today, so no build fails on it", err)
	}
	return fmt.Sprintf("buildkit's Dockerfile parser refuses it (%v); the MCO lets it through, but buildah may fail on it: "+
		"check it with 'podman build' and correct it", err)
}

// containerfileWarnings are what the parsed NoArch entry (at p) says about its build.
func containerfileWarnings(p *field.Path, parsed parsedContainerfile) []string {
	var out []string
	for _, c := range contextCopies(parsed.stages) {
		out = append(out, fmt.Sprintf("%s: line %d: %s %s copies from the build context, which holds only %s (the MCO's buildah-build.sh), "+
			"so the build fails there; write the file with a heredoc (COPY <<EOF /path), fetch it in a RUN, "+
			"COPY --from an image or stage that has it, or ship it in a MachineConfig",
			p, c.line, c.instruction, c.source, strings.Join(mco.BuildContext, ", ")))
	}
	if w := finalStageWarning(parsed); w != "" {
		out = append(out, fmt.Sprintf("%s: %s", p, w))
	}
	return out
}

// contextCopy is one COPY or ADD source read from the build context.
type contextCopy struct {
	instruction, source string
	line                int
}

// contextCopies lists the COPY and ADD sources that come from the build context (no --from, not a heredoc, not a
// URL) and match nothing in it: an OCL build's context holds only mco.BuildContext.
func contextCopies(stages []instructions.Stage) []contextCopy {
	var out []contextCopy
	for _, st := range stages {
		for _, cmd := range st.Commands {
			var sources []string
			var name string
			var line int
			switch c := cmd.(type) {
			case *instructions.CopyCommand:
				if c.From != "" {
					continue
				}
				sources, name, line = c.SourcePaths, "COPY", firstLine(c.Location())
			case *instructions.AddCommand:
				sources, name, line = c.SourcePaths, "ADD", firstLine(c.Location())
			default:
				continue
			}
			for _, src := range sources {
				if isRemoteSource(src) || strings.Contains(src, "$") || inBuildContext(src) {
					continue
				}
				out = append(out, contextCopy{instruction: name, source: src, line: line})
			}
		}
	}
	return out
}

// isRemoteSource: ADD fetches URLs and git repositories itself.
func isRemoteSource(src string) bool {
	for _, prefix := range []string{"http://", "https://", "git@", "git://"} {
		if strings.HasPrefix(src, prefix) {
			return true
		}
	}
	return false
}

// inBuildContext reports whether src, a context path as COPY reads it (relative to the context root whatever its
// leading "/" or "./", and possibly a glob), names something the context holds: a file, a directory above one, or
// the whole context.
func inBuildContext(src string) bool {
	clean := strings.TrimPrefix(path.Clean("/"+src), "/")
	if clean == "" {
		return true
	}
	for _, entry := range mco.BuildContext {
		for p := entry; p != "."; p = path.Dir(p) {
			if ok, err := path.Match(clean, p); err == nil && ok {
				return true
			}
		}
	}
	return false
}

// finalStageWarning says when the last stage does not build on the MCO's configs stage, directly or through
// earlier stages of this Containerfile: the image then lacks the MachineConfig content the configs stage applies.
// Content without a FROM continues configs, so it always does.
func finalStageWarning(parsed parsedContainerfile) string {
	if !parsed.hasFrom || len(parsed.stages) == 0 {
		return ""
	}
	i := len(parsed.stages) - 1
	last := parsed.stages[i]
	base := last.BaseName
	for {
		if strings.EqualFold(base, mco.StageConfigs) || strings.Contains(base, "$") {
			return "" // a build argument may name configs: not judged
		}
		j := slices.IndexFunc(parsed.stages[:i], func(s instructions.Stage) bool { return strings.EqualFold(s.Name, base) })
		if j < 0 {
			break
		}
		i, base = j, parsed.stages[j].BaseName
	}
	return fmt.Sprintf("the last stage (line %d: %s) does not build on the MCO's %s stage, directly or through stages of this "+
		"Containerfile: it starts from %s, so the built image lacks the pool's MachineConfig content, which the %s stage applies; "+
		"build the final stage FROM %s (copy from other stages with COPY --from)",
		firstLine(last.Location), strings.TrimSpace(last.SourceCode), mco.StageConfigs, describeBase(base, parsed.stages[:i]),
		mco.StageConfigs, mco.StageConfigs)
}

// describeBase names what a chain of stages starts from; stages are those defined before the FROM that names it.
func describeBase(base string, stages []instructions.Stage) string {
	lower := strings.ToLower(base)
	switch {
	case lower == mco.StageExtract:
		return fmt.Sprintf("the MCO's %s stage, the bare base OS image", mco.StageExtract)
	case lower == "scratch":
		return "scratch, an empty image"
	case isBareWord(base):
		return fmt.Sprintf("%q, which is %s", base, notAStageNorAnImage(base, stages))
	}
	return "the image " + base
}

// notAStageNorAnImage explains a bare word in FROM that names none of stages (those defined before it): the build
// pod resolves no short names, so it is no image either.
func notAStageNorAnImage(word string, stages []instructions.Stage) string {
	var names []string
	for _, st := range stages {
		if st.Name != "" {
			names = append(names, st.Name)
		}
	}
	ours := "none"
	if len(names) > 0 {
		ours = strings.Join(names, ", ")
	}
	return fmt.Sprintf("neither a stage of this Containerfile (%s) or of the MCO's (%s, %s) nor a fully qualified image",
		ours, mco.StageExtract, mco.StageConfigs)
}

// isBareWord is a FROM value that reads like a stage name: no registry, path, tag or digest.
func isBareWord(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/:@$")
}

// shortNameDetail is containerfile-images' error for a short image name; a bare word in FROM is more likely a stage
// name gone wrong than an image, and is said to be neither.
func shortNameDetail(img containerfileImage, stages []instructions.Stage) string {
	if img.where == "FROM" && isBareWord(img.ref) {
		return fmt.Sprintf("line %d: FROM %s: %q is %s: if you meant a stage, name one defined above it "+
			"(the final stage must build on %s); if an image, name its registry, e.g. %s",
			img.line, img.ref, img.ref, notAStageNorAnImage(img.ref, stagesBefore(stages, img.line)), mco.StageConfigs, normalizedSuggestion(img.ref))
	}
	return fmt.Sprintf("line %d: %s %q is a short name, which the build pod cannot resolve; name the registry, e.g. %s",
		img.line, img.where, img.ref, normalizedSuggestion(img.ref))
}

// stagesBefore are the stages whose FROM comes before line.
func stagesBefore(stages []instructions.Stage, line int) []instructions.Stage {
	var out []instructions.Stage
	for _, st := range stages {
		if firstLine(st.Location) < line {
			out = append(out, st)
		}
	}
	return out
}

package validators

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/registry"
)

// maxContainerfileImages bounds the pull probes one admission makes for the Containerfile's images.
const maxContainerfileImages = 4

// containerfileImage is one image the user's Containerfile pulls, and where.
type containerfileImage struct {
	ref   string
	where string // "FROM", "COPY --from", "RUN --mount from"
	line  int
}

// ValidateContainerfileImages is rule containerfile-images: every image the NoArch entry pulls besides the MCO's
// stages (the FROM of extra stages, COPY --from=<image>, RUN --mount=from=<image>) must be fully qualified (the
// build pod resolves no short names) and pullable with the base image pull secret, which the build uses for every
// pull.
func ValidateContainerfileImages(ctx context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	i, content, ok := noArchEntry(mosc)
	if !ok {
		return f
	}
	parsed, err := in.containerfile(content)
	if err != nil {
		return f // rule containerfile reports it
	}
	path := containerfilePath.Index(i).Child("content")
	var probe []containerfileImage
	for _, img := range pulledImages(parsed.stages) {
		switch _, err := reference.ParseNamed(img.ref); {
		case strings.Contains(img.ref, "$"):
			f.warn("%s line %d: %s %s uses a build argument, so it is not checked", path, img.line, img.where, img.ref)
		case errors.Is(err, reference.ErrNameNotCanonical):
			f.add(field.Invalid(path, img.ref, shortNameDetail(img, parsed.stages)))
		case err != nil:
			f.add(field.Invalid(path, img.ref, fmt.Sprintf("line %d: %s %q is not a valid image reference: %v", img.line, img.where, img.ref, err)))
		case len(probe) < maxContainerfileImages:
			probe = append(probe, img)
		default:
			f.warn("%s line %d: %s %s not checked: at most %d images are probed", path, img.line, img.where, img.ref, maxContainerfileImages)
		}
	}
	if len(probe) == 0 {
		return f
	}
	secret, use := basePullSecret(ctx, mosc, in)
	for _, img := range probe {
		reportPull(&f, path, img.ref, fmt.Sprintf("line %d: %s %s", img.line, img.where, img.ref), use,
			in.ProbePull(ctx, img.ref, secret))
	}
	return f
}

// noArchEntry returns the containerFile entry the MCO builds: the first NoArch one.
func noArchEntry(mosc *mcfgv1.MachineOSConfig) (int, string, bool) {
	for i, e := range mosc.Spec.Containerfile {
		if e.ContainerfileArch == mcfgv1.NoArch || e.ContainerfileArch == "" {
			return i, e.Content, true
		}
	}
	return 0, "", false
}

// pulledImages lists, in order and once each, the images the stages pull: a FROM or --from naming neither an
// earlier stage, nor a stage index, nor scratch, nor one of the MCO's stages, is an image.
func pulledImages(stages []instructions.Stage) []containerfileImage {
	stageNames := []string{mco.StageConfigs, mco.StageExtract}
	var out []containerfileImage
	add := func(ref, where string, line int) {
		lower := strings.ToLower(ref)
		if ref == "" || lower == "scratch" || slices.Contains(stageNames, lower) || isIndex(ref) ||
			slices.ContainsFunc(out, func(c containerfileImage) bool { return c.ref == ref }) {
			return
		}
		out = append(out, containerfileImage{ref: ref, where: where, line: line})
	}
	for _, st := range stages {
		add(st.BaseName, "FROM", firstLine(st.Location))
		for _, cmd := range st.Commands {
			switch c := cmd.(type) {
			case *instructions.CopyCommand:
				add(c.From, "COPY --from", firstLine(c.Location()))
			case *instructions.RunCommand:
				for _, m := range instructions.GetMounts(c) {
					add(m.From, "RUN --mount from", firstLine(c.Location()))
				}
			}
		}
		if st.Name != "" {
			stageNames = append(stageNames, strings.ToLower(st.Name))
		}
	}
	return out
}

func isIndex(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// normalizedSuggestion shows what Docker's rules would make of a short name, as an example of a full one.
func normalizedSuggestion(short string) string {
	if named, err := reference.ParseNormalizedNamed(short); err == nil {
		return named.String()
	}
	return "registry.example.com/" + short
}

// basePullSecret returns the Secret the build pulls its images with, as the MCO hands it to the build, and how to
// name it in messages. It is nil when none can be read (the secret rules report why): the probe is then anonymous.
func basePullSecret(ctx context.Context, mosc *mcfgv1.MachineOSConfig, in *Input) (*corev1.Secret, secretUse) {
	for _, use := range secretUses(mosc) {
		if use.path != pullSecretPath {
			continue
		}
		secret, err := in.Facts.Secret(use.name)
		if err != nil && use.fallback {
			// Before the first pool is layered the MCO has not made its copy yet; it will copy this one.
			secret, err = in.Facts.ClusterPullSecret.Get()
			use.name = "openshift-config/pull-secret"
		}
		if err != nil {
			return nil, use
		}
		canonical, ok := in.canonicalSecret(secret)
		if !ok {
			return nil, use
		}
		return canonical, use
	}
	return nil, secretUse{path: pullSecretPath}
}

// reportPull turns a pull probe into findings on path: refused or missing images are errors naming the fix, an
// unknown answer is a warning, and a probe that did not run is said to be skipped.
func reportPull(f *Findings, path *field.Path, image, what string, use secretUse, r registry.Result) {
	switch {
	case r.Reachable == registry.StatusSkipped:
		f.skip("%s not probed", what)
	case r.Reachable == registry.StatusFailed:
		f.add(field.Invalid(path, image, fmt.Sprintf("%s: %s; builds pull from there", what, r.ReachableDetail)))
	case r.Reachable == registry.StatusUnknown:
		f.warn("%s not checked: %s", what, r.ReachableDetail)
	case r.Pull == registry.StatusFailed && r.NotFound:
		f.add(field.Invalid(path, image, fmt.Sprintf("%s: %s; push it or correct the reference", what, r.PullDetail)))
	case r.Pull == registry.StatusFailed:
		f.add(field.Invalid(path, image, fmt.Sprintf("%s: %s; add credentials that may pull it to the %s %s",
			what, r.PullDetail, use.role, use.name)))
	case r.Pull == registry.StatusUnknown:
		f.warn("%s not checked: %s", what, r.PullDetail)
	}
}

func firstLine(r []parser.Range) int {
	if len(r) == 0 {
		return 0
	}
	return r[0].Start.Line
}

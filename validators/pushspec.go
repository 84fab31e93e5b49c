package validators

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	pushSpecPath = field.NewPath("spec", "renderedImagePushSpec")

	anchoredTag           = regexp.MustCompile(`^` + reference.TagRegexp.String() + `$`)
	anchoredDomain        = regexp.MustCompile(`^` + reference.DomainRegexp.String() + `$`)
	anchoredPathComponent = regexp.MustCompile(`^` + reference.NameRegexp.String() + `$`)
)

// ValidatePushSpecSyntax is rule pushspec-syntax. The CRD's CEL pattern admits push specs that the MCO's own
// parser (the distribution reference grammar) refuses later, when the build is created: uppercase repository
// paths, tags longer than 128 characters or starting with '.' or '-', repository names over 255 characters, and
// malformed .svc paths.
func ValidatePushSpecSyntax(_ context.Context, in *Input) Findings {
	mosc := in.Config
	var f Findings
	spec := string(mosc.Spec.RenderedImagePushSpec)
	if spec == "" {
		return f // required by the CRD
	}
	ref, err := reference.ParseNamed(spec)
	if err != nil {
		f.add(field.Invalid(pushSpecPath, spec, explainReferenceError(spec, err)))
		return f
	}
	if _, port, hasPort := strings.Cut(reference.Domain(ref), ":"); hasPort && !validPort(port) {
		// The reference grammar takes any digits as a port; the build's push would fail to dial.
		f.add(field.Invalid(pushSpecPath, spec, fmt.Sprintf("registry port %s is out of range: use a port from 1 to 65535", port)))
		return f
	}
	if _, digested := ref.(reference.Digested); digested {
		f.add(field.Invalid(pushSpecPath, spec, "must end in a tag, not a digest: the MCO pushes by tag and records the digest in status"))
		return f
	}
	tagged, ok := ref.(reference.Tagged)
	if !ok {
		f.add(field.Invalid(pushSpecPath, spec, "needs a tag: use "+ref.Name()+":latest"))
		return f
	}
	f.warn("tag %q is not used: each build pushes %s:<MachineOSBuild name>", tagged.Tag(), ref.Name())
	return f
}

func validPort(port string) bool {
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}

// explainReferenceError turns the reference parser's terse error into one that names the bad part and the fix.
func explainReferenceError(spec string, err error) string {
	name, tag := splitTag(spec)
	domain, path, _ := strings.Cut(name, "/")
	switch {
	// ParseNamed reports uppercase with its own formatted error rather than ErrNameContainsUppercase.
	case strings.ToLower(path) != path:
		return fmt.Sprintf("repository path %q must be lowercase, or the MCO's reference parser refuses it; use %s",
			path, domain+"/"+strings.ToLower(path)+tagSuffix(tag))
	case errors.Is(err, reference.ErrNameTooLong):
		return fmt.Sprintf("repository path is %d characters; at most %d are allowed", len(path), reference.RepositoryNameTotalLengthMax)
	case errors.Is(err, reference.ErrNameNotCanonical):
		return "must name the registry host explicitly, as host[:port]/path/name:tag"
	}
	if tag != "" && !anchoredTag.MatchString(tag) {
		return fmt.Sprintf("tag %q is invalid: use at most 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'", tag)
	}
	if !anchoredDomain.MatchString(domain) {
		return fmt.Sprintf("registry host %q is invalid: use host[:port] with DNS labels that do not start or end with '-'", domain)
	}
	for _, component := range strings.Split(path, "/") {
		if !anchoredPathComponent.MatchString(component) {
			return fmt.Sprintf("path component %q is invalid: use lowercase letters and digits, separated by '.', '_', '__' or '-'", component)
		}
	}
	return fmt.Sprintf("is not a valid image reference (%v); use host[:port]/path/name:tag", err)
}

// splitTag splits "host:port/path:tag" at the tag's colon, which is the last colon after the last slash.
func splitTag(spec string) (name, tag string) {
	slash := strings.LastIndex(spec, "/")
	if colon := strings.LastIndex(spec, ":"); colon > slash {
		return spec[:colon], spec[colon+1:]
	}
	return spec, ""
}

func tagSuffix(tag string) string {
	if tag == "" {
		return ""
	}
	return ":" + tag
}

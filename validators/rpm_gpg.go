package validators

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ocl-guard/ocl-guard/mco"
)

// A repository that the Containerfile defines with gpgkey=file:///etc/pki/rpm-gpg/<key> makes dnf read that key
// from the build's /etc/pki/rpm-gpg, which holds the RHCOS image's own keys (Red Hat's) plus, when Secret
// etc-pki-rpm-gpg exists in the MCO's namespace, the keys the MCO mounts from it (buildah-build.sh,
// ETC_PKI_RPM_GPG_MOUNTPOINT). Without either, or a key the Containerfile imports itself, the install fails on the
// missing key file.

var (
	// repoToken finds, in order, the section headers and the settings of .repo content written in a RUN (echo,
	// printf, cat <<EOF, tee) or a COPY heredoc: lines may be real newlines or "\n" escapes in a shell string.
	repoToken = regexp.MustCompile(`\[([A-Za-z0-9_.:-]+)\]|(?i)(?:\\[nrt]|\b)(baseurl|metalink|mirrorlist|gpgkey|gpgcheck)[ \t]*=[ \t]*([^\s"'\\,]+)`)
	// keyImport is a key imported or written by the Containerfile: rpm --import, or a release package that ships
	// its repository's key (epel-release, rpmfusion-free-release).
	keyImport = regexp.MustCompile(`\brpm(keys)?\b[^;&|\n]*--import\b|\b(dnf|yum|microdnf|rpm-ostree)\b[^;&|\n]*\binstall\b[^;&|\n]*-release\b`)
	// noGPGCheck turns signature checks off for one install.
	noGPGCheck = regexp.MustCompile(`--nogpgcheck\b|--setopt=\S*gpgcheck=(0|false|no|off)\b`)
)

// repoDefinition is one repository the Containerfile defines.
type repoDefinition struct {
	id, gpgkey string
	line       int
	hasURL     bool
	checkOff   bool
}

// needsMountedKey: signatures checked against a key file under /etc/pki/rpm-gpg that the RHCOS image does not ship
// (Red Hat's keys are there: RPM-GPG-KEY-redhat-*).
func (r repoDefinition) needsMountedKey() bool {
	keyPath, ok := strings.CutPrefix(r.gpgkey, "file://")
	return r.hasURL && !r.checkOff && ok && strings.HasPrefix(keyPath, mco.RPMGPGMountPath+"/") &&
		!strings.HasPrefix(path.Base(keyPath), "RPM-GPG-KEY-redhat")
}

// rpmGPGKeyWarning says when a package install uses a repository the Containerfile defines with a key file under
// /etc/pki/rpm-gpg that nothing provides: Secret etc-pki-rpm-gpg does not exist (secretExists false), and the
// Containerfile neither imports a key (rpm --import, a release package), nor writes one there, nor turns the check
// off. "" when there is nothing to say. Repositories it cannot read (a .repo fetched or copied from elsewhere, or
// ConfigMap etc-yum-repos-d) are not judged.
func rpmGPGKeyWarning(secretExists bool, p *field.Path, parsed parsedContainerfile) string {
	if secretExists {
		return ""
	}
	var needing []repoDefinition
	var install int
	var repo repoDefinition
	for _, st := range parsed.stages {
		for _, cmd := range st.Commands {
			text, dests := commandText(cmd)
			line := firstLine(cmd.Location())
			if keyImport.MatchString(text) || writesKey(text) || dests {
				return "" // the Containerfile provides a key
			}
			for _, r := range repoDefinitions(text, line) {
				if r.needsMountedKey() {
					needing = append(needing, r)
				}
			}
			if _, isRun := cmd.(*instructions.RunCommand); isRun && install == 0 && len(needing) > 0 &&
				packageInstall.MatchString(text) && !noGPGCheck.MatchString(text) {
				install, repo = line, needing[0]
			}
		}
	}
	if install == 0 {
		return ""
	}
	return fmt.Sprintf("%s: line %d installs packages after repository %q (line %d) names gpgkey=%s, but nothing puts that key "+
		"there: Secret %s/%s does not exist (the MCO mounts it at %s only when it does) and the Containerfile imports no key; "+
		"create the Secret with the key file, import the key in the Containerfile (rpm --import https://...), or point gpgkey= at an https URL",
		p, install, repo.id, repo.line, repo.gpgkey, mco.Namespace, mco.RPMGPGSecretName, mco.RPMGPGMountPath)
}

// commandText is the shell text and heredoc files of a RUN, or the heredoc contents of a COPY or ADD; keyDest is
// true for a COPY or ADD into /etc/pki/rpm-gpg.
func commandText(cmd instructions.Command) (text string, keyDest bool) {
	switch c := cmd.(type) {
	case *instructions.RunCommand:
		parts := append([]string{}, c.CmdLine...)
		for _, f := range c.Files {
			parts = append(parts, f.Data)
		}
		return strings.Join(parts, "\n"), false
	case *instructions.CopyCommand:
		return sourceContents(c.SourceContents), underKeyDir(c.DestPath)
	case *instructions.AddCommand:
		return sourceContents(c.SourceContents), underKeyDir(c.DestPath)
	}
	return "", false
}

func sourceContents(contents []instructions.SourceContent) string {
	var parts []string
	for _, sc := range contents {
		parts = append(parts, sc.Data)
	}
	return strings.Join(parts, "\n")
}

func underKeyDir(dest string) bool {
	clean := path.Clean("/" + dest)
	return clean == mco.RPMGPGMountPath || strings.HasPrefix(clean, mco.RPMGPGMountPath+"/")
}

// writesKey: a RUN that names the key directory other than in a gpgkey=file:// setting writes a key there (curl -o,
// cp, tee ...).
func writesKey(text string) bool {
	return strings.Count(text, mco.RPMGPGMountPath+"/") > strings.Count(text, "file://"+mco.RPMGPGMountPath+"/")
}

// repoDefinitions reads the repositories defined in text, in order; line is the command's.
func repoDefinitions(text string, line int) []repoDefinition {
	var out []repoDefinition
	current := -1
	for _, m := range repoToken.FindAllStringSubmatch(text, -1) {
		if m[1] != "" {
			out = append(out, repoDefinition{id: m[1], line: line})
			current = len(out) - 1
			continue
		}
		if current < 0 {
			out = append(out, repoDefinition{id: "(unnamed)", line: line})
			current = 0
		}
		r := &out[current]
		switch key, value := strings.ToLower(m[2]), m[3]; key {
		case "gpgkey":
			r.gpgkey = value
		case "gpgcheck":
			switch strings.ToLower(value) {
			case "0", "false", "no", "off":
				r.checkOff = true
			}
		default:
			r.hasURL = true
		}
	}
	return out
}

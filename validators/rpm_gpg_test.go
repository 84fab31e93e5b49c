package validators

import (
	"context"
	"strings"
	"testing"
)

// rpmGPGKeyWarning is part of rule entitlement, fed the cluster fact EntitlementSources.RPMGPGKeys: whether Secret
// etc-pki-rpm-gpg exists in the MCO's namespace. The MCO mounts that Secret at /etc/pki/rpm-gpg only when it exists
// (pkg/controller/build/buildrequest/buildrequestopts.go HasEtcPkiRpmGpgKeys, envvolumemount.go
// optsForEtcRpmGpgKeys, assets/buildah-build.sh ETC_PKI_RPM_GPG_MOUNTPOINT).
func TestRPMGPGKeyWarning(t *testing.T) {
	const epelHeredoc = "FROM configs AS final\nCOPY <<EOF /etc/yum.repos.d/epel.repo\n[epel]\nname=EPEL 9\n" +
		"metalink=https://mirrors.fedoraproject.org/metalink?repo=epel-9&arch=$basearch\ngpgcheck=1\n" +
		"gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9\nEOF\nRUN dnf install -y htop && dnf clean all\n"
	const echoed = "FROM configs AS final\n" +
		`RUN echo -e "[acme]\nbaseurl=https://rpm.acme.example/el9\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-acme" > /etc/yum.repos.d/acme.repo` +
		"\nRUN rpm-ostree install acme-agent && ostree container commit\n"
	for _, tc := range []struct {
		name, content string
		secret        bool
		want          string
	}{
		{"a heredoc .repo naming a key nothing provides", epelHeredoc, false,
			`spec.containerFile[0].content: line 9 installs packages after repository "epel" (line 2) names ` +
				"gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9, but nothing puts that key there: Secret " +
				"openshift-machine-config-operator/etc-pki-rpm-gpg does not exist (the MCO mounts it at /etc/pki/rpm-gpg only when it does) " +
				"and the Containerfile imports no key; create the Secret with the key file, import the key in the Containerfile " +
				"(rpm --import https://...), or point gpgkey= at an https URL"},
		{"the Secret exists", epelHeredoc, true, ""},
		{"an echoed .repo", echoed, false, `line 3 installs packages after repository "acme" (line 2) names gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-acme`},
		{"the same RUN defines and installs", "FROM configs AS final\n" +
			`RUN printf '[acme]\nbaseurl=https://rpm.acme.example/el9\ngpgkey=file:///etc/pki/rpm-gpg/KEY-acme\n' > /etc/yum.repos.d/acme.repo && dnf install -y acme` + "\n",
			false, `line 2 installs packages after repository "acme" (line 2)`},
		{"content without FROM", strings.TrimPrefix(epelHeredoc, "FROM configs AS final\n"), false, `line 8 installs packages after repository "epel" (line 1)`},
		{"rpm --import", strings.Replace(epelHeredoc, "RUN dnf", "RUN rpm --import https://dl.fedoraproject.org/pub/epel/RPM-GPG-KEY-EPEL-9 && dnf", 1), false, ""},
		{"rpmkeys --import", strings.Replace(epelHeredoc, "RUN dnf", "RUN rpmkeys --import /tmp/key && dnf", 1), false, ""},
		{"the key written into the directory", strings.Replace(epelHeredoc, "RUN dnf", "RUN curl -fsSLo /etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9 https://example.com/k && dnf", 1), false, ""},
		{"the key copied into the directory", strings.Replace(epelHeredoc, "RUN dnf", "COPY --from=quay.io/acme/keys:1 /keys/ /etc/pki/rpm-gpg/\nRUN dnf", 1), false, ""},
		{"a release package ships the key", strings.Replace(epelHeredoc, "RUN dnf install -y htop", "RUN dnf install -y epel-release htop", 1), false, ""},
		{"an https key", strings.Replace(epelHeredoc, "file:///etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9", "https://dl.fedoraproject.org/pub/epel/RPM-GPG-KEY-EPEL-9", 1), false, ""},
		{"gpgcheck off", strings.Replace(epelHeredoc, "gpgcheck=1", "gpgcheck=0", 1), false, ""},
		{"--nogpgcheck", strings.Replace(epelHeredoc, "dnf install -y", "dnf install --nogpgcheck -y", 1), false, ""},
		{"--setopt", strings.Replace(epelHeredoc, "dnf install -y", "dnf install --setopt=epel.gpgcheck=0 -y", 1), false, ""},
		{"Red Hat's key is in the image", strings.Replace(epelHeredoc, "RPM-GPG-KEY-EPEL-9", "RPM-GPG-KEY-redhat-release", 1), false, ""},
		{"a key elsewhere is not about the Secret", strings.Replace(epelHeredoc, "file:///etc/pki/rpm-gpg/", "file:///usr/share/keys/", 1), false, ""},
		{"installed before the repository exists", "FROM configs AS final\nRUN dnf install -y tmux\n" + strings.TrimPrefix(strings.Replace(epelHeredoc, "RUN dnf install -y htop && dnf clean all\n", "", 1), "FROM configs AS final\n"), false, ""},
		{"a repository fetched from elsewhere is not read", "FROM configs AS final\nRUN curl -o /etc/yum.repos.d/x.repo https://x.example/x.repo && dnf install -y x\n", false, ""},
		{"no package install", strings.Replace(epelHeredoc, "RUN dnf install -y htop && dnf clean all", "RUN true", 1), false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parsed, err := parseContainerfile(tc.content)
			if err != nil {
				t.Fatal(err)
			}
			got := rpmGPGKeyWarning(tc.secret, containerfilePath.Index(0).Child("content"), parsed)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// Through the rule: the fact decides, and an entitlement does not silence a key nothing provides.
func TestEntitlementRuleWarnsAboutMissingRepositoryKeys(t *testing.T) {
	content := "FROM configs AS final\nCOPY <<EOF /etc/yum.repos.d/epel.repo\n[epel]\nname=EPEL 9\n" +
		"baseurl=https://dl.example.org/epel/9/\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9\nEOF\n" +
		"RUN dnf install -y htop && dnf clean all\n"
	cluster := newClusterFixture()
	checkFindings(t, validate(context.Background(), ValidateEntitlement, withContent(content), cluster),
		want{warnings: []string{"Secret openshift-machine-config-operator/etc-pki-rpm-gpg does not exist"}})
	cluster.rpmGPGKeys = true
	checkFindings(t, validate(context.Background(), ValidateEntitlement, withContent(content), cluster), want{})
}

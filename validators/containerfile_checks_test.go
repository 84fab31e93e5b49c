package validators

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// An OCL build's context holds only the rendered Containerfile, machineconfig/machineconfig.json.gz and
// openshift-config-user-ca-bundle.crt (machine-config-operator pkg/controller/build/buildrequest/assets/
// buildah-build.sh), so a COPY or ADD of anything else from the context fails the build.
func TestContextCopies(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []string // "INSTRUCTION source@line"
	}{
		{"a directory of the user's repository", "FROM configs AS final\nCOPY etc /etc\n", []string{"COPY etc@2"}},
		{"several sources", "FROM configs AS final\nCOPY a.conf b.conf /etc/\n", []string{"COPY a.conf@2", "COPY b.conf@2"}},
		{"a glob matching nothing", "FROM configs AS final\nCOPY *.repo /etc/yum.repos.d/\n", []string{"COPY *.repo@2"}},
		{"a local archive", "FROM configs AS final\nADD files.tar.gz /opt/\n", []string{"ADD files.tar.gz@2"}},
		{"climbing out stays in the context", "FROM configs AS final\nCOPY ../etc /etc\n", []string{"COPY ../etc@2"}},
		{"content without FROM", "RUN true\nCOPY etc /etc\n", []string{"COPY etc@2"}},
		{"the MachineConfig the context holds", "FROM configs AS final\nCOPY ./machineconfig/machineconfig.json.gz /tmp/\n", nil},
		{"its directory", "FROM configs AS final\nCOPY machineconfig /tmp/mc\n", nil},
		{"the CA bundle, from the root", "FROM configs AS final\nCOPY /openshift-config-user-ca-bundle.crt /etc/pki/ca-trust/source/anchors/\n", nil},
		{"a glob the CA bundle matches", "FROM configs AS final\nCOPY *.crt /etc/pki/ca-trust/source/anchors/\n", nil},
		{"the whole context", "FROM configs AS final\nCOPY . /tmp/context\n", nil},
		{"from a stage", "FROM quay.io/fedora/fedora:41 AS build\nRUN make\nFROM configs AS final\nCOPY --from=build /out /usr/bin/\n", nil},
		{"from an image", "FROM configs AS final\nCOPY --from=quay.io/acme/bits:1 /a /a\n", nil},
		{"a heredoc", "FROM configs AS final\nCOPY <<EOF /etc/motd\nhello\nEOF\n", nil},
		{"ADD of a URL", "FROM configs AS final\nADD https://example.com/x.tar.gz /opt/\n", nil},
		{"a build argument", "FROM configs AS final\nARG SRC\nCOPY $SRC /x\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parsed, err := parseContainerfile(tc.content)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range contextCopies(parsed.stages) {
				got = append(got, fmt.Sprintf("%s %s@%d", c.instruction, c.source, c.line))
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// The last stage must build on the MCO's configs stage (directly, or through stages of the same Containerfile), or
// the image lacks the MachineConfig content configs applies (Containerfile.on-cluster-build-template: extract, then
// configs).
func TestFinalStageWarning(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"on configs", "FROM configs AS final\nRUN true\n", ""},
		{"on configs in another case", "FROM Configs AS final\n", ""},
		{"no FROM continues configs", "RUN true\n", ""},
		{"through stages", "FROM configs AS a\nRUN true\nFROM a AS b\nFROM b\nRUN true\n", ""},
		{"a builder stage first", "FROM quay.io/fedora/fedora:41 AS build\nRUN make\nFROM configs AS final\nCOPY --from=build /out /usr/bin/\n", ""},
		{"a build argument", "ARG BASE=configs\nFROM ${BASE}\n", ""},
		// The public example: the author meant a stage.
		{"a stage name that is not one", "FROM configs AS machineconfig\nFROM base AS final\nRUN true\n",
			`the last stage (line 2: FROM base AS final) does not build on the MCO's configs stage, directly or through stages of this Containerfile: ` +
				`it starts from "base", which is neither a stage of this Containerfile (machineconfig) or of the MCO's (extract, configs) nor a fully qualified image, ` +
				`so the built image lacks the pool's MachineConfig content, which the configs stage applies; build the final stage FROM configs (copy from other stages with COPY --from)`},
		{"an image", "FROM configs AS final\nRUN true\nFROM quay.io/fedora/fedora:41\n", "it starts from the image quay.io/fedora/fedora:41,"},
		{"an image through a stage", "FROM quay.io/fedora/fedora:41 AS os\nFROM os AS final\n", "(line 2: FROM os AS final) does not build on the MCO's configs stage, directly or through stages of this Containerfile: it starts from the image quay.io/fedora/fedora:41,"},
		{"the extract stage", "FROM extract AS final\n", "it starts from the MCO's extract stage, the bare base OS image,"},
		{"scratch", "FROM scratch\n", "it starts from scratch, an empty image,"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parsed, err := parseContainerfile(tc.content)
			if err != nil {
				t.Fatal(err)
			}
			got := finalStageWarning(parsed)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Rule containerfile says both as warnings, never as a denial; rule containerfile-images says what "base" is not.
func TestContainerfileWarningsThroughTheRules(t *testing.T) {
	const content = "FROM configs AS machineconfig\nFROM base AS final\nCOPY etc /etc\n"
	f := validate(context.Background(), ValidateContainerfile, withContent(content), nil)
	checkFindings(t, f, want{warnings: []string{
		contentPath + ": line 3: COPY etc copies from the build context, which holds only Containerfile, machineconfig/machineconfig.json.gz, " +
			"openshift-config-user-ca-bundle.crt (the MCO's buildah-build.sh), so the build fails there",
		contentPath + `: the last stage (line 2: FROM base AS final) does not build on the MCO's configs stage`,
	}})

	cluster := newClusterFixture()
	checkFindings(t, validate(context.Background(), ValidateContainerfileImages, withContent(content), cluster), want{errs: []string{
		contentPath + "|" + invalid + `|line 2: FROM base: "base" is neither a stage of this Containerfile (machineconfig) or of the MCO's (extract, configs) ` +
			`nor a fully qualified image: if you meant a stage, name one defined above it (the final stage must build on configs); ` +
			`if an image, name its registry, e.g. docker.io/library/base`}})
}

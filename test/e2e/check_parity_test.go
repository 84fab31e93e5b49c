package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// parityBase is a MachineOSConfig the CRD admits; each case breaks it in one way the API server refuses.
const parityBase = `apiVersion: machineconfiguration.openshift.io/v1
kind: MachineOSConfig
metadata:
  name: parity
spec:
  machineConfigPool:
    name: parity
  imageBuilder:
    imageBuilderType: Job
  renderedImagePushSecret:
    name: push
  renderedImagePushSpec: quay.io/acme/os:latest
  containerFile:
  - content: FROM configs AS final
`

var _ = Describe("ocl-guard check refuses what the API server refuses", Ordered, func() {
	cases := []struct {
		name string
		edit func(string) string
	}{
		{"an enum value", replace("imageBuilderType: Job", "imageBuilderType: Pod")},
		{"a required field", replace("  renderedImagePushSecret:\n    name: push\n", "")},
		{"a wrong type", replace("content: FROM configs AS final", "content: 42")},
		{"maxLength", replace("content: FROM configs AS final", "content: "+strings.Repeat("x", 4097))},
		{"maxItems", replace("  - content: FROM configs AS final\n", fiveArchitectures())},
		{"a duplicate list-map key", replace("  - content: FROM configs AS final\n", "  - content: FROM a\n  - content: FROM b\n")},
		{"a CEL rule on a field (tagless push spec)", replace("quay.io/acme/os:latest", "quay.io/acme/os")},
		{"a CEL format rule (secret name)", replace("name: push", "name: Push_Secret")},
		{"a CEL rule on the object (name differs from the pool)", replace("  name: parity\nspec", "  name: parity-other\nspec")},
		{"the object name", replace("  name: parity\nspec", "  name: -parity\nspec")},
		{"an unknown field (strict field validation, as oc apply)", replace("  imageBuilder:", "  pushSecret: push\n  imageBuilder:")},
		{"an unknown field in a nested object", replace("    name: push\n", "    name: push\n    namespace: openshift-config\n")},
	}

	var binary, dir string
	BeforeAll(func() {
		dir = GinkgoT().TempDir()
		binary, _ = oclGuardBinary("ocl-guard")
	})

	It("rejects each case at the same field paths as the real API server", func() {
		manifests := filepath.Join(dir, "manifests")
		Expect(os.Mkdir(manifests, 0o755)).To(Succeed())
		serverFields := map[string][]string{}
		for i, tc := range cases {
			manifest := tc.edit(parityBase)
			file := filepath.Join(manifests, fmt.Sprintf("case-%02d.yaml", i))
			Expect(os.WriteFile(file, []byte(manifest), 0o600)).To(Succeed())
			serverFields[file] = apiServerRejection(tc.name, manifest)
			GinkgoWriter.Printf("%s: %q\n", tc.name, serverFields[file])
		}

		cmd := exec.Command(binary, "check", "-f", manifests, "-o", "json")
		out, err := cmd.Output()
		var exitErr *exec.ExitError
		Expect(errors.As(err, &exitErr)).To(BeTrue(), "check must exit 1: %v\n%s", err, out)
		Expect(exitErr.ExitCode()).To(Equal(1), "%s\n%s", out, exitErr.Stderr)
		var results []struct {
			File    string `json:"file"`
			Allowed bool   `json:"allowed"`
			Denials []struct {
				Rule, Field string
			} `json:"denials"`
		}
		Expect(json.Unmarshal(out, &results)).To(Succeed(), "%s", out)
		Expect(results).To(HaveLen(len(cases)))
		for _, r := range results {
			var fields []string
			for _, d := range r.Denials {
				Expect(d.Rule).To(Equal("crd-schema"), "%s: a rule ran on an object the API server refuses", r.File)
				fields = append(fields, d.Field)
			}
			slices.Sort(fields)
			Expect(r.Allowed).To(BeFalse(), r.File)
			Expect(fields).To(Equal(serverFields[r.File]), "%s: check and the API server disagree on the fields", r.File)
		}
	})
})

// apiServerRejection creates the manifest as `oc apply` does (strict field validation) and returns the field paths
// of the refusal, sorted; "" stands for the object itself.
func apiServerRejection(name, manifest string) []string {
	u := &unstructured.Unstructured{}
	Expect(yaml.Unmarshal([]byte(manifest), &u.Object)).To(Succeed(), name)
	err := kube.Create(ctx, u, client.FieldValidation("Strict"))
	if err == nil {
		deleteQuietly(u)
	}
	Expect(err).To(HaveOccurred(), "%s: the API server admitted it, so it does not belong in this table", name)
	var fields []string
	if status, ok := err.(apierrors.APIStatus); ok && status.Status().Details != nil {
		for _, cause := range status.Status().Details.Causes {
			fields = append(fields, strings.TrimPrefix(strings.ReplaceAll(cause.Field, "<nil>", ""), "."))
		}
	}
	// Strict decoding errors carry no causes; their message names the fields.
	for _, m := range unknownFieldRE.FindAllStringSubmatch(err.Error(), -1) {
		fields = append(fields, m[1])
	}
	Expect(fields).NotTo(BeEmpty(), "%s: no field in %v", name, err)
	slices.Sort(fields)
	return fields
}

var unknownFieldRE = regexp.MustCompile(`unknown field "([^"]+)"`)

func replace(old, new string) func(string) string {
	return func(s string) string {
		Expect(s).To(ContainSubstring(old))
		return strings.Replace(s, old, new, 1)
	}
}

func fiveArchitectures() string {
	var b strings.Builder
	for _, arch := range []string{"NoArch", "ARM64", "AMD64", "PPC64LE", "S390X"} {
		fmt.Fprintf(&b, "  - containerfileArch: %s\n    content: FROM configs AS final\n", arch)
	}
	return b.String()
}

package crdschema

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// The embedded CRD is the one the envtest suites install (test/testbed.OpenShiftCRDs): the module's file.
func TestEmbeddedCRDIsTheModules(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/openshift/api").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/openshift/api: %v", err)
	}
	file := filepath.Join(strings.TrimSpace(string(out)), "machineconfiguration", "v1", "zz_generated.crd-manifests",
		"0000_80_machine-config_01_machineosconfigs.crd.yaml")
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(machineOSConfigCRD, want) {
		t.Fatalf("the embedded CRD differs from %s: run go generate ./crdschema", file)
	}
}

const valid = `apiVersion: machineconfiguration.openshift.io/v1
kind: MachineOSConfig
metadata: {name: worker}
spec:
  machineConfigPool: {name: worker}
  imageBuilder: {imageBuilderType: Job}
  renderedImagePushSecret: {name: push}
  renderedImagePushSpec: quay.io/acme/os:latest
  containerFile:
  - content: FROM configs AS final
`

func validate(t *testing.T, manifest string) Result {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(manifest), &obj); err != nil {
		t.Fatal(err)
	}
	s, err := MachineOSConfig()
	if err != nil {
		t.Fatal(err)
	}
	before := string(mustJSON(t, obj))
	r := s.ValidateCreate(context.Background(), obj)
	if string(mustJSON(t, obj)) != before {
		t.Error("ValidateCreate modified its input")
	}
	return r
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestValidateCreate(t *testing.T) {
	for _, tc := range []struct {
		name        string
		edit        func(string) string
		wantFields  []string
		wantType    field.ErrorType
		wantUnknown []string
	}{
		{name: "valid", edit: func(s string) string { return s }},
		{name: "enum", edit: repl("imageBuilderType: Job", "imageBuilderType: Pod"),
			wantFields: []string{"spec.imageBuilder.imageBuilderType", "<nil>"}, wantType: field.ErrorTypeNotSupported},
		{name: "CEL on a field", edit: repl("quay.io/acme/os:latest", "quay.io/acme/os"),
			wantFields: []string{"spec.renderedImagePushSpec"}, wantType: field.ErrorTypeInvalid},
		{name: "CEL on the root", edit: repl("metadata: {name: worker}", "metadata: {name: infra}"),
			wantFields: []string{"<nil>"}, wantType: field.ErrorTypeInvalid},
		{name: "required", edit: repl("  renderedImagePushSecret: {name: push}\n", ""),
			wantFields: []string{"spec.renderedImagePushSecret", "<nil>"}, wantType: field.ErrorTypeRequired},
		// After such errors the API server skips CEL and says so in a last error at the root ("<nil>").
		{name: "type", edit: repl("content: FROM configs AS final", "content: 42"),
			wantFields: []string{"spec.containerFile[0].content", "<nil>"}, wantType: field.ErrorTypeTypeInvalid},
		{name: "unknown fields are pruned and reported", edit: repl("  imageBuilder:", "  pushSpec: x\n  imageBuilder:"),
			wantUnknown: []string{"spec.pushSpec"}},
		{name: "metadata name", edit: repl("metadata: {name: worker}", "metadata: {name: Worker_1}"),
			wantFields: []string{"metadata.name", "<nil>"}, wantType: field.ErrorTypeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := validate(t, tc.edit(valid))
			var fields []string
			for _, e := range r.Errs {
				fields = append(fields, e.Field)
				if e.Type != tc.wantType && e.Field == tc.wantFields[0] {
					t.Errorf("%s: type %s, want %s", e.Field, e.Type, tc.wantType)
				}
			}
			if !slices.Equal(fields, tc.wantFields) {
				t.Errorf("error fields %q, want %q: %v", fields, tc.wantFields, r.Errs)
			}
			if !slices.Equal(r.Unknown, tc.wantUnknown) {
				t.Errorf("unknown fields %q, want %q", r.Unknown, tc.wantUnknown)
			}
		})
	}
}

func TestDefaultsAreApplied(t *testing.T) {
	r := validate(t, valid)
	files := r.Object["spec"].(map[string]any)["containerFile"].([]any)
	if arch := files[0].(map[string]any)["containerfileArch"]; arch != "NoArch" {
		t.Errorf("containerfileArch = %v, want the CRD's default NoArch", arch)
	}
}

func repl(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("fixture lacks " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

package validators

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// A directly posted AdmissionReview is not held to the CRD's limits by the API server; megabytes of Containerfile
// once cost ~150 MB per request in the parser. Over-limit input is refused before any rule or lookup runs.
func TestEvaluateRefusesWhatTheCRDWouldBeforeAnyRule(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name   string
		mutate func(*mcfgv1.MachineOSConfig)
		field  string
	}{
		{"containerfile content", func(m *mcfgv1.MachineOSConfig) {
			m.Spec.Containerfile = []mcfgv1.MachineOSContainerfile{{ContainerfileArch: mcfgv1.NoArch, Content: "RUN " + long(8<<20)}}
		}, "spec.containerFile[0].content"},
		{"too many containerfiles", func(m *mcfgv1.MachineOSConfig) {
			m.Spec.Containerfile = make([]mcfgv1.MachineOSContainerfile, 5)
		}, "spec.containerFile"},
		{"push spec", func(m *mcfgv1.MachineOSConfig) {
			m.Spec.RenderedImagePushSpec = mcfgv1.ImageTagFormat("quay.io/" + long(1<<20) + ":latest")
		}, "spec.renderedImagePushSpec"},
		{"push secret name", func(m *mcfgv1.MachineOSConfig) { m.Spec.RenderedImagePushSecret.Name = long(254) }, "spec.renderedImagePushSecret.name"},
		{"base image pull secret name", func(m *mcfgv1.MachineOSConfig) {
			m.Spec.BaseImagePullSecret = &mcfgv1.ImageSecretObjectReference{Name: long(254)}
		}, "spec.baseImagePullSecret.name"},
		{"pool name", func(m *mcfgv1.MachineOSConfig) { m.Spec.MachineConfigPool.Name = long(254) }, "spec.machineConfigPool.name"},
		{"annotations", func(m *mcfgv1.MachineOSConfig) { m.Annotations = map[string]string{"a": long(300 << 10)} }, "metadata.annotations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mosc := goodConfig()
			tc.mutate(mosc)
			cluster := newClusterFixture().withSecret(pushSecretFor("quay.io"))
			v := evaluate(context.Background(), mosc, cluster, denyAll)
			d := v.Findings.Denials()
			if len(d) != 1 || d[0].Field != tc.field || !strings.HasSuffix(d[0].Detail, "[crd-bounds]") {
				t.Fatalf("denials = %v, want one for %s tagged [crd-bounds]", d, tc.field)
			}
			if len(d[0].Error()) > 300 {
				t.Errorf("the denial echoes the oversized value (%d characters)", len(d[0].Error()))
			}
			if cluster.secretLookups != 0 {
				t.Errorf("%d lookups ran for an over-limit object", cluster.secretLookups)
			}
		})
	}
}

// Limits count characters, as OpenAPI's maxLength does: 4096 three-byte characters are within the CRD's limit.
func TestCRDBoundsCountCharacters(t *testing.T) {
	mosc := goodConfig()
	mosc.Spec.Containerfile = []mcfgv1.MachineOSContainerfile{{ContainerfileArch: mcfgv1.NoArch, Content: "#" + strings.Repeat("€", maxContainerfileContent-1)}}
	if errs := CheckCRDBounds(mosc); len(errs) != 0 {
		t.Errorf("%v", errs)
	}
	mosc.Spec.Containerfile[0].Content += "€"
	if errs := CheckCRDBounds(mosc); len(errs) != 1 {
		t.Errorf("one character over the limit: %v", errs)
	}
}

// The limits are the CRD's own, read from the CRD that ships in the openshift/api module.
func TestCRDBoundsMatchTheCRD(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/openshift/api").Output()
	if err != nil {
		t.Fatalf("locating openshift/api: %v", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "machineconfiguration", "v1", "zz_generated.crd-manifests",
		"0000_80_machine-config_01_machineosconfigs.crd.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	spec := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
	files := spec.Properties["containerFile"]
	for what, got := range map[string]*int64{
		"containerFile maxItems":                 files.MaxItems,
		"containerFile[].content maxLength":      files.Items.Schema.Properties["content"].MaxLength,
		"renderedImagePushSpec maxLength":        spec.Properties["renderedImagePushSpec"].MaxLength,
		"machineConfigPool.name maxLength":       spec.Properties["machineConfigPool"].Properties["name"].MaxLength,
		"renderedImagePushSecret.name maxLength": spec.Properties["renderedImagePushSecret"].Properties["name"].MaxLength,
		"baseImagePullSecret.name maxLength":     spec.Properties["baseImagePullSecret"].Properties["name"].MaxLength,
	} {
		want := map[string]int{
			"containerFile maxItems": maxContainerfiles, "containerFile[].content maxLength": maxContainerfileContent,
			"renderedImagePushSpec maxLength": maxPushSpecLength,
		}[what]
		if want == 0 {
			want = maxObjectNameLength
		}
		if got == nil || *got != int64(want) {
			t.Errorf("%s: the CRD says %v, ocl-guard enforces %d", what, got, want)
		}
	}
}

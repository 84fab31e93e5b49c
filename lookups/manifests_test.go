package lookups

import (
	"strings"
	"testing"
)

const manifestStream = `# comment
apiVersion: machineconfiguration.openshift.io/v1
kind: MachineOSConfig
metadata:
  name: worker
  annotations:
    machineconfiguration.openshift.io/pre-built-image: quay.io/acme/os@sha256:00
spec:
  machineConfigPool: {name: worker}
  containerFile:
  - containerfileArch: NoArch
    content: |
      FROM configs AS final
  - content: RUN true
---
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata: {name: a}
  data: {enabled: yes}
`

func TestReadManifests(t *testing.T) {
	ms, err := readManifests("stream", strings.NewReader(manifestStream))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Line != 2 || ms[1].Line != 20 {
		t.Fatalf("manifests %d at lines %v", len(ms), ms)
	}
	// Values as kubectl sends them: YAML 1.1 "yes" is a boolean.
	if v := ms[1].Object["data"].(map[string]any)["enabled"]; v != true {
		t.Errorf("yes = %#v, want true as kubectl converts it", v)
	}
	for path, want := range map[string]int{
		"":                              2,
		"spec":                          8,
		"spec.machineConfigPool.name":   9,
		"spec.containerFile[0].content": 12,
		"spec.containerFile[1].content": 14,
		"spec.containerFile[1]":         14,
		"spec.containerFile[7].content": 10, // no such item: its list
		"spec.renderedImagePushSpec":    8,  // missing (a Required error): its parent
		"metadata.annotations[machineconfiguration.openshift.io/pre-built-image]": 7,
	} {
		if got := ms[0].FieldLine(path); got != want {
			t.Errorf("FieldLine(%q) = %d, want %d", path, got, want)
		}
	}
}

func TestReadManifestsRefusesNonObjects(t *testing.T) {
	for _, stream := range []string{"- a\n- b\n", "just text\n", "a: [\n"} {
		if _, err := readManifests("stream", strings.NewReader(stream)); err == nil || !strings.Contains(err.Error(), "stream, document 1") {
			t.Errorf("%q: err %v, want one naming the document", stream, err)
		}
	}
}

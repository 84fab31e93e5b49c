package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `ocl-guard check -f` reads a stream of concatenated JSON objects as `kubectl apply -f` does, and its messages
// point at the lines of the file.
func TestCheckJSONStreamLines(t *testing.T) {
	stream := `{"apiVersion": "machineconfiguration.openshift.io/v1", "kind": "MachineConfigPool", "metadata": {"name": "infra"}}{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "other"}}
{
  "apiVersion": "machineconfiguration.openshift.io/v1",
  "kind": "MachineOSConfig",
  "metadata": {"name": "infra"},
  "spec": {
    "machineConfigPool": {"name": "infra"},
    "imageBuilder": {"imageBuilderType": "Job"},
    "renderedImagePushSecret": {"name": "push"},
    "renderedImagePushSpec": "quay.io\/acme\/OS:infra",
    "containerFile": [{"containerfileArch": "NoArch", "content": "FROM configs AS final\nRUN true\n"}]
  }
}
`
	file := filepath.Join(t.TempDir(), "stream.json")
	if err := os.WriteFile(file, []byte(stream), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code, err := runCheck([]string{"-f", file}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if code != 1 {
		t.Errorf("exit code %d, want 1 (denied)\n%s", code, out.String())
	}
	for _, want := range []string{
		file + ":2: MachineOSConfig infra: denied",
		file + ":10: [pushspec-syntax] spec.renderedImagePushSpec: Invalid value: \"quay.io/acme/OS:infra\"",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), `Not found: "infra"`) {
		t.Errorf("the pool of the stream's first object was not read:\n%s", out.String())
	}
}

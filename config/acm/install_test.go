package acm

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

var update = flag.Bool("update", false, "rewrite "+InstallPolicyFile+" from the kustomizations")

// TestInstallPolicyIsCurrent keeps the install Policy equal to what the kustomizations render now.
func TestInstallPolicyIsCurrent(t *testing.T) {
	var objs []*unstructured.Unstructured
	for _, source := range InstallSources {
		objs = append(objs, render(t, filepath.Join("..", filepath.FromSlash(source)))...)
	}
	want, err := InstallPolicy(objs)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(InstallPolicyFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(InstallPolicyFile)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s is stale; run go test ./config/acm -update (-want +got):\n%s", InstallPolicyFile, diff)
	}
}

func TestInstallPolicyLabelsTheNamespaceForMonitoring(t *testing.T) {
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "ocl-guard"}}}
	data, err := InstallPolicy([]*unstructured.Unstructured{ns})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(MonitoringLabel+`: "true"`)) {
		t.Errorf("the ocl-guard Namespace is not labelled %s:\n%s", MonitoringLabel, data)
	}
	if ns.GetLabels() != nil {
		t.Error("InstallPolicy changed its input")
	}
	if _, err := InstallPolicy(nil); err == nil {
		t.Error("an install Policy of nothing was made")
	}
}

// render builds a kustomization as kubectl does (kustomize's API, default load restrictions).
func render(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	data, err := resources.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	var objs []*unstructured.Unstructured
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := decoder.Decode(&obj.Object); errors.Is(err, io.EOF) {
			return objs
		} else if err != nil {
			t.Fatal(err)
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
}

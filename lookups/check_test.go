package lookups

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocl-guard/ocl-guard/validators"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func config(name string) string {
	return `apiVersion: machineconfiguration.openshift.io/v1
kind: MachineOSConfig
metadata: {name: ` + name + `}
spec:
  machineConfigPool: {name: ` + name + `}
  renderedImagePushSecret: {name: push}
---
`
}

// What each check saw: the type of Secret "push" and whether pool <name> exists.
func sawFacts(m *Manifest, facts validators.Source) string {
	name := m.Object["metadata"].(map[string]any)["name"].(string)
	secretType := "none"
	if s, err := facts.MCOSecret(context.Background(), "push"); err == nil {
		secretType = string(s.Type)
	}
	_, poolErr := facts.MachineConfigPool(context.Background(), name)
	return name + " " + secretType + " pool:" + map[bool]string{true: "yes", false: "no"}[poolErr == nil]
}

// Every config is judged with the facts of all the files, the last definition of an object winning, whatever order
// the files come in and however many workers read them; results come in the order the configs were read.
func TestCheckConfigsSeesEveryFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.yaml": config("first") + config("second"),
		"b.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: push, namespace: openshift-machine-config-operator}\ntype: Opaque\n",
		"c.yaml": config("third") + "apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfigPool\nmetadata: {name: second}\n",
		"d.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: push, namespace: openshift-machine-config-operator}\ntype: kubernetes.io/dockerconfigjson\n",
	})
	want := []string{"first kubernetes.io/dockerconfigjson pool:no", "second kubernetes.io/dockerconfigjson pool:yes", "third kubernetes.io/dockerconfigjson pool:no"}
	for _, workers := range []int{1, 2, 8} {
		for range 5 {
			got, err := CheckConfigs([]string{dir}, workers, sawFacts)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("%d workers: got\n%s\nwant\n%s", workers, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	}
}

// The error is that of the first file, in the order read, that cannot be read, even when a later one fails first.
func TestCheckConfigsFirstErrorInOrder(t *testing.T) {
	files := map[string]string{"b.yaml": "kind: [unclosed\n", "c.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringdata: {}\n"}
	for i := range 20 {
		files[fmt.Sprintf("a%02d.yaml", i)] = config("good")
	}
	dir := writeFiles(t, files)
	for _, workers := range []int{1, 2, 8} {
		for range 5 {
			results, err := CheckConfigs([]string{dir}, workers, sawFacts)
			if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "b.yaml")+", document 1") || results != nil {
				t.Fatalf("%d workers: err %v, results %v; want b.yaml's error and no results", workers, err, results)
			}
		}
	}
}

// Files keeps where objects are defined, not the objects: a config checked when its Secret's file has left the
// cache still sees that Secret, read again from its file.
func TestCheckConfigsReadsEvictedFactsAgain(t *testing.T) {
	files := map[string]string{"000-push.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: push, namespace: openshift-machine-config-operator}\ntype: kubernetes.io/dockerconfigjson\n"}
	for i := range cachedFiles + 20 {
		files[fmt.Sprintf("%03d-pool.yaml", i+1)] = fmt.Sprintf("apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfigPool\nmetadata: {name: pool-%d}\n", i)
	}
	files["999-config.yaml"] = config("pool-3") + config("pool-270")
	got, err := CheckConfigs([]string{writeFiles(t, files)}, 2, sawFacts)
	if err != nil {
		t.Fatal(err)
	}
	want := "pool-3 kubernetes.io/dockerconfigjson pool:yes\npool-270 kubernetes.io/dockerconfigjson pool:yes"
	if strings.Join(got, "\n") != want {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
}

// A file that no longer holds what it held when read again fails the check: its configs were judged on what it
// held.
func TestFilesReadAgainMustHoldTheSame(t *testing.T) {
	dir := writeFiles(t, map[string]string{"push.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: push, namespace: openshift-machine-config-operator}\n"})
	push := &manifestFile{name: filepath.Join(dir, "push.yaml")}
	contents, err := push.read()
	if err != nil {
		t.Fatal(err)
	}
	facts := &Files{}
	facts.learn(push, contents)
	if _, err := facts.MCOSecret(context.Background(), "push"); err != nil || facts.err() != nil {
		t.Fatalf("cached: %v, %v", err, facts.err())
	}
	for i := range cachedFiles { // push.yaml leaves the cache
		facts.learn(&manifestFile{name: fmt.Sprint(i)}, fileContents{})
	}
	if _, err := facts.MCOSecret(context.Background(), "push"); err != nil || facts.err() != nil {
		t.Fatalf("read again: %v, %v", err, facts.err())
	}
	for i := range cachedFiles {
		facts.learn(&manifestFile{name: fmt.Sprint(i)}, fileContents{})
	}
	if err := os.WriteFile(push.name, []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: other, namespace: openshift-machine-config-operator}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := facts.MCOSecret(context.Background(), "push"); err == nil {
		t.Error("a Secret that its file no longer holds was found")
	}
	if err := facts.err(); err == nil || !strings.Contains(err.Error(), "push.yaml changed while it was being checked: the Secret openshift-machine-config-operator/push is not where it was") {
		t.Errorf("err %v", err)
	}
}

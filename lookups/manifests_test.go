package lookups

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	yaml3 "go.yaml.in/yaml/v3"
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

// What `kubectl apply -f` reads, it reads: YAML documents, Lists, and concatenated JSON objects (apimachinery's
// YAMLOrJSONDecoder), with the lines of objects and fields those of the file.
func TestReadManifestsStreams(t *testing.T) {
	type want struct {
		name  string
		line  int
		lines map[string]int // FieldLine
	}
	mosc := func(name string) string {
		return `{"apiVersion":"machineconfiguration.openshift.io/v1","kind":"MachineOSConfig","metadata":{"name":"` + name + `"},"spec":{"machineConfigPool":{"name":"` + name + `"}}}`
	}
	for _, tc := range []struct {
		name   string
		stream string
		want   []want
	}{
		{"JSON objects back to back", mosc("a") + mosc("b"),
			[]want{{"a", 1, map[string]int{"spec.machineConfigPool.name": 1}}, {"b", 1, nil}}},
		{"JSON objects one per line, after blank lines", "\n\n  " + mosc("a") + "\n" + mosc("b") + "\n",
			[]want{{"a", 3, nil}, {"b", 4, map[string]int{"spec.machineConfigPool": 4}}}},
		{"pretty-printed JSON objects, tabs and the escape \\/ that YAML refuses",
			"{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Secret\",\n\t\"metadata\": {\"name\": \"a\\/b\"}\n}\n{\n  \"apiVersion\": \"machineconfiguration.openshift.io/v1\",\n  \"kind\": \"MachineOSConfig\",\n  \"metadata\": {\n    \"name\": \"c\"\n  },\n  \"spec\": {\n    \"containerFile\": [\n      {\"content\": \"FROM x\"},\n      {\n        \"content\": \"RUNN y\"\n      }\n    ]\n  }\n}\n",
			[]want{{"a/b", 1, map[string]int{"metadata.name": 4, "": 1}},
				{"c", 6, map[string]int{"metadata.name": 10, "spec.containerFile[0].content": 14, "spec.containerFile[1].content": 16, "spec.renderedImagePushSpec": 12}}}},
		{"a JSON List", "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n" + mosc("a") + ",\n" + mosc("b") + "\n]}",
			[]want{{"a", 2, map[string]int{"spec": 2}}, {"b", 3, nil}}},
		{"JSON, then YAML documents (kubectl switches after the first object)", mosc("a") + "\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n",
			[]want{{"a", 1, nil}, {"s", 3, map[string]int{"metadata.name": 6}}}},
		{"YAML flow mappings that are not JSON", "{apiVersion: v1, kind: Secret,\n metadata: {name: s}}\n",
			[]want{{"s", 1, map[string]int{"metadata.name": 2}}}},
		{"YAML documents and a List", manifestStream,
			[]want{{"worker", 2, map[string]int{"spec.containerFile[1].content": 14}}, {"a", 20, nil}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := readManifests("stream", strings.NewReader(tc.stream))
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != len(tc.want) {
				t.Fatalf("%d manifests, want %d: %v", len(ms), len(tc.want), ms)
			}
			for i, w := range tc.want {
				name, _ := ms[i].Object["metadata"].(map[string]any)["name"].(string)
				if name != w.name || ms[i].Line != w.line || ms[i].File != "stream" {
					t.Errorf("manifest %d: %s at %s:%d, want %s at line %d", i, name, ms[i].File, ms[i].Line, w.name, w.line)
				}
				for path, line := range w.lines {
					if got := ms[i].FieldLine(path); got != line {
						t.Errorf("manifest %d (%s): FieldLine(%q) = %d, want %d", i, name, path, got, line)
					}
				}
			}
		})
	}
}

// JSON values reach the rules as kubectl sends them: numbers as int64 or float64, strings as written.
func TestReadManifestsJSONValues(t *testing.T) {
	ms, err := readManifests("s.json", strings.NewReader(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a"},"stringData":{"n":"yes"},"x":3,"y":1.5}`))
	if err != nil {
		t.Fatal(err)
	}
	if v := ms[0].Object["stringData"].(map[string]any)["n"]; v != "yes" {
		t.Errorf(`"yes" = %#v, want the string`, v)
	}
	if x, y := ms[0].Object["x"], ms[0].Object["y"]; x != int64(3) || y != 1.5 {
		t.Errorf("x = %#v, y = %#v, want int64(3) and 1.5", x, y)
	}
}

func TestReadManifestsStreamErrors(t *testing.T) {
	obj := `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a"}}`
	for _, tc := range []struct{ name, stream, want string }{
		{"a third JSON object cut short", obj + "\n" + obj + "\n\n" + `{"apiVersion": "v1",` + "\n" + `"kind": }`, "stream, line 5: object 3 is not valid JSON"},
		{"a JSON value that is no object", obj + "\n[1, 2]\n", "stream, object 2 (line 2): not a Kubernetes object"},
		{"a List item that is no object", `{"apiVersion":"v1","kind":"List","items":[` + "\n" + `"text"]}`, "stream, object 1 (line 1): List item at line 2: not a Kubernetes object"},
		{"YAML after JSON that does not parse", obj + "\n---\na: [\n", "stream, document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readManifests("stream", strings.NewReader(tc.stream))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// The fast path of toObject gives what the reference path gives, on every YAML document of the repository (CRDs,
// samples, deploy manifests, test data) and on spellings where YAML 1.1 and 1.2 differ.
func TestPlainObjectAsConverted(t *testing.T) {
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("git rev-parse: %v", err)
	}
	top := strings.TrimSpace(string(root))
	out, err := exec.Command("git", "-C", top, "ls-files", "-z", "--", "*.yaml", "*.yml").Output()
	if err != nil || len(out) == 0 {
		t.Fatalf("git ls-files: %v (%d bytes)", err, len(out))
	}
	var fast int
	for _, file := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join(top, file))
		if err != nil {
			t.Fatal(err)
		}
		fast += comparePaths(t, file, data)
	}
	for _, doc := range plainObjectEdgeCases {
		fast += comparePaths(t, doc, []byte(doc))
	}
	if fast == 0 {
		t.Fatal("no document took the fast path")
	}
}

var plainObjectEdgeCases = []string{
	"a: yes\nb: on\nc: Off\nd: y\ne: NO\n",
	"a: 0777\nb: 0x1F\nc: 1_000\nd: 0o17\ne: -12\nf: 9223372036854775807\ng: 99999999999999999999\n",
	"a: 1.0\nb: .inf\nc: -.5\nd: 1e3\n",
	"a: 2024-01-01\nb: '2024-01-01'\nc: ~\nd:\ne: null\nf: \"\"\n",
	"a: &x {b: 1}\nc: *x\n",
	"base: &b {x: 1}\nmerged: {<<: *b, y: 2}\n",
	"a: !!str 12\nb: !!int '12'\nc: !custom x\n",
	"a: 1\na: 2\n",
	"? [a]\n: x\n",
	"1: one\ntrue: t\n",
	"a: \"quoted \\t tab\"\nb: 'single'\nc: |\n  literal\n  text\nd: >\n  folded\n  text\n",
	"a: plain text: no\nb: -dash\nc: +plus\nd: .dot\ne: <less\nf: 'yes'\n",
	"list: [1, two, \"3\", {x: y}, [z]]\nempty: {}\nnone: []\n",
	"a: \"\\xff\"\n",
	"a: True\nb: FALSE\nc: Null\nd: NULL\n",
	"a: 123456789012.dkr.ecr.us-east-1.amazonaws.com/ocl:x\nb: 2024-01-02T03:04:05Z\nc: 2024-1-2 3:4:5\nd: 0x1F\ne: 1e3\nf: -inf\ng: +12_3\nh: 12ab\ni: 1.2.3\nj: 0o17\nk: -0b101\nl: 4m\n",
	".dockerconfigjson: x\n.5: y\nz: .5\nw: .5e3\nv: .Inf\nu: .NaN\nt: .e\ns: .\n",
}

// comparePaths compares both paths of toObject on the mapping documents of data and returns how many took the
// fast path.
func comparePaths(t *testing.T, name string, data []byte) int {
	t.Helper()
	decoder := yaml3.NewDecoder(bytes.NewReader(data))
	fast := 0
	for {
		var doc yaml3.Node
		if err := decoder.Decode(&doc); err != nil {
			return fast // the end, or a document yaml.v3 refuses: not toObject's input
		}
		node := doc.Content[0]
		if node.Kind != yaml3.MappingNode {
			continue
		}
		obj, ok := plainObject(node)
		if !ok {
			continue
		}
		fast++
		want, err := convertObject(node)
		if err != nil {
			t.Errorf("%s, line %d: the fast path took a document the reference path refuses: %v", name, node.Line, err)
			continue
		}
		if !reflect.DeepEqual(obj, want) {
			t.Errorf("%s, line %d: fast path\n%#v\nreference path\n%#v", name, node.Line, obj, want)
		}
	}
}

func FuzzPlainObject(f *testing.F) {
	for _, doc := range plainObjectEdgeCases {
		f.Add(doc)
	}
	f.Add(manifestStream)
	f.Fuzz(func(t *testing.T, doc string) {
		comparePaths(t, "fuzz", []byte(doc))
	})
}

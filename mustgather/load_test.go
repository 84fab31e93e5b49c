package mustgather

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/mco"
)

const nodesDir = "cluster-scoped-resources/core/nodes"

func node(name string) string {
	return "apiVersion: v1\nkind: Node\nmetadata:\n  name: " + name + "\n  labels:\n    node-role.kubernetes.io/worker: \"\"\n"
}

// writeTree writes files (relative path: content) under a new directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, content := range files {
		file := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func load(t *testing.T, dir string, opts Options) *Dump {
	t.Helper()
	scheme, err := app.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	if opts.Namespaces == nil {
		opts.Namespaces = StatusNamespaces("ocl-guard")
	}
	d, err := Load(dir, scheme, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func nodeNames(t *testing.T, d *Dump) []string {
	t.Helper()
	var nodes corev1.NodeList
	if err := d.List(context.Background(), &nodes); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range nodes.Items {
		names = append(names, n.Name)
	}
	return names
}

// aliasBomb is the "billion laughs" of YAML: nine levels of nine aliases, 9^9 strings once expanded.
const aliasBomb = `apiVersion: v1
kind: Node
metadata:
  name: bomb
  labels: &a {a: "lol", b: "lol", c: "lol", d: "lol", e: "lol", f: "lol", g: "lol", h: "lol", i: "lol"}
  annotations:
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

// Each damaged or hostile file is one problem naming it (and its line when there is one); the good files around it
// are read.
func TestDamagedAndHostileFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string
		content string
		opts    Options
		want    string
	}{
		{"YAML alias bomb", "bomb.yaml", aliasBomb, Options{}, "bomb.yaml:1: document contains excessive aliasing"},
		{"deep nesting", "deep.yaml", "apiVersion: v1\nkind: Node\nmetadata:\n  name: deep\n  labels: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n",
			Options{}, "deep.yaml:5: exceeded max depth of 10000"},
		{"over the size limit", "big.yaml", node("big") + "# " + strings.Repeat("x", 4096) + "\n", Options{MaxFileBytes: 1024},
			"big.yaml: 4196 bytes, over the limit of 1024 for a YAML file: not read"},
		{"over the dump's limit", "zz.yaml", node("zz") + "# " + strings.Repeat("x", 2048) + "\n", Options{MaxTotalBytes: 2048},
			"zz.yaml: reading it would pass the limit of 2048 bytes of YAML for the whole dump"},
		{"truncated", "cut.yaml", "apiVersion: v1\nkind: Node\nmetadata:\n  name: cut\n  labels: {a: \"b\"\n", Options{}, "cut.yaml:4: did not find expected ',' or '}'"},
		{"a field of the wrong type", "typed.yaml", "apiVersion: v1\nkind: Node\nmetadata:\n  name: typed\n  labels: [a, b]\n", Options{},
			"typed.yaml:1: Node typed: json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string"},
		{"another kind", "pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: x\n", Options{},
			"pod.yaml:1: a v1 Pod where oc adm inspect writes nodes: skipped"},
		{"no name", "anonymous.yaml", "apiVersion: v1\nkind: Node\nmetadata: {}\n", Options{}, "anonymous.yaml:1: Node without metadata.name: skipped"},
		{"not an object", "scalar.yaml", "just text\n", Options{}, "scalar.yaml:1: not a Kubernetes object: the document is not a mapping"},
		{"a version not read", "v1alpha1.yaml", "apiVersion: machineconfiguration.openshift.io/v1alpha1\nkind: MachineOSConfig\nmetadata:\n  name: w\n", Options{},
			"a version ocl-guard does not read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := nodesDir + "/" + tc.file
			if strings.Contains(tc.content, "MachineOSConfig") {
				file = "cluster-scoped-resources/machineconfiguration.openshift.io/machineosconfigs/" + tc.file
			}
			root := writeTree(t, map[string]string{file: tc.content, nodesDir + "/good.yaml": node("good")})
			d := load(t, root, tc.opts)
			problems := d.Problems()
			if len(problems) != 1 || !strings.Contains(problems[0].Error(), tc.want) {
				t.Fatalf("problems %v, want one with %q", problems, tc.want)
			}
			var fileErr *FileError
			if !errors.As(problems[0], &fileErr) || !strings.HasPrefix(fileErr.Path, root) {
				t.Errorf("%v does not name the file under %s", problems[0], root)
			}
			if names := nodeNames(t, d); len(names) != 1 || names[0] != "good" {
				t.Errorf("nodes %v: the good file next to the damaged one is not read", names)
			}
		})
	}
}

// No file outside the dump is read, whatever its symlinks say, and nothing blocks on a FIFO.
func TestSymlinksOutOfTheDumpAndSpecialFiles(t *testing.T) {
	outside := writeTree(t, map[string]string{"node.yaml": node("outside"), "current.log": "secret of the host\n",
		"must-gather/cluster-scoped-resources/core/nodes/far.yaml": node("far")})
	root := writeTree(t, map[string]string{nodesDir + "/good.yaml": node("good")})
	logDir := filepath.Join(root, "namespaces", mco.Namespace, "pods", "build-p", "image-build", "image-build", "logs")
	for _, err := range []error{
		os.Symlink(filepath.Join(outside, "node.yaml"), filepath.Join(root, nodesDir, "evil.yaml")),
		os.Symlink("../../../../"+filepath.Base(outside)+"/node.yaml", filepath.Join(root, nodesDir, "relative.yaml")),
		os.Symlink(filepath.Join(root, nodesDir, "good.yaml"), filepath.Join(root, nodesDir, "inside.yaml")),
		syscall.Mkfifo(filepath.Join(root, nodesDir, "fifo.yaml"), 0o644),
		os.MkdirAll(logDir, 0o755),
		os.Symlink(filepath.Join(outside, "current.log"), filepath.Join(logDir, "current.log")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	d := load(t, root, Options{})
	if names := nodeNames(t, d); strings.Join(names, ",") != "good" {
		t.Errorf("nodes %v, want only good (inside.yaml is the same node)", names)
	}
	var escaped, fifo int
	for _, p := range d.Problems() {
		switch {
		case strings.Contains(p.Error(), "evil.yaml") || strings.Contains(p.Error(), "relative.yaml"):
			escaped++
		case strings.Contains(p.Error(), "fifo.yaml: not a regular file"):
			fifo++
		}
	}
	if escaped != 2 || fifo != 1 {
		t.Errorf("problems %v: want the two symlinks out and the FIFO named", d.Problems())
	}
	if log, err := d.TailLog(context.Background(), mco.Namespace, "build-p", "image-build", 1024); err == nil || log != "" {
		t.Errorf("read a log through a symlink out of the dump: %q, %v", log, err)
	}
	// A must-gather whose image directory is a symlink out of it holds nothing.
	mg := t.TempDir()
	if err := os.Symlink(filepath.Join(outside, "must-gather"), filepath.Join(mg, "quay-io-image")); err != nil {
		t.Fatal(err)
	}
	scheme, _ := app.Scheme()
	if _, err := Load(mg, scheme, Options{}); err == nil || !strings.Contains(err.Error(), "neither a must-gather nor an oc adm inspect directory") {
		t.Errorf("Load through a symlinked image directory: %v", err)
	}
}

// A log of any size costs the limit: the end is read by seeking, the first cut line dropped, the timestamps that
// inspect asks for taken off.
func TestTailLogReadsOnlyTheEnd(t *testing.T) {
	root := writeTree(t, map[string]string{nodesDir + "/good.yaml": node("good")})
	logDir := filepath.Join(root, "namespaces", mco.Namespace, "pods", "build-p", "image-build", "image-build", "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(logDir, "current.log"))
	if err != nil {
		t.Fatal(err)
	}
	const size = 3 << 30 // 3 GiB, sparse: no disk is spent on it
	tail := "2026-12-01T11:45:00.000000001Z STEP 2/3: RUN dnf install -y tmuxx\n2026-12-01T11:45:00.5Z Error: Unable to find a match: tmuxx\n"
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("\n"+tail), size-1); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	d := load(t, root, Options{})
	got, err := d.TailLog(context.Background(), mco.Namespace, "build-p", "image-build", 100)
	if err != nil {
		t.Fatal(err)
	}
	if got != "Error: Unable to find a match: tmuxx\n" {
		t.Errorf("tail %q: want the last whole line, without its timestamp", got)
	}
	got, err = d.TailLog(context.Background(), mco.Namespace, "build-p", "image-build", int64(len(tail)+1))
	if err != nil || got != "STEP 2/3: RUN dnf install -y tmuxx\nError: Unable to find a match: tmuxx\n" {
		t.Errorf("tail %q, %v", got, err)
	}
	if _, err := d.TailLog(context.Background(), mco.Namespace, "build-q", "image-build", 100); err == nil ||
		!strings.Contains(err.Error(), "namespaces/openshift-machine-config-operator/pods/build-q/image-build/image-build/logs/current.log") {
		t.Errorf("a missing log: %v, want the path looked at", err)
	}
	if _, err := d.TailLog(context.Background(), mco.Namespace, "../../..", "image-build", 100); err == nil {
		t.Error("a pod name with a path in it was read")
	}
}

// The reader answers as the API server would: namespaces, label selectors, the Event field selectors gather uses,
// metadata-only lists; a kind or a namespace the dump does not hold is unknown (NoMatch), one it holds but without
// the object is NotFound.
func TestReaderSemantics(t *testing.T) {
	ns := mco.Namespace
	root := writeTree(t, map[string]string{
		nodesDir + "/a.yaml":                    node("a"),
		nodesDir + "/b.yaml":                    strings.Replace(node("b"), "worker", "infra", 1),
		"namespaces/" + ns + "/" + ns + ".yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + ns + "\n",
		"namespaces/default/core/events.yaml": `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Event
  metadata: {name: e1, namespace: default}
  involvedObject: {kind: MachineOSBuild, name: worker-5e1f}
  reason: Failed
- apiVersion: v1
  kind: Event
  metadata: {name: e2, namespace: default}
  involvedObject: {kind: MachineOSConfig, name: worker}
`,
		// The same pod in the list and in its own directory, at two versions: the newest is kept.
		"namespaces/" + ns + "/core/pods.yaml": "apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: p, namespace: " + ns + ", resourceVersion: \"7\", labels: {app: x}}\n",
		"namespaces/" + ns + "/pods/p/p.yaml":  "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: " + ns + ", resourceVersion: \"9\", labels: {app: y}}\n",
		"timestamp":                            "2026-12-01 11:58:00.1 +0000 UTC m=+0.1\n2026-12-01 12:00:00.123456789 +0000 UTC m=+120.5\n",
	})
	d := load(t, root, Options{})
	ctx := context.Background()
	if len(d.Problems()) != 0 {
		t.Fatalf("problems: %v", d.Problems())
	}
	if at, ok := d.GatheredAt(); !ok || !at.Equal(time.Date(2026, 12, 1, 12, 0, 0, 123456789, time.UTC)) {
		t.Errorf("gathered at %v, want the end line of the timestamp file", at)
	}

	var nodes metav1.PartialObjectMetadataList
	nodes.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "NodeList"})
	if err := d.List(ctx, &nodes, client.MatchingLabels{"node-role.kubernetes.io/worker": ""}); err != nil || len(nodes.Items) != 1 || nodes.Items[0].Name != "a" {
		t.Errorf("worker nodes by label, metadata only: %v, %v", nodes.Items, err)
	}
	var events corev1.EventList
	if err := d.List(ctx, &events, client.InNamespace("default"), client.MatchingFields{"involvedObject.kind": "MachineOSBuild", "involvedObject.name": "worker-5e1f"}); err != nil ||
		len(events.Items) != 1 || events.Items[0].Name != "e1" {
		t.Errorf("events about the build: %v, %v", events.Items, err)
	}
	if err := d.List(ctx, &events, client.MatchingFields{"ocl-guard.io/involved-object": "x"}); !apierrors.IsBadRequest(err) {
		t.Errorf("an index the dump has not: %v, want BadRequest as the API server answers", err)
	}
	var pod corev1.Pod
	if err := d.Get(ctx, client.ObjectKey{Namespace: ns, Name: "p"}, &pod); err != nil || pod.Labels["app"] != "y" {
		t.Errorf("pod %v, %v: want resourceVersion 9's", pod.Labels, err)
	}
	var pods corev1.PodList
	if err := d.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{"app": "x"}); err != nil || len(pods.Items) != 0 {
		t.Errorf("pods with the old label: %v, %v", pods.Items, err)
	}
	if err := d.Get(ctx, client.ObjectKey{Namespace: ns, Name: "gone"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("a Secret of an inspected namespace: %v, want NotFound", err)
	}
	for name, err := range map[string]error{
		"a namespace not gathered": d.Get(ctx, client.ObjectKey{Namespace: "ocl-guard", Name: "x"}, &corev1.ConfigMap{}),
		"a kind not gathered":      d.List(ctx, &mcfgv1.MachineOSConfigList{}),
		"a kind never read":        d.Get(ctx, client.ObjectKey{Name: "x"}, &corev1.Namespace{}),
	} {
		var notGathered *NotGatheredError
		if !meta.IsNoMatchError(err) || !errors.As(err, &notGathered) || apierrors.IsNotFound(err) {
			t.Errorf("%s: %v, want a NotGatheredError, unknown rather than absent", name, err)
		}
	}
}

// A list as oc writes it is parsed item by item: a damaged item is one problem at its own line, and the items
// around it are read. Other shapes (an indented sequence, several documents) are parsed whole.
func TestListsAreReadItemByItem(t *testing.T) {
	ocList := "apiVersion: v1\nitems:\n" +
		"- apiVersion: v1\n  kind: Node\n  metadata:\n    name: a\n" +
		"- apiVersion: v1\n  kind: Node\n  metadata:\n    name: b\n    labels: [x]\n  spec: {}\n" +
		"- apiVersion: v1\n  kind: Node\n  metadata:\n    name: c\n    labels: {x: \"y\"\n" + // unclosed on line 17
		"- apiVersion: v1\n  kind: Node\n  metadata:\n    name: d\n" +
		"kind: List\nmetadata:\n  resourceVersion: \"\"\n"
	for _, tc := range []struct {
		name, content string
		nodes         string
		problems      []string
	}{
		{"oc's list", ocList, "a,d", []string{"nodes.yaml:7: Node b: json: cannot unmarshal array", "nodes.yaml:16: did not find expected ',' or '}'"}},
		{"an indented sequence", "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Node\n    metadata: {name: a}\n  - {apiVersion: v1, kind: Node, metadata: {name: b}}\n", "a,b", nil},
		{"several documents", node("a") + "---\n" + node("b"), "a,b", nil},
		// Status reads a node's metadata only: its spec and status, most of its YAML, are not even parsed.
		{"a node's status", node("a") + "spec:\n  taints: [{\nstatus:\n  images: [{\n", "a", nil},
		{"a node's status in a list", "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata:\n    name: a\n  status:\n    images: [{\nkind: List\n", "a", nil},
		{"a typed list", "apiVersion: v1\nkind: NodeList\nitems:\n- metadata:\n    name: a\n", "a", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := load(t, writeTree(t, map[string]string{"cluster-scoped-resources/core/nodes.yaml": tc.content}), Options{})
			if got := strings.Join(nodeNames(t, d), ","); got != tc.nodes {
				t.Errorf("nodes %s, want %s", got, tc.nodes)
			}
			problems := d.Problems()
			if len(problems) != len(tc.problems) {
				t.Fatalf("problems %v, want %v", problems, tc.problems)
			}
			for i, want := range tc.problems {
				if !strings.Contains(problems[i].Error(), want) {
					t.Errorf("problem %v, want %q", problems[i], want)
				}
			}
		})
	}
	// One document is parsed whole, so it has a limit of its own, below the file's.
	big := node("big") + "# " + strings.Repeat("x", maxDocumentBytes) + "\n"
	d := load(t, writeTree(t, map[string]string{nodesDir + "/big.yaml": big}), Options{})
	if p := d.Problems(); len(p) != 1 || !strings.Contains(p[0].Error(), "in one YAML document, over the limit of 8388608: not read") {
		t.Errorf("problems %v", p)
	}
}

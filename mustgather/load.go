package mustgather

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	yaml "go.yaml.in/yaml/v3"
)

// DefaultMaxFileBytes bounds each YAML file read. oc adm inspect writes one file per object or per namespace and
// resource; the largest a status reads are the lists of a namespace's pods and Events, a few MiB on a busy cluster.
const DefaultMaxFileBytes int64 = 64 << 20

// DefaultMaxTotalBytes bounds the YAML read from one dump, so that a dump of millions of files costs bounded time
// and memory too. What status reads of a 1,000-node must-gather is a few tens of MiB.
const DefaultMaxTotalBytes int64 = 512 << 20

// Where oc adm inspect writes (openshift/oc pkg/cli/admin/inspect/resource.go).
const (
	clusterScopedDir = "cluster-scoped-resources"
	namespacesDir    = "namespaces"
	coreGroupDir     = "core" // the directory of the core group, whose name is ""
)

// kind is one kind status reads, and where oc adm inspect writes it: <group>/<resource>.
type kind struct {
	gvk        schema.GroupVersionKind
	resource   string
	namespaced bool
	// byName kinds are read when asked for by name, not loaded up front: a must-gather holds every MachineConfig
	// (hundreds of KiB each), and status reads only the rendered one of each layered pool.
	byName bool
	// metadataOnly kinds are kept without spec and status, which are not even parsed: gather.GatherPool reads the
	// metadata of nodes only, and a node's status (the images it holds) is most of its YAML.
	metadataOnly bool
}

func (k kind) groupDir() string { return Kind{GVK: k.gvk}.GroupDir() }

func (k kind) String() string {
	if k.gvk.Group == "" {
		return k.resource
	}
	return k.resource + "." + k.gvk.Group
}

// kinds are what gather/, lookups.Cluster and status.ClusterSettings read.
var kinds = []kind{
	{gvk: corev1.SchemeGroupVersion.WithKind("Node"), resource: "nodes", metadataOnly: true},
	{gvk: mcfgv1.GroupVersion.WithKind("MachineOSConfig"), resource: "machineosconfigs"},
	{gvk: mcfgv1.GroupVersion.WithKind("MachineOSBuild"), resource: "machineosbuilds"},
	{gvk: mcfgv1.GroupVersion.WithKind("MachineConfigPool"), resource: "machineconfigpools"},
	{gvk: mcfgv1.GroupVersion.WithKind("MachineConfig"), resource: "machineconfigs", byName: true},
	{gvk: configv1.GroupVersion.WithKind("ClusterOperator"), resource: "clusteroperators"},
	{gvk: configv1.GroupVersion.WithKind("Image"), resource: "images"},
	{gvk: configv1.GroupVersion.WithKind("ClusterImagePolicy"), resource: "clusterimagepolicies"},
	{gvk: corev1.SchemeGroupVersion.WithKind("Pod"), resource: "pods", namespaced: true},
	{gvk: corev1.SchemeGroupVersion.WithKind("Event"), resource: "events", namespaced: true},
	{gvk: corev1.SchemeGroupVersion.WithKind("Secret"), resource: "secrets", namespaced: true},
	{gvk: corev1.SchemeGroupVersion.WithKind("ConfigMap"), resource: "configmaps", namespaced: true},
	{gvk: batchv1.SchemeGroupVersion.WithKind("Job"), resource: "jobs", namespaced: true},
	{gvk: appsv1.SchemeGroupVersion.WithKind("Deployment"), resource: "deployments", namespaced: true},
}

// Kind is one kind a dump is read for, and where oc adm inspect writes it: <group>/<resource>, "core" for the
// core group.
type Kind struct {
	GVK        schema.GroupVersionKind
	Resource   string
	Namespaced bool
}

// GroupDir is the directory of the kind's group.
func (k Kind) GroupDir() string { return cmp.Or(k.GVK.Group, coreGroupDir) }

// Kinds are the kinds Load reads: what gather/, lookups.Cluster and status.ClusterSettings read.
func Kinds() []Kind {
	out := make([]Kind, len(kinds))
	for i, k := range kinds {
		out[i] = Kind{GVK: k.gvk, Resource: k.resource, Namespaced: k.namespaced}
	}
	return out
}

func kindOf(gk schema.GroupKind) (kind, bool) {
	i := slices.IndexFunc(kinds, func(k kind) bool { return k.gvk.GroupKind() == gk })
	if i < 0 {
		return kind{}, false
	}
	return kinds[i], true
}

// Options say what Load reads.
type Options struct {
	// Namespaces whose objects are read; the other namespaces of the dump are not opened.
	Namespaces []string
	// MaxFileBytes bounds each YAML file; DefaultMaxFileBytes when zero.
	MaxFileBytes int64
	// MaxTotalBytes bounds the YAML read in all; DefaultMaxTotalBytes when zero.
	MaxTotalBytes int64
}

// FileError is a file of the dump that could not be read, or one of its objects: the report goes on without it.
type FileError struct {
	// Path is the file's, under the dump's directory as given; Line is 0 when the error has no line.
	Path string
	Line int
	Err  error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// Dump is a must-gather or oc adm inspect directory, read as the cluster it was gathered from.
type Dump struct {
	dir    string
	root   *os.Root
	scheme *runtime.Scheme
	// bases are the directories, relative to dir, that hold cluster-scoped-resources/ or namespaces/: "." for oc adm
	// inspect, one per image for oc adm must-gather.
	bases    []string
	maxFile  int64
	maxTotal int64
	// read is the YAML read so far; overTotal is set once a file would pass maxTotal, and no file is read after it.
	read      int64
	overTotal bool

	mu       sync.Mutex
	objects  map[schema.GroupKind]map[client.ObjectKey]client.Object
	gathered map[gatheredKey]bool
	problems []error
	// gatheredAt is when the gather ended; zero when the dump does not say.
	gatheredAt time.Time
}

// gatheredKey is a kind the dump holds, in one namespace ("" for a cluster-scoped kind).
type gatheredKey struct {
	gk        schema.GroupKind
	namespace string
}

// Load reads the dump in dir. It fails only when dir is no dump at all; every file it cannot read is one of
// Problems, and the rest is read on.
func Load(dir string, scheme *runtime.Scheme, opts Options) (*Dump, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("--from %s: %w", dir, err)
	}
	d := &Dump{dir: dir, root: root, scheme: scheme, maxFile: cmp.Or(opts.MaxFileBytes, DefaultMaxFileBytes),
		maxTotal: cmp.Or(opts.MaxTotalBytes, DefaultMaxTotalBytes),
		objects:  map[schema.GroupKind]map[client.ObjectKey]client.Object{}, gathered: map[gatheredKey]bool{}}
	if err := d.findBases(); err != nil {
		_ = root.Close()
		return nil, err
	}
	for _, base := range d.bases {
		d.readTimestamp(base)
		for _, k := range kinds {
			switch {
			case !k.namespaced:
				d.loadClusterScoped(base, k)
			default:
				for _, ns := range opts.Namespaces {
					d.loadNamespaced(base, ns, k)
				}
			}
		}
	}
	return d, nil
}

// Close releases the dump's directory.
func (d *Dump) Close() error { return d.root.Close() }

// Problems are the files that could not be read, in the order met.
func (d *Dump) Problems() []error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.problems)
}

// GatheredAt is when the gather ended (the last line of the timestamp file oc adm inspect writes at its start and
// end, inspect.go logTimestamp); ok is false when the dump has none.
func (d *Dump) GatheredAt() (time.Time, bool) { return d.gatheredAt, !d.gatheredAt.IsZero() }

// Dir is the dump's directory, as given.
func (d *Dump) Dir() string { return d.dir }

// findBases finds where the inspect layout starts: dir itself (oc adm inspect --dest-dir) or its subdirectories
// (oc adm must-gather writes one per image it runs, named after the image).
func (d *Dump) findBases() error {
	if d.isBase(".") {
		d.bases = []string{"."}
		return nil
	}
	entries, err := fs.ReadDir(d.root.FS(), ".")
	if err != nil {
		return fmt.Errorf("--from %s: %w", d.dir, err)
	}
	for _, e := range entries {
		if d.isBase(e.Name()) {
			d.bases = append(d.bases, e.Name())
		}
	}
	if len(d.bases) == 0 {
		return fmt.Errorf("--from %s: neither a must-gather nor an oc adm inspect directory: no %s/ or %s/ in it or in its subdirectories",
			d.dir, clusterScopedDir, namespacesDir)
	}
	return nil
}

func (d *Dump) isBase(dir string) bool {
	return d.isDir(path.Join(dir, clusterScopedDir)) || d.isDir(path.Join(dir, namespacesDir))
}

func (d *Dump) isDir(name string) bool {
	info, err := d.root.Stat(name)
	return err == nil && info.IsDir()
}

func (d *Dump) problem(rel string, line int, err error) {
	d.problems = append(d.problems, &FileError{Path: filepath.Join(d.dir, rel), Line: line, Err: err})
}

// loadClusterScoped reads cluster-scoped-resources/<group>/<resource>.yaml (a list) and
// cluster-scoped-resources/<group>/<resource>/*.yaml (one object each).
func (d *Dump) loadClusterScoped(base string, k kind) {
	groupDir := path.Join(base, clusterScopedDir, k.groupDir())
	if d.readKindFiles(groupDir, k, !k.byName) {
		d.gathered[gatheredKey{gk: k.gvk.GroupKind()}] = true
	}
}

// loadNamespaced reads namespaces/<ns>/<group>/<resource>.yaml and <resource>/*.yaml, and for pods
// namespaces/<ns>/pods/<pod>/<pod>.yaml (namespace.go gatherNamespaceData, pod.go gatherPodData). A namespace that
// was inspected (namespaces/<ns>/<ns>.yaml) holds every kind inspect collects in it (namespace.go
// namespaceResourcesToCollect: "all", configmaps, events, secrets), even one with no object.
func (d *Dump) loadNamespaced(base, ns string, k kind) {
	nsDir := path.Join(base, namespacesDir, ns)
	if !validName(ns) || !d.isDir(nsDir) {
		return
	}
	key := gatheredKey{gk: k.gvk.GroupKind(), namespace: ns}
	if d.isRegular(path.Join(nsDir, ns+".yaml")) {
		d.gathered[key] = true
	}
	if d.readKindFiles(path.Join(nsDir, k.groupDir()), k, true) {
		d.gathered[key] = true
	}
	if k.resource != "pods" {
		return
	}
	podsDir := path.Join(nsDir, "pods")
	entries, err := fs.ReadDir(d.root.FS(), podsDir)
	if err != nil {
		return
	}
	d.gathered[key] = true
	for _, e := range entries {
		if file := path.Join(podsDir, e.Name(), e.Name()+".yaml"); validName(e.Name()) && d.isRegular(file) {
			d.readFile(file, k)
		}
	}
}

// readKindFiles reads <groupDir>/<resource>.yaml and, when all, <groupDir>/<resource>/*.yaml; it reports whether
// the dump holds the kind there.
func (d *Dump) readKindFiles(groupDir string, k kind, all bool) bool {
	found := false
	if list := path.Join(groupDir, k.resource+".yaml"); d.isRegular(list) {
		found = true
		d.readFile(list, k)
	}
	dir := path.Join(groupDir, k.resource)
	entries, err := fs.ReadDir(d.root.FS(), dir)
	if err != nil {
		return found
	}
	if !all {
		return true
	}
	for _, e := range entries {
		if name := e.Name(); strings.HasSuffix(name, ".yaml") && !e.IsDir() {
			d.readFile(path.Join(dir, name), k)
		}
	}
	return true
}

// isRegular reports whether name is a regular file inside the dump: a FIFO or a device would block or never end.
func (d *Dump) isRegular(name string) bool {
	info, err := d.root.Stat(name)
	return err == nil && info.Mode().IsRegular()
}

// validName keeps a name read from the dump or asked for to one path element.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`)
}

// readFile decodes every object of kind k in one file: a single object or a list, in one or more YAML documents.
func (d *Dump) readFile(rel string, k kind) {
	// Stat before opening: opening a FIFO would wait for a writer forever. The root refuses a symlink that leads out.
	if info, err := d.root.Stat(rel); err != nil {
		d.problem(rel, 0, err)
		return
	} else if !info.Mode().IsRegular() {
		d.problem(rel, 0, errors.New("not a regular file: not read"))
		return
	}
	data, err := d.readBounded(rel)
	if err != nil {
		d.problem(rel, 0, err)
		return
	}
	if data == nil {
		return // over the dump's limit, said once
	}
	if header, items, ok := splitList(data); ok && d.decodeSplitList(rel, header, items, k) {
		return
	}
	if k.metadataOnly {
		data = withoutBlocks(data, "", specAndStatus)
	}
	if len(data) > maxDocumentBytes {
		d.problem(rel, 0, fmt.Errorf("%d bytes in one YAML document, over the limit of %d: not read", len(data), maxDocumentBytes))
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			line, msg := yamlLine(err)
			d.problem(rel, line, errors.New(msg))
			return
		}
		if len(doc.Content) == 0 {
			continue
		}
		d.decodeDocument(rel, doc.Content[0], k)
	}
}

// maxDocumentBytes bounds a YAML document parsed whole: its node tree costs about 25 times its size. A list as oc
// writes it is parsed item by item (splitList), so only its largest item counts.
const maxDocumentBytes = 8 << 20

// listItem is one item of a list cut by splitList: its text, still "- " and indented, and the line it starts on.
type listItem struct {
	line int
	data []byte
}

// splitList cuts a list as oc prints it (sigs.k8s.io/yaml: the keys sorted, "items:" at the first column and each
// item a "- " there) into the list's other lines and its items, so that each item is parsed alone and a list of
// thousands of pods costs one pod's node tree, not thousands. The items share data. ok is false for any other
// shape, which is parsed whole.
func splitList(data []byte) (header []byte, items []listItem, ok bool) {
	inItems := false
	line, start := 0, 0 // start: where the current item began
	for off := 0; off < len(data); {
		end := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			end = off + i + 1
		}
		text := data[off:end]
		line++
		bare := bytes.TrimRight(text, "\r\n")
		switch {
		case bytes.Equal(bare, []byte("---")) || bytes.Equal(bare, []byte("...")):
			return nil, nil, false // several documents
		case !inItems && bytes.Equal(bare, []byte("items:")):
			if ok {
				return nil, nil, false
			}
			inItems, ok = true, true
		case inItems && (bytes.HasPrefix(bare, []byte("- ")) || bytes.Equal(bare, []byte("-"))):
			items = append(items, listItem{line: line, data: text})
			start = off
		case inItems && (bytes.HasPrefix(bare, []byte("  ")) || len(bare) == 0 || bare[0] == '#'):
			switch {
			case len(items) > 0:
				items[len(items)-1].data = data[start:end]
			case len(bare) > 0 && bare[0] != '#':
				return nil, nil, false // "items:" followed by an indented sequence: not oc's shape
			}
		default:
			inItems = false
			header = append(header, text...)
		}
		off = end
	}
	return header, items, ok
}

var specAndStatus = [][]byte{[]byte("spec:"), []byte("status:")}

// withoutBlocks returns the YAML text without the blocks of the keys given at indent: each such key's line and the
// lines indented under it. Line by line, so that what is left out is never parsed.
func withoutBlocks(data []byte, indent string, keys [][]byte) []byte {
	var out []byte
	skipping := false
	for off := 0; off < len(data); {
		end := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			end = off + i + 1
		}
		text := data[off:end]
		off = end
		bare := bytes.TrimRight(text, "\r\n")
		if skipping && (len(bare) == 0 || bytes.HasPrefix(bare, []byte(indent+" "))) {
			continue
		}
		skipping = false
		if rest, ok := bytes.CutPrefix(bare, []byte(indent)); ok {
			for _, key := range keys {
				if bytes.Equal(rest, key) || bytes.HasPrefix(rest, append(key, ' ')) {
					skipping = true
				}
			}
		}
		if !skipping {
			out = append(out, text...)
		}
	}
	return out
}

// decodeItem decodes one item of a list cut by splitList; nil and no error for an empty one.
func (d *Dump) decodeItem(rel string, item listItem, k kind, itemGVK schema.GroupVersionKind) (client.Object, error) {
	if len(item.data) > maxDocumentBytes {
		return nil, &FileError{Path: filepath.Join(d.dir, rel), Line: item.line,
			Err: fmt.Errorf("an item of %d bytes, over the limit of %d: not read", len(item.data), maxDocumentBytes)}
	}
	if k.metadataOnly {
		item.data = withoutBlocks(item.data, "  ", specAndStatus)
	}
	var n yaml.Node
	if err := yaml.Unmarshal(item.data, &n); err != nil {
		line, msg := yamlLine(err)
		return nil, &FileError{Path: filepath.Join(d.dir, rel), Line: item.line + max(line, 1) - 1, Err: errors.New(msg)}
	}
	// The item parses as a sequence of one: itself.
	if len(n.Content) == 0 || n.Content[0].Kind != yaml.SequenceNode || len(n.Content[0].Content) != 1 {
		return nil, &FileError{Path: filepath.Join(d.dir, rel), Line: item.line, Err: errors.New("not one item of the list: not read")}
	}
	return d.decodeObject(rel, n.Content[0].Content[0], k, itemGVK, item.line-1)
}

// decodeSplitList decodes the items of a list cut by splitList; false when the other lines do not make a List.
func (d *Dump) decodeSplitList(rel string, header []byte, items []listItem, k kind) bool {
	var h yaml.Node
	if err := yaml.Unmarshal(header, &h); err != nil || len(h.Content) == 0 || h.Content[0].Kind != yaml.MappingNode {
		return false
	}
	apiVersion, kindName := scalar(h.Content[0], "apiVersion"), scalar(h.Content[0], "kind")
	if !strings.HasSuffix(kindName, "List") {
		return false
	}
	itemGVK := schema.FromAPIVersionAndKind(apiVersion, strings.TrimSuffix(kindName, "List"))
	for _, item := range items {
		o, err := d.decodeItem(rel, item, k, itemGVK)
		if o != nil || err != nil {
			d.add(k, o, err)
		}
	}
	return true
}

// readBounded reads a regular file of at most maxFile bytes.
func (d *Dump) readBounded(rel string) ([]byte, error) {
	f, err := d.root.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if info.Size() > d.maxFile {
		return nil, fmt.Errorf("%d bytes, over the limit of %d for a YAML file: not read", info.Size(), d.maxFile)
	}
	if d.overTotal {
		return nil, nil
	}
	if d.read+info.Size() > d.maxTotal {
		d.overTotal = true
		return nil, fmt.Errorf("reading it would pass the limit of %d bytes of YAML for the whole dump: neither it nor any file after it is read", d.maxTotal)
	}
	d.read += info.Size()
	data, err := io.ReadAll(io.LimitReader(f, d.maxFile+1))
	if err == nil && int64(len(data)) > d.maxFile {
		return nil, fmt.Errorf("over the limit of %d bytes for a YAML file: not read", d.maxFile)
	}
	return data, err
}

// decodeDocument decodes one YAML document: an object of kind k, or a list whose items are.
func (d *Dump) decodeDocument(rel string, node *yaml.Node, k kind) {
	if node.Kind != yaml.MappingNode {
		d.problem(rel, node.Line, errors.New("not a Kubernetes object: the document is not a mapping"))
		return
	}
	apiVersion, kindName := scalar(node, "apiVersion"), scalar(node, "kind")
	items := field(node, "items")
	if strings.HasSuffix(kindName, "List") && items != nil {
		if items.Kind == yaml.ScalarNode && items.Tag == "!!null" {
			return // an empty list, as printed from a nil slice
		}
		if items.Kind != yaml.SequenceNode {
			d.problem(rel, items.Line, errors.New("items is not a list"))
			return
		}
		// Items of a typed list (PodList) carry no kind of their own; those of a List (what oc prints) do.
		itemGVK := schema.FromAPIVersionAndKind(apiVersion, strings.TrimSuffix(kindName, "List"))
		for _, item := range items.Content {
			o, err := d.decodeObject(rel, item, k, itemGVK, 0)
			d.add(k, o, err)
		}
		return
	}
	o, err := d.decodeObject(rel, node, k, schema.GroupVersionKind{}, 0)
	d.add(k, o, err)
}

// decodeObject decodes one object into the scheme's type, through JSON as the API machinery does. It only reads d,
// so items are decoded in parallel.
func (d *Dump) decodeObject(rel string, node *yaml.Node, k kind, listGVK schema.GroupVersionKind, lineOffset int) (client.Object, error) {
	line := node.Line + lineOffset
	fail := func(err error) (client.Object, error) {
		return nil, &FileError{Path: filepath.Join(d.dir, rel), Line: line, Err: err}
	}
	var value any
	if err := node.Decode(&value); err != nil {
		_, msg := yamlLine(err)
		return fail(errors.New(msg))
	}
	m, ok := value.(map[string]any)
	if !ok {
		return fail(errors.New("not a Kubernetes object: not a mapping"))
	}
	apiVersion, _ := m["apiVersion"].(string)
	kindName, _ := m["kind"].(string)
	gvk := schema.FromAPIVersionAndKind(apiVersion, kindName)
	if apiVersion == "" && kindName == "" {
		gvk = listGVK
	}
	if gvk.GroupKind() != k.gvk.GroupKind() {
		return fail(fmt.Errorf("a %s %s where oc adm inspect writes %s: skipped", apiVersion, kindName, k))
	}
	if gvk.Version != k.gvk.Version {
		return fail(fmt.Errorf("%s %s is a version ocl-guard does not read: it reads %s", apiVersion, kindName, k.gvk.GroupVersion()))
	}
	data, err := json.Marshal(m)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", kindName, err))
	}
	obj, err := d.scheme.New(k.gvk)
	if err != nil {
		return fail(err)
	}
	if err := json.Unmarshal(data, obj); err != nil {
		return fail(fmt.Errorf("%s %s: %w", kindName, nameOf(m), err))
	}
	o, ok := obj.(client.Object)
	if !ok || o.GetName() == "" {
		return fail(fmt.Errorf("%s without metadata.name: skipped", kindName))
	}
	if k.namespaced != (o.GetNamespace() != "") {
		return fail(fmt.Errorf("%s %s: metadata.namespace %q does not fit a %s kind: skipped", kindName, o.GetName(), o.GetNamespace(), scope(k)))
	}
	o.GetObjectKind().SetGroupVersionKind(k.gvk)
	o.SetManagedFields(nil) // nothing reads them, and they can be most of an object
	return o, nil
}

// add keeps an object decoded, or its problem.
func (d *Dump) add(k kind, o client.Object, err error) {
	if err != nil {
		d.problems = append(d.problems, err)
		return
	}
	d.keep(k, o)
}

func scope(k kind) string {
	if k.namespaced {
		return "namespaced"
	}
	return "cluster-scoped"
}

// keep stores an object; one met twice (in a list file and in its own file, or in two images' directories) is
// kept in its newest version.
func (d *Dump) keep(k kind, o client.Object) {
	byKey := d.objects[k.gvk.GroupKind()]
	if byKey == nil {
		byKey = map[client.ObjectKey]client.Object{}
		d.objects[k.gvk.GroupKind()] = byKey
	}
	key := client.ObjectKeyFromObject(o)
	if old, ok := byKey[key]; ok && resourceVersion(old) > resourceVersion(o) {
		return
	}
	byKey[key] = o
}

func resourceVersion(o client.Object) uint64 {
	v, _ := strconv.ParseUint(o.GetResourceVersion(), 10, 64)
	return v
}

func nameOf(m map[string]any) string {
	meta, _ := m["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	return name
}

// scalar returns the value of a mapping's scalar key, "" when absent.
func scalar(node *yaml.Node, key string) string {
	if v := field(node, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

func field(node *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return node.Content[i+1]
		}
	}
	return nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlLine splits go-yaml's "yaml: line N: message" into the line and the message.
func yamlLine(err error) (int, string) {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, m[2]
	}
	return 0, strings.TrimPrefix(err.Error(), "yaml: ")
}

// readTimestamp reads base/timestamp: time.Time.String() lines, one when inspect starts and one when it ends.
func (d *Dump) readTimestamp(base string) {
	rel := path.Join(base, "timestamp")
	if !d.isRegular(rel) {
		return
	}
	f, err := d.root.Open(rel)
	if err != nil {
		return
	}
	defer f.Close()
	scanner := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for scanner.Scan() {
		text, _, _ := strings.Cut(strings.TrimSpace(scanner.Text()), " m=") // the monotonic clock reading
		if t, err := time.Parse("2006-01-02 15:04:05.999999999 -0700 MST", text); err == nil && t.After(d.gatheredAt) {
			d.gatheredAt = t
		}
	}
}

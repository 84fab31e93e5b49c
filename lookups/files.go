package lookups

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"k8s.io/utils/lru"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
)

// ErrNotInFiles is what Files answers for an object the manifests do not hold. It is not a NotFound: offline, a
// missing Secret may simply live in the cluster, so the rules report it as a warning, not a denial.
var ErrNotInFiles = errors.New("not in the given manifests; check against a cluster with --live")

// alwaysPresentPools exist in every OpenShift cluster, so offline checks take them as given.
var alwaysPresentPools = []string{"master", "worker"}

// Files answers the rules' questions from manifests, for checks in CI without a cluster: the Secrets and
// MachineConfigPools of the files (CheckConfigs fills it while it reads them; it is safe for concurrent use).
//
// It keeps where each object is defined, not the object: a check reads the object from the facts of the file that
// defines it, which stay cached for the last cachedFiles files read or used and are read again after that. So
// memory does not grow with the number of files, and a Secret that every config uses is read once.
type Files struct {
	mu          sync.RWMutex
	keys        [2]map[string]factKey // by kind: namespace/name of a Secret, name of a pool
	latest      []definitionID        // by factKey: the last definition read, 0 when there is none
	definitions []definition          // definitionID n is definitions[n-1]
	cache       *lru.Cache            // *manifestFile → fileFacts
	rereadError error                 // the first file whose objects could not be read again: the check cannot be trusted
}

// cachedFiles is how many files' Secrets and pools Files keeps: more than the files read ahead of the checks
// (CheckConfigs reads and checks a few files at once), so a config's own file is never read twice for its facts.
const cachedFiles = 256

type factKind uint8

const (
	secretFact factKind = iota
	poolFact
)

// factKey numbers a Secret's namespace/name or a pool's name, so that a check records what it looked up in a few
// bytes, however long the names.
type factKey uint32

// definitionID numbers the definitions in the order read; 0 is "not defined". A definition always stands for the
// same object, so comparing two IDs compares the answers they give.
type definitionID uint32

// definition is where an object is defined: the index-th Secret (or pool) of file.
type definition struct {
	file  *manifestFile
	index int
}

// fileFacts are the Secrets and pools of one file.
type fileFacts struct {
	secrets []*corev1.Secret
	pools   []*mcfgv1.MachineConfigPool
}

var _ validators.Source = (*Files)(nil)

func (f *Files) MCOSecret(_ context.Context, name string) (*corev1.Secret, error) {
	return secretAnswer(f.secretAt(mco.Namespace + "/" + name))
}

func (f *Files) ClusterPullSecret(context.Context) (*corev1.Secret, error) {
	return secretAnswer(f.secretAt(ClusterPullSecretKey.String()))
}

func (f *Files) MachineConfigPool(_ context.Context, name string) (*mcfgv1.MachineConfigPool, error) {
	_, id := f.definitionOf(poolFact, name)
	return poolAnswer(name, f.poolOf(name, id))
}

func (f *Files) secretAt(key string) *corev1.Secret {
	_, id := f.definitionOf(secretFact, key)
	return f.secretOf(key, id)
}

// definitionOf is the key of the Secret at namespace/name or the pool of that name, and its last definition read.
func (f *Files) definitionOf(kind factKind, name string) (factKey, definitionID) {
	f.mu.RLock()
	key, ok := f.keys[kind][name]
	if ok {
		defer f.mu.RUnlock()
		return key, f.latest[key]
	}
	f.mu.RUnlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	key = f.keyLocked(kind, name)
	return key, f.latest[key]
}

func (f *Files) keyLocked(kind factKind, name string) factKey {
	if key, ok := f.keys[kind][name]; ok {
		return key
	}
	if f.keys[kind] == nil {
		f.keys[kind] = map[string]factKey{}
	}
	key := factKey(len(f.latest))
	f.keys[kind][name] = key
	f.latest = append(f.latest, 0)
	return key
}

// definitionAt is where the definition id is; the zero definition for 0.
func (f *Files) definitionAt(id definitionID) definition {
	if id == 0 {
		return definition{}
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.definitions[id-1]
}

// secretOf is the Secret at key (namespace/name) that id defines; nil when id is 0, or when its file, read again, no
// longer holds it (rereadError).
func (f *Files) secretOf(key string, id definitionID) *corev1.Secret {
	d := f.definitionAt(id)
	facts := f.factsOf(d)
	if facts == nil {
		return nil
	}
	if d.index < len(facts.secrets) {
		if s := facts.secrets[d.index]; s.Namespace+"/"+s.Name == key {
			return s
		}
	}
	f.changed(d.file, fmt.Errorf("the Secret %s is not where it was", key))
	return nil
}

// poolOf is the pool named name that id defines, as secretOf.
func (f *Files) poolOf(name string, id definitionID) *mcfgv1.MachineConfigPool {
	d := f.definitionAt(id)
	facts := f.factsOf(d)
	if facts == nil {
		return nil
	}
	if d.index < len(facts.pools) && facts.pools[d.index].Name == name {
		return facts.pools[d.index]
	}
	f.changed(d.file, fmt.Errorf("the MachineConfigPool %s is not where it was", name))
	return nil
}

// factsOf is the facts of d's file, from the cache or read again.
func (f *Files) factsOf(d definition) *fileFacts {
	if d.file == nil {
		return nil
	}
	if cached, ok := f.cache.Get(d.file); ok {
		return cached.(*fileFacts)
	}
	contents, err := d.file.read()
	if err != nil {
		f.changed(d.file, err)
		return nil
	}
	return f.remember(d.file, contents)
}

// changed records that file, read again, no longer holds what it held: the configs were judged on what it held, so
// the check cannot be trusted (CheckConfigs returns the error).
func (f *Files) changed(file *manifestFile, why error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rereadError == nil {
		f.rereadError = fmt.Errorf("%s changed while it was being checked: %w", file.name, why)
	}
}

func secretAnswer(s *corev1.Secret) (*corev1.Secret, error) {
	if s == nil {
		return nil, ErrNotInFiles
	}
	return s, nil
}

func poolAnswer(name string, p *mcfgv1.MachineConfigPool) (*mcfgv1.MachineConfigPool, error) {
	if p != nil {
		return p, nil
	}
	if slices.Contains(alwaysPresentPools, name) {
		return &mcfgv1.MachineConfigPool{}, nil
	}
	// A custom pool must come with the config: a MachineOSConfig for a pool that is defined nowhere is a mistake
	// worth denying even offline.
	return nil, apierrors.NewNotFound(schema.GroupResource{Group: mcfgv1.GroupName, Resource: "machineconfigpools"}, name)
}

// StdinName is the file name of manifests read from standard input.
const StdinName = "standard input"

// walkManifests visits, in order, the manifest files of paths (*.yaml, *.yml, *.json, recursively, hidden entries
// such as .git skipped; a path named explicitly is read whatever its extension; "-" is standard input, e.g.
// `kustomize build | ocl-guard check -f -`, read here at once). It stops at the first error, which it passes to
// visit in the place where it occurred, or when visit returns false.
func walkManifests(paths []string, visit func(*manifestFile, error) bool) {
	errStop := errors.New("stop")
	for _, path := range paths {
		if path == "-" {
			data, err := io.ReadAll(os.Stdin)
			if err != nil {
				visit(nil, fmt.Errorf("reading %s: %w", StdinName, err))
				return
			}
			if !visit(&manifestFile{name: StdinName, isStdin: true, stdin: data}, nil) {
				return
			}
			continue
		}
		err := filepath.WalkDir(path, func(file string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if file != path && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || (file != path && !hasManifestExt(file)) {
				return nil
			}
			if !visit(&manifestFile{name: file}, nil) {
				return errStop
			}
			return nil
		})
		if err != nil {
			if !errors.Is(err, errStop) {
				visit(nil, err)
			}
			return
		}
	}
}

func hasManifestExt(file string) bool {
	ext := strings.ToLower(filepath.Ext(file))
	return ext == ".yaml" || ext == ".yml" || ext == ".json"
}

// manifestFile is a file to read, or standard input as read (kept, so that a config can be checked again).
type manifestFile struct {
	name    string
	isStdin bool
	stdin   []byte
}

// fileContents are the objects of one file that the rules care about, in the order read: the Secrets and pools as
// the API server would store them, the MachineOSConfigs as read (check validates them against the CRD before
// decoding them, as the API server does). Other kinds are ignored, so an installer's manifests/ directory or a whole
// GitOps repository can be given as is.
type fileContents struct {
	secrets []*corev1.Secret
	pools   []*mcfgv1.MachineConfigPool
	configs []*Manifest
}

func (mf *manifestFile) read() (fileContents, error) {
	if mf.isStdin {
		return readContents(mf.name, bytes.NewReader(mf.stdin))
	}
	r, err := os.Open(mf.name)
	if err != nil {
		return fileContents{}, err
	}
	defer r.Close()
	return readContents(mf.name, r)
}

func readContents(name string, r io.Reader) (fileContents, error) {
	var c fileContents
	manifests, err := readManifests(name, r)
	if err != nil {
		return c, err
	}
	for _, m := range manifests {
		if err := c.add(m); err != nil {
			u := unstructured.Unstructured{Object: m.Object}
			return c, fmt.Errorf("%s:%d (%s %q): %w", m.File, m.Line, u.GetKind(), u.GetName(), err)
		}
	}
	return c, nil
}

func (c *fileContents) add(m *Manifest) error {
	u := &unstructured.Unstructured{Object: m.Object}
	switch u.GroupVersionKind() {
	case mcfgv1.GroupVersion.WithKind("MachineOSConfig"):
		c.configs = append(c.configs, m)
	case mcfgv1.GroupVersion.WithKind("MachineConfigPool"):
		var pool mcfgv1.MachineConfigPool
		if err := fromUnstructured(u, &pool); err != nil {
			return err
		}
		c.pools = append(c.pools, &pool)
	case corev1.SchemeGroupVersion.WithKind("Secret"):
		var secret corev1.Secret
		if err := fromUnstructured(u, &secret); err != nil {
			return err
		}
		// The API server moves stringData into data on write; do the same so the rules see what it would store.
		for k, v := range secret.StringData {
			if secret.Data == nil {
				secret.Data = map[string][]byte{}
			}
			secret.Data[k] = []byte(v)
		}
		secret.StringData = nil
		if secret.Type == "" {
			secret.Type = corev1.SecretTypeOpaque
		}
		c.secrets = append(c.secrets, &secret)
	}
	return nil
}

// learn adds the Secrets and pools of one file; a later definition of the same object replaces an earlier one.
func (f *Files) learn(file *manifestFile, c fileContents) {
	f.mu.Lock()
	define := func(kind factKind, name string, index int) {
		f.definitions = append(f.definitions, definition{file: file, index: index})
		f.latest[f.keyLocked(kind, name)] = definitionID(len(f.definitions))
	}
	for i, s := range c.secrets {
		define(secretFact, s.Namespace+"/"+s.Name, i)
	}
	for i, p := range c.pools {
		define(poolFact, p.Name, i)
	}
	f.mu.Unlock()
	f.remember(file, c)
}

// remember caches the Secrets and pools of file as read, whenever it is read: first by learn, again by a check whose
// facts left the cache or by the re-check of its configs.
func (f *Files) remember(file *manifestFile, c fileContents) *fileFacts {
	f.mu.Lock()
	if f.cache == nil {
		f.cache = lru.New(cachedFiles)
	}
	cache := f.cache
	f.mu.Unlock()
	facts := &fileFacts{secrets: c.secrets, pools: c.pools}
	cache.Add(file, facts)
	return facts
}

// err is the first file that could not be read again.
func (f *Files) err() error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.rereadError
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true)
}

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
type Files struct {
	mu      sync.RWMutex
	secrets map[string]*corev1.Secret // namespace/name
	pools   map[string]*mcfgv1.MachineConfigPool
}

var _ validators.Source = (*Files)(nil)

func (f *Files) MCOSecret(_ context.Context, name string) (*corev1.Secret, error) {
	return secretAnswer(f.secretAt(mco.Namespace + "/" + name))
}

func (f *Files) ClusterPullSecret(context.Context) (*corev1.Secret, error) {
	return secretAnswer(f.secretAt(ClusterPullSecretKey.String()))
}

func (f *Files) MachineConfigPool(_ context.Context, name string) (*mcfgv1.MachineConfigPool, error) {
	return poolAnswer(name, f.poolNamed(name))
}

// secretAt is the Secret at namespace/name as the files define it last, nil when they don't.
func (f *Files) secretAt(key string) *corev1.Secret {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.secrets[key]
}

func (f *Files) poolNamed(name string) *mcfgv1.MachineConfigPool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.pools[name]
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
func (f *Files) learn(c fileContents) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.secrets == nil {
		f.secrets, f.pools = map[string]*corev1.Secret{}, map[string]*mcfgv1.MachineConfigPool{}
	}
	for _, s := range c.secrets {
		f.secrets[s.Namespace+"/"+s.Name] = s
	}
	for _, p := range c.pools {
		f.pools[p.Name] = p
	}
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true)
}

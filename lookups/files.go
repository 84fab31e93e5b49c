package lookups

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

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

// Files answers the rules' questions from manifests, for checks in CI without a cluster.
type Files struct {
	// Configs are the MachineOSConfigs as read, in the order read.
	Configs []*Manifest
	secrets map[string]*corev1.Secret // namespace/name
	pools   map[string]*mcfgv1.MachineConfigPool
}

var _ validators.Source = (*Files)(nil)

func (f *Files) MCOSecret(_ context.Context, name string) (*corev1.Secret, error) {
	return f.secret(mco.Namespace, name)
}

func (f *Files) ClusterPullSecret(context.Context) (*corev1.Secret, error) {
	return f.secret(mco.ClusterPullSecretNamespace, mco.ClusterPullSecretName)
}

func (f *Files) secret(namespace, name string) (*corev1.Secret, error) {
	if s, ok := f.secrets[namespace+"/"+name]; ok {
		return s, nil
	}
	return nil, ErrNotInFiles
}

func (f *Files) MachineConfigPool(_ context.Context, name string) (*mcfgv1.MachineConfigPool, error) {
	if p, ok := f.pools[name]; ok {
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

// LoadFiles reads manifests from files and directories (*.yaml, *.yml, *.json, recursively, hidden entries such as
// .git skipped; "-" is standard input, e.g. `kustomize build | ocl-guard check -f -`) and keeps the MachineOSConfigs,
// Secrets and MachineConfigPools. Other kinds are ignored, so an installer's manifests/ directory or a whole GitOps
// repository can be given as is.
func LoadFiles(paths ...string) (*Files, error) {
	f := &Files{secrets: map[string]*corev1.Secret{}, pools: map[string]*mcfgv1.MachineConfigPool{}}
	for _, path := range paths {
		if err := f.loadPath(path); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (f *Files) loadPath(path string) error {
	if path == "-" {
		return f.loadStream(StdinName, os.Stdin)
	}
	return filepath.WalkDir(path, func(file string, d os.DirEntry, err error) error {
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
		r, err := os.Open(file)
		if err != nil {
			return err
		}
		defer r.Close()
		return f.loadStream(file, r)
	})
}

func hasManifestExt(file string) bool {
	ext := strings.ToLower(filepath.Ext(file))
	return ext == ".yaml" || ext == ".yml" || ext == ".json"
}

func (f *Files) loadStream(name string, r io.Reader) error {
	manifests, err := readManifests(name, r)
	if err != nil {
		return err
	}
	for _, m := range manifests {
		if err := f.add(m); err != nil {
			u := unstructured.Unstructured{Object: m.Object}
			return fmt.Errorf("%s:%d (%s %q): %w", m.File, m.Line, u.GetKind(), u.GetName(), err)
		}
	}
	return nil
}

func (f *Files) add(m *Manifest) error {
	u := &unstructured.Unstructured{Object: m.Object}
	switch u.GroupVersionKind() {
	case mcfgv1.GroupVersion.WithKind("MachineOSConfig"):
		// Kept as read: check validates it against the CRD before decoding it, as the API server does.
		f.Configs = append(f.Configs, m)
	case mcfgv1.GroupVersion.WithKind("MachineConfigPool"):
		var pool mcfgv1.MachineConfigPool
		if err := fromUnstructured(u, &pool); err != nil {
			return err
		}
		f.pools[pool.Name] = &pool
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
		f.secrets[secret.Namespace+"/"+secret.Name] = &secret
	}
	return nil
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true)
}

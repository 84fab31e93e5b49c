package lookups

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/sourcegraph/conc/pool"
	"github.com/sourcegraph/conc/stream"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
)

// ConfigCheck judges one MachineOSConfig read from a file. facts answers the rules' questions from the Secrets and
// pools of all the files; the check must read them through it (and nothing it returns may hold m, which is dropped
// once checked).
type ConfigCheck[R any] func(m *Manifest, facts validators.Source) R

// CheckConfigs reads the manifests of paths (see walkManifests) and checks every MachineOSConfig they hold, with the
// Secrets and pools of all the files as facts: the result of each config is what check returns when every file has
// been read, and results come in the order the configs were read. The first file that cannot be read is the error,
// and nothing is returned with it. workers files are read and workers configs checked at once (GOMAXPROCS when 0).
//
// Memory does not grow with the objects read: a config is dropped once checked, and of the Secrets and pools only
// where they are defined stays (Files). A config is checked as soon as its file is read, against the facts read so far, and its lookups are recorded;
// once every file is read, the configs whose lookups a later file answered differently (a Secret defined after its
// config, or defined twice) are checked again, their files read a second time.
func CheckConfigs[R any](paths []string, workers int, check ConfigCheck[R]) ([]R, error) {
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	facts := &Files{}
	type entry struct {
		file    *manifestFile
		index   int // among the file's configs
		result  R
		lookups []lookup
	}
	var (
		entries  []*entry
		firstErr error       // set by the reads' callbacks, which run one at a time in the order of the files
		failed   atomic.Bool // firstErr is set: skip the remaining work
	)
	reads := stream.New().WithMaxGoroutines(workers)
	checks := pool.New().WithMaxGoroutines(workers)
	walkManifests(paths, func(file *manifestFile, walkErr error) bool {
		reads.Go(func() stream.Callback {
			if failed.Load() {
				return func() {}
			}
			contents, err := fileContents{}, walkErr
			if err == nil {
				contents, err = file.read()
			}
			return func() {
				if failed.Load() {
					return
				}
				if err != nil {
					firstErr = err
					failed.Store(true)
					return
				}
				facts.learn(file, contents)
				for i, m := range contents.configs {
					e := &entry{file: file, index: i}
					entries = append(entries, e)
					checks.Go(func() {
						rec := &recorder{files: facts, lookups: make([]lookup, 0, 8)} // a check makes about six
						e.result = check(m, rec)
						e.lookups = rec.lookups
					})
				}
			}
		})
		return !failed.Load()
	})
	reads.Wait()
	checks.Wait()
	if firstErr != nil {
		return nil, firstErr
	}

	// Check again, in order and in parallel across files, the configs that saw facts a later file changed.
	rechecks := stream.New().WithMaxGoroutines(workers)
	for start := 0; start < len(entries); {
		file := entries[start].file
		end := start
		var stale []*entry
		for ; end < len(entries) && entries[end].file == file; end++ {
			if !facts.answersAsBefore(entries[end].lookups) {
				stale = append(stale, entries[end])
			}
		}
		start = end
		if len(stale) == 0 {
			continue
		}
		rechecks.Go(func() stream.Callback {
			contents, err := file.read()
			if err == nil && len(contents.configs) <= stale[len(stale)-1].index {
				err = fmt.Errorf("it holds %d MachineOSConfig(s) now", len(contents.configs))
			}
			if err != nil {
				err = fmt.Errorf("%s changed while it was being checked: %w", file.name, err)
			} else {
				facts.remember(file, contents) // its own Secrets and pools, which the checks below may read, from this read
				for _, e := range stale {
					e.result = check(contents.configs[e.index], facts)
				}
			}
			return func() {
				if err != nil && firstErr == nil {
					firstErr = err
				}
			}
		})
	}
	rechecks.Wait()
	if firstErr == nil {
		firstErr = facts.err()
	}
	if firstErr != nil {
		return nil, firstErr
	}
	results := make([]R, len(entries))
	for i, e := range entries {
		results[i] = e.result
	}
	return results, nil
}

// lookup is one answer the facts gave a check: the last definition of a Secret or pool (0 when there was none).
type lookup struct {
	key        factKey
	definition definitionID
}

// answersAsBefore tells whether the facts, now, give every answer in lookups.
func (f *Files) answersAsBefore(lookups []lookup) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, l := range lookups {
		if f.latest[l.key] != l.definition {
			return false
		}
	}
	return true
}

// recorder answers one check's questions from the files read so far and records the answers it gave.
type recorder struct {
	files   *Files
	mu      sync.Mutex
	lookups []lookup
}

var _ validators.Source = (*recorder)(nil)

// definitionOf is the last definition of the object in the files read so far, recorded once.
func (r *recorder) definitionOf(kind factKind, name string) definitionID {
	key, id := r.files.definitionOf(kind, name)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.lookups, lookup{key, id}) {
		r.lookups = append(r.lookups, lookup{key, id})
	}
	return id
}

func (r *recorder) secretAt(key string) *corev1.Secret {
	return r.files.secretOf(key, r.definitionOf(secretFact, key))
}

func (r *recorder) MCOSecret(_ context.Context, name string) (*corev1.Secret, error) {
	return secretAnswer(r.secretAt(mco.Namespace + "/" + name))
}

func (r *recorder) ClusterPullSecret(context.Context) (*corev1.Secret, error) {
	return secretAnswer(r.secretAt(ClusterPullSecretKey.String()))
}

func (r *recorder) MachineConfigPool(_ context.Context, name string) (*mcfgv1.MachineConfigPool, error) {
	return poolAnswer(name, r.files.poolOf(name, r.definitionOf(poolFact, name)))
}

func (r *recorder) Entitlement(context.Context) (validators.EntitlementSources, error) {
	return entitlementFrom(func(key string) bool { return r.definitionOf(secretFact, key) != 0 })
}

// The cluster-wide facts are the same whatever the files hold.

func (r *recorder) RenderedOSImages(ctx context.Context, name string) (validators.OSImages, error) {
	return r.files.RenderedOSImages(ctx, name)
}

func (r *recorder) ImageConfig(ctx context.Context) (*configv1.Image, error) {
	return r.files.ImageConfig(ctx)
}

func (r *recorder) ClusterImagePolicies(ctx context.Context) ([]configv1.ClusterImagePolicy, error) {
	return r.files.ClusterImagePolicies(ctx)
}

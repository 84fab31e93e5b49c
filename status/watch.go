package status

import (
	"context"
	"errors"
	"fmt"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/gather"
	"github.com/ocl-guard/ocl-guard/mco"
)

// WatchOptions configure Watcher.Run.
type WatchOptions struct {
	Options
	// Debounce gathers a burst of changes (the MCO writes a build's status, its config's annotation and status one
	// after the other) into one new snapshot. Zero means DefaultDebounce.
	Debounce time.Duration
	// Tick re-judges the last snapshots with a new clock, without reading the cluster: elapsed times and the
	// diagnoses' clocks (a build stuck for too long) move on even when nothing changes. Zero: never.
	Tick time.Duration
	// Retry is how long to wait before gathering again after a read failed (the API server restarting, say), when
	// no change comes first. Zero means DefaultRetry.
	Retry time.Duration
	// OnError hears about a gathering that failed and will be retried; nil ignores it.
	OnError func(error)
}

const (
	DefaultDebounce = 100 * time.Millisecond
	DefaultRetry    = time.Second
)

// Watcher follows layered pools through informers (list, then watch; re-listed by client-go's reflector after a
// watch breaks, as when the API server restarts) over the kinds the gatherers read: MachineOSConfigs,
// MachineOSBuilds, MachineConfigPools, the nodes' metadata, and the build Jobs, their pods and the Events about
// builds. Every change of those gathers the snapshots again from the cache; it never polls the API server.
// Kinds it does not watch (ClusterOperator, the machine-os-builder Deployment, what the admission rules read) are
// read from the API server at each gathering.
type Watcher struct {
	cache   cache.Cache
	direct  client.Reader
	changed chan struct{}
}

// watchedKinds are what the informers list and watch, with the namespace each is read from ("" for cluster-scoped
// kinds and for Events, whose informer gather.IndexEvents creates).
func watchedKinds() []client.Object {
	node := &metav1.PartialObjectMetadata{}
	node.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Node")) // GatherPool reads the nodes' metadata only
	return []client.Object{&mcfgv1.MachineOSConfig{}, &mcfgv1.MachineOSBuild{}, &mcfgv1.MachineConfigPool{}, node, &batchv1.Job{}, &corev1.Pod{}}
}

// NewWatcher builds the informers; Run starts them, once per Watcher. direct reads what is not watched.
func NewWatcher(cfg *rest.Config, scheme *runtime.Scheme, direct client.Reader) (*Watcher, error) {
	// Only the build Jobs' pods: the MCO's namespace also runs a daemon pod per node.
	jobPods, err := labels.NewRequirement(mco.LabelJobName, selection.Exists, nil)
	if err != nil {
		return nil, err
	}
	mcoNamespace := map[string]cache.Config{mco.Namespace: {}}
	c, err := cache.New(cfg, cache.Options{
		Scheme: scheme,
		// A read of a kind without an informer fails (and goes to the API server) instead of starting an informer
		// that would block until it syncs, or for ever without the permission to list the kind.
		ReaderFailOnMissingInformer: true,
		ByObject: map[client.Object]cache.ByObject{
			&batchv1.Job{}:  {Namespaces: mcoNamespace},
			&corev1.Pod{}:   {Namespaces: mcoNamespace, Label: labels.NewSelector().Add(*jobPods)},
			&corev1.Event{}: {Namespaces: map[string]cache.Config{mco.EventNamespace: {}}},
		},
	})
	if err != nil {
		return nil, err
	}
	w := &Watcher{cache: c, direct: direct, changed: make(chan struct{}, 1)}
	ctx := context.Background()
	for _, obj := range watchedKinds() {
		if err := w.notifyOn(ctx, obj, nil); err != nil {
			return nil, err
		}
	}
	if err := gather.IndexEvents(ctx, c); err != nil {
		return nil, err
	}
	// Only the Events about builds and configs matter; namespace default holds every cluster-scoped object's.
	about := func(obj any) bool {
		e, ok := obj.(*corev1.Event)
		return ok && (e.InvolvedObject.Kind == "MachineOSBuild" || e.InvolvedObject.Kind == "MachineOSConfig")
	}
	if err := w.notifyOn(ctx, &corev1.Event{}, about); err != nil {
		return nil, err
	}
	return w, nil
}

// notifyOn signals a change of any obj of obj's kind (that filter keeps, when given).
func (w *Watcher) notifyOn(ctx context.Context, obj client.Object, filter func(any) bool) error {
	informer, err := w.cache.GetInformer(ctx, obj)
	if err != nil {
		return fmt.Errorf("watching %T: %w", obj, err)
	}
	signal := func(any) {
		select {
		case w.changed <- struct{}{}:
		default: // a change is already pending: the gathering it causes will see this one too
		}
	}
	var handler toolscache.ResourceEventHandler = toolscache.ResourceEventHandlerFuncs{
		AddFunc: signal, UpdateFunc: func(_, o any) { signal(o) }, DeleteFunc: signal,
	}
	if filter != nil {
		handler = toolscache.FilteringResourceEventHandler{FilterFunc: filter, Handler: handler}
	}
	_, err = informer.AddEventHandler(handler)
	return err
}

// CheckAccess lists each watched kind once, directly, so that a missing permission or an unreachable API server
// is an error now, naming the kind, rather than an informer retrying until the wait times out.
func CheckAccess(ctx context.Context, direct client.Reader) error {
	lists := []struct {
		list      client.ObjectList
		namespace string
	}{
		{&mcfgv1.MachineOSConfigList{}, ""}, {&mcfgv1.MachineOSBuildList{}, ""}, {&mcfgv1.MachineConfigPoolList{}, ""},
		{&metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "NodeList"}}, ""},
		{&batchv1.JobList{}, mco.Namespace}, {&corev1.PodList{}, mco.Namespace}, {&corev1.EventList{}, mco.EventNamespace},
	}
	for _, l := range lists {
		if err := direct.List(ctx, l.list, client.InNamespace(l.namespace), client.Limit(1)); err != nil {
			where := ""
			if l.namespace != "" {
				where = " in namespace " + l.namespace
			}
			return fmt.Errorf("cannot list %T%s, which the watch needs (list and watch; see the README's ClusterRole): %w", l.list, where, err)
		}
	}
	return nil
}

// Run starts the informers and, once they are in sync, hands see the snapshots of every layered pool (or
// opts.Pool): at once, after every change (debounced), and every opts.Tick with the same snapshots on a new clock.
// It returns nil when see returns true, ctx's error when ctx ends (a timeout), and the error of a gathering that
// cannot succeed (the pool is not layered any more); other errors are retried.
func (w *Watcher) Run(ctx context.Context, opts WatchOptions, see func([]Snapshots) bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the informers
	started := make(chan error, 1)
	go func() { started <- w.cache.Start(ctx) }()
	if !w.cache.WaitForCacheSync(ctx) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("the watch did not start: %w", <-started)
	}
	debounce, retry := orDefault(opts.Debounce, DefaultDebounce), orDefault(opts.Retry, DefaultRetry)
	reader := cachedFirst{cache: w.cache, direct: w.direct}
	var tick <-chan time.Time
	if opts.Tick > 0 {
		t := time.NewTicker(opts.Tick)
		defer t.Stop()
		tick = t.C
	}
	var last []Snapshots
	var retryAfter <-chan time.Time // set while a failed gathering waits to be tried again
	gatherNow := true
	for {
		if gatherNow {
			o := opts.Options
			o.Now = time.Now()
			s, err := CollectSnapshots(ctx, reader, o)
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case errors.As(err, new(NotLayeredError)):
				return err
			case err != nil:
				if opts.OnError != nil {
					opts.OnError(err)
				}
				retryAfter = time.After(retry)
			default:
				last, retryAfter = s, nil
				if see(last) {
					return nil
				}
			}
		}
		gatherNow = false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.changed:
			select {
			case <-time.After(debounce):
			case <-ctx.Done():
				return ctx.Err()
			}
			select { // what changed during the debounce is in the cache already
			case <-w.changed:
			default:
			}
			gatherNow = true
		case <-retryAfter:
			gatherNow = true
		case now := <-tick:
			for i := range last {
				last[i].setNow(now)
			}
			if last != nil && see(last) {
				return nil
			}
		}
	}
}

func orDefault(d, fallback time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return fallback
}

// setNow moves the snapshots' clock: what NewReport and Decide judge with.
func (s *Snapshots) setNow(now time.Time) {
	s.Config.Now, s.Pool.Now = now, now
	if s.Build != nil {
		s.Build.Now = now
	}
}

// cachedFirst reads the watched kinds from the cache and the others from the API server.
type cachedFirst struct {
	cache  client.Reader
	direct client.Reader
}

func (r cachedFirst) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	err := r.cache.Get(ctx, key, obj, opts...)
	if errors.As(err, new(*cache.ErrResourceNotCached)) {
		return r.direct.Get(ctx, key, obj, opts...)
	}
	return err
}

func (r cachedFirst) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	err := r.cache.List(ctx, list, opts...)
	if errors.As(err, new(*cache.ErrResourceNotCached)) {
		return r.direct.List(ctx, list, opts...)
	}
	return err
}

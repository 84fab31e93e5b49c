// Package bench measures the checker's reconcile cost and cache memory against a real API server: a layered pool
// of 1,000 nodes and 100 failed builds. Run with `go test -run '^$' -bench . -benchmem ./test/bench/`; the control
// plane starts only when a benchmark runs.
package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/gather"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/test/testbed"
)

const (
	nodes  = 1000
	builds = 100
	pool   = "worker"
	image  = "quay.io/acme/os@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

var (
	setupOnce sync.Once
	setupErr  error
	fixture   struct {
		bed        *testbed.Bed
		cached     client.Client
		cacheBytes uint64
	}
)

// setup starts the control plane, fills it, and syncs a checker cache; the heap growth over the sync is the cache's
// memory.
func setup(b *testing.B) {
	setupOnce.Do(func() { setupErr = fill() })
	if setupErr != nil {
		b.Fatal(setupErr)
	}
}

func fill() error {
	bed, err := testbed.Start(testbed.Options{Settings: config.Defaults()})
	if err != nil {
		return err
	}
	fixture.bed = bed
	ctx := context.Background()
	c := bed.Client
	if err := c.Create(ctx, testbed.LayeredPool(pool)); err != nil {
		return err
	}
	if err := createLayeredConfig(ctx, c); err != nil {
		return err
	}
	if err := createConcurrently(nodes, func(i int) error {
		state, reason := "Done", ""
		if i%10 == 0 {
			state, reason = "Degraded", "failed to update OS to "+image+": error running rpm-ostree rebase: unauthorized: authentication required"
		}
		return c.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name:   fmt.Sprintf("worker-%04d", i),
			Labels: map[string]string{"node-role.kubernetes.io/worker": "", "kubernetes.io/hostname": fmt.Sprintf("worker-%04d", i)},
			Annotations: map[string]string{
				"machineconfiguration.openshift.io/desiredImage": image, "machineconfiguration.openshift.io/currentImage": image,
				"machineconfiguration.openshift.io/state": state, "machineconfiguration.openshift.io/reason": reason,
				"machineconfiguration.openshift.io/desiredConfig": "rendered-worker-abc", "machineconfiguration.openshift.io/currentConfig": "rendered-worker-abc",
			},
		}})
	}); err != nil {
		return err
	}
	if err := createConcurrently(builds, func(i int) error { return createFailedBuild(ctx, c, i) }); err != nil {
		return err
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	scheme, err := app.Scheme()
	if err != nil {
		return err
	}
	opts := app.CheckerCacheOptions()
	opts.Scheme = scheme
	informers, err := cache.New(bed.Config, opts)
	if err != nil {
		return err
	}
	if err := gather.IndexEvents(ctx, informers); err != nil {
		return err
	}
	go func() { _ = informers.Start(ctx) }()
	node := &metav1.PartialObjectMetadata{}
	node.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Node"))
	for _, obj := range []client.Object{node, &mcfgv1.MachineConfigPool{}, &mcfgv1.MachineOSConfig{}, &mcfgv1.MachineOSBuild{}, &corev1.Pod{}, &corev1.Event{}} {
		if _, err := informers.GetInformer(ctx, obj); err != nil {
			return err
		}
	}
	if !informers.WaitForCacheSync(ctx) {
		return fmt.Errorf("cache did not sync")
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	fixture.cacheBytes = after.HeapAlloc - before.HeapAlloc
	fixture.cached, err = client.New(bed.Config, client.Options{Scheme: scheme, Cache: &client.CacheOptions{Reader: informers}})
	return err
}

// createLayeredConfig makes the pool layered: its MachineOSConfig, whose status points at the built image.
func createLayeredConfig(ctx context.Context, c client.Client) error {
	if err := c.Create(ctx, testbed.PushSecret()); err != nil {
		return err
	}
	mosc := testbed.LayeredConfig(pool, "")
	if err := c.Create(ctx, mosc); err != nil {
		return err
	}
	mosc.Status.CurrentImagePullSpec = image
	return c.Status().Update(ctx, mosc)
}

func createFailedBuild(ctx context.Context, c client.Client, i int) error {
	name := fmt.Sprintf("worker-%032x", i)
	build := &mcfgv1.MachineOSBuild{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"machineconfiguration.openshift.io/target-machine-config-pool": pool}},
		Spec: mcfgv1.MachineOSBuildSpec{
			MachineConfig: mcfgv1.MachineConfigReference{Name: "rendered-worker-abc"}, MachineOSConfig: mcfgv1.MachineOSConfigReference{Name: pool},
			RenderedImagePushSpec: mcfgv1.ImageTagFormat("quay.io/acme/os:" + name),
		},
	}
	if err := c.Create(ctx, build); err != nil {
		return err
	}
	start, end := metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second)), metav1.NewTime(time.Now().Truncate(time.Second))
	build.Status = mcfgv1.MachineOSBuildStatus{BuildStart: &start, BuildEnd: &end, Conditions: []metav1.Condition{
		{Type: string(mcfgv1.MachineOSBuildFailed), Status: metav1.ConditionTrue, Reason: "BuildFailed", Message: "Build Failed", LastTransitionTime: end},
	}}
	if err := c.Status().Update(ctx, build); err != nil {
		return err
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "build-" + name + "-x", Namespace: mco.Namespace,
			Labels: map[string]string{"batch.kubernetes.io/job-name": "build-" + name}},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
			InitContainers: []corev1.Container{{Name: "image-build", Image: "builder"}}, Containers: []corev1.Container{{Name: "wait", Image: "builder"}}},
	}
	if err := c.Create(ctx, pod); err != nil {
		return err
	}
	pod.Status = corev1.PodStatus{Phase: corev1.PodFailed, InitContainerStatuses: []corev1.ContainerStatus{{Name: "image-build",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Message: "subprocess exited with status 1\n" +
			`Error: building at STEP "RUN dnf install -y nope": exit status 1`}}}}}
	return c.Status().Update(ctx, pod)
}

// patchCounter counts the reconciler's writes (it writes only with Patch); the steady state should write nothing.
type patchCounter struct {
	client.Client
	n atomic.Int64
}

func (c *patchCounter) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	c.n.Add(1)
	return c.Client.Patch(ctx, obj, patch, opts...)
}

func createConcurrently(n int, create func(int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	work := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range work {
				if err := create(i); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

// BenchmarkPoolReconcile1000Nodes is one reconcile of a layered pool of 1,000 nodes (100 of them degraded), read
// from the metadata-only node cache, with the diagnosis already written (the steady state).
func BenchmarkPoolReconcile1000Nodes(b *testing.B) {
	setup(b)
	writes := &patchCounter{Client: fixture.cached}
	r := &checker.PoolReconciler{Clients: checker.Clients{Client: writes}, Now: time.Now, Recheck: time.Minute}
	req := reconcile.Request{NamespacedName: client.ObjectKey{Name: pool}}
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		b.Fatal(err)
	}
	var p mcfgv1.MachineConfigPool
	if err := fixture.bed.Client.Get(context.Background(), req.NamespacedName, &p); err != nil || p.Annotations[checker.AnnotationDiagnosis] != string(diagnose.NodeImagePullAuth) {
		b.Fatalf("the pool was not diagnosed as expected: %v %v", err, p.Annotations)
	}
	b.ReportAllocs()
	writes.n.Store(0)
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Reconcile(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(fixture.cacheBytes)/(nodes+builds), "cache-B/object")
	b.ReportMetric(float64(writes.n.Load())/float64(b.N), "patches/op")
}

// BenchmarkBuildReconcile100Builds reconciles each of 100 failed builds once per iteration.
func BenchmarkBuildReconcile100Builds(b *testing.B) {
	setup(b)
	writes := &patchCounter{Client: fixture.cached}
	r := &checker.BuildReconciler{Clients: checker.Clients{Client: writes}, Now: time.Now, Limits: diagnose.DefaultBuildLimits(), Recheck: time.Minute, LogLimit: 64 << 10}
	reqs := make([]reconcile.Request, builds)
	for i := range reqs {
		reqs[i] = reconcile.Request{NamespacedName: client.ObjectKey{Name: fmt.Sprintf("worker-%032x", i)}}
	}
	for _, req := range reqs {
		if _, err := r.Reconcile(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	writes.n.Store(0)
	b.ResetTimer()
	for b.Loop() {
		for _, req := range reqs {
			if _, err := r.Reconcile(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(fixture.cacheBytes)/1024/1024, "cache-MiB")
	b.ReportMetric(float64(writes.n.Load())/float64(b.N), "patches/op")
}

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	code := m.Run()
	if fixture.bed != nil {
		_ = fixture.bed.Stop()
	}
	if code != 0 {
		panic(fmt.Sprintf("exit %d", code))
	}
}

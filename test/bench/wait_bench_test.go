package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/status"
	"github.com/ocl-guard/ocl-guard/test/testbed"
)

// BenchmarkWaitReaction measures how soon `ocl-guard wait` (status.Wait, as the CLI runs it) ends after the write
// that decides it, on the cluster of the other benchmarks (1,000 nodes, 100 failed builds in the caches): the last
// node of a 2-node pool reports the new image. Each iteration starts a new wait on a new pool and waits until it
// has judged the pool once before the deciding write; the clock runs from just before that write to Wait's return.
// It reports the median and the slowest reaction.
func BenchmarkWaitReaction(b *testing.B) {
	setup(b)
	c := fixture.bed.Client
	scheme, err := app.Scheme()
	if err != nil {
		b.Fatal(err)
	}
	settings := config.Defaults()
	var reactions []time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		pool := fmt.Sprintf("wait-%d-%d", time.Now().UnixNano(), i)
		if err := almostRolledOut(context.Background(), c, pool); err != nil {
			b.Fatal(err)
		}
		watcher, err := status.NewWatcher(fixture.bed.Config, scheme, c)
		if err != nil {
			b.Fatal(err)
		}
		opts := status.WatchOptions{Options: status.Options{Pool: pool, Checker: settings.Checker,
			Env: app.RuleEnv(settings, &lookups.Cluster{Cached: c, Direct: c}, nil)}, Tick: time.Second}
		judged := &firstJudgement{seen: make(chan struct{})}
		type result struct {
			v   status.Verdict
			err error
			at  time.Time
		}
		done := make(chan result, 1)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		go func() {
			v, _, err := status.Wait(ctx, watcher, opts, status.GoalRollout, judged)
			done <- result{v, err, time.Now()}
		}()
		select {
		case <-judged.seen:
		case r := <-done:
			b.Fatalf("the wait ended before the deciding write: %+v %v", r.v, r.err)
		}
		b.StartTimer()
		wrote := time.Now()
		if err := reportImage(context.Background(), c, pool+"-node-b"); err != nil {
			b.Fatal(err)
		}
		r := <-done
		b.StopTimer()
		cancel()
		if r.err != nil || r.v.Outcome != status.Done {
			b.Fatalf("verdict %+v, error %v", r.v, r.err)
		}
		reactions = append(reactions, r.at.Sub(wrote))
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(reactions)
	b.ReportMetric(float64(reactions[len(reactions)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(reactions[len(reactions)-1].Milliseconds()), "max-ms")
}

// firstJudgement closes seen when the wait has printed its first verdict ("... wait    waiting: ...").
type firstJudgement struct {
	once sync.Once
	seen chan struct{}
}

func (f *firstJudgement) Write(p []byte) (int, error) {
	if strings.Contains(string(p), " waiting: ") {
		f.once.Do(func() { close(f.seen) })
	}
	return io.Discard.Write(p)
}

const waitImage = "quay.io/acme/os@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

// almostRolledOut is a pool whose current build succeeded and whose config points at its image, with one of its 2
// nodes on that image and the pool's status already Updated: only node b's report is missing.
func almostRolledOut(ctx context.Context, c client.Client, pool string) error {
	if err := c.Create(ctx, testbed.LayeredPool(pool)); err != nil {
		return err
	}
	build := pool + "-00112233445566778899aabbccddeeff"
	mosc := testbed.LayeredConfig(pool, build)
	if err := c.Create(ctx, mosc); err != nil {
		return err
	}
	mosc.Status = mcfgv1.MachineOSConfigStatus{ObservedGeneration: mosc.Generation, CurrentImagePullSpec: waitImage,
		MachineOSBuild: &mcfgv1.ObjectReference{Group: mcfgv1.GroupName, Resource: "machineosbuilds", Name: build}}
	if err := c.Status().Update(ctx, mosc); err != nil {
		return err
	}
	mosb := &mcfgv1.MachineOSBuild{
		ObjectMeta: metav1.ObjectMeta{Name: build, Labels: map[string]string{mco.LabelTargetPool: pool}},
		Spec: mcfgv1.MachineOSBuildSpec{MachineConfig: mcfgv1.MachineConfigReference{Name: "rendered-" + pool},
			MachineOSConfig: mcfgv1.MachineOSConfigReference{Name: pool}, RenderedImagePushSpec: mcfgv1.ImageTagFormat("quay.io/acme/os:" + build)},
	}
	if err := c.Create(ctx, mosb); err != nil {
		return err
	}
	start, end := metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second)), metav1.NewTime(time.Now().Add(-time.Minute).Truncate(time.Second))
	mosb.Status = mcfgv1.MachineOSBuildStatus{BuildStart: &start, BuildEnd: &end, DigestedImagePushSpec: waitImage, Conditions: []metav1.Condition{
		{Type: string(mcfgv1.MachineOSBuildSucceeded), Status: metav1.ConditionTrue, Reason: "Ready", Message: "Build Ready", LastTransitionTime: end},
	}}
	if err := c.Status().Update(ctx, mosb); err != nil {
		return err
	}
	for _, n := range []struct{ name, image string }{{pool + "-node-a", waitImage}, {pool + "-node-b", image}} {
		if err := c.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.name,
			Labels:      map[string]string{"node-role.kubernetes.io/" + pool: ""},
			Annotations: map[string]string{mco.AnnotationDesiredImage: waitImage, mco.AnnotationCurrentImage: n.image, mco.AnnotationState: mco.StateWorking},
		}}); err != nil {
			return err
		}
	}
	mcp := &mcfgv1.MachineConfigPool{}
	if err := c.Get(ctx, client.ObjectKey{Name: pool}, mcp); err != nil {
		return err
	}
	mcp.Status.MachineCount, mcp.Status.UpdatedMachineCount, mcp.Status.ReadyMachineCount = 2, 2, 2
	mcp.Status.Conditions = []mcfgv1.MachineConfigPoolCondition{{Type: mcfgv1.MachineConfigPoolUpdated, Status: corev1.ConditionTrue,
		LastTransitionTime: metav1.Now()}}
	return c.Status().Update(ctx, mcp)
}

// reportImage is the machine-config-daemon of a node reporting that it runs waitImage: the deciding write.
func reportImage(ctx context.Context, c client.Client, node string) error {
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q,%q:%q}}}`, mco.AnnotationCurrentImage, waitImage, mco.AnnotationState, mco.StateDone)
	return c.Patch(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}, client.RawPatch("application/merge-patch+json", patch))
}

package restart

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/status"
	"github.com/ocl-guard/ocl-guard/test/testbed"
)

const (
	pool     = "worker"
	build    = "worker-00112233445566778899aabbccddeeff"
	oldImage = "quay.io/acme/os@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	newImage = "quay.io/acme/os@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// The spec plays the MCO as test/e2e does (no MCO runs in envtest): it writes the build's status, the config's
// annotation and status, the pool's status and the nodes' annotations (mco/ cites where each comes from).
var _ = Describe("ocl-guard wait", func() {
	It("sees the build and the rollout end after kube-apiserver restarted in the middle of the build", func() {
		c := bed.Client
		startedBuilding := seedBuildingPool(c)

		scheme, err := app.Scheme()
		Expect(err).NotTo(HaveOccurred())
		watcher, err := status.NewWatcher(bed.Config, scheme, c)
		Expect(err).NotTo(HaveOccurred())
		settings := config.Defaults()
		opts := status.WatchOptions{Tick: time.Second, Options: status.Options{Pool: pool, Checker: settings.Checker,
			Env: app.RuleEnv(settings, &lookups.Cluster{Cached: c, Direct: c}, nil)}}
		progress := gbytes.NewBuffer()
		type result struct {
			v   status.Verdict
			err error
		}
		done := make(chan result, 1)
		waitCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		DeferCleanup(cancel)
		go func() {
			v, _, err := status.Wait(waitCtx, watcher, opts, status.GoalRollout, progress)
			done <- result{v, err}
		}()
		Eventually(func() string { return string(progress.Contents()) }).WithTimeout(time.Minute).Should(ContainSubstring("waiting: MachineOSBuild " + build + " is Building"))

		Expect(bed.RestartAPIServer()).To(Succeed())
		Eventually(func() error { return c.Get(ctx, client.ObjectKey{Name: pool}, &mcfgv1.MachineOSConfig{}) }).
			WithTimeout(time.Minute).Should(Succeed())
		Expect(done).NotTo(Receive(), "the wait ended without a verdict:\n"+string(progress.Contents()))

		// The build succeeds; the MCO points the config at its image (machine-config-operator
		// pkg/controller/build/reconciler.go); the daemons report it and the pool counts both nodes.
		update(c, &mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: build}}, func(o client.Object) {
			b := o.(*mcfgv1.MachineOSBuild)
			end := metav1.NewTime(startedBuilding.Add(time.Minute))
			b.Status.BuildEnd, b.Status.DigestedImagePushSpec = &end, newImage
			b.Status.Conditions = buildConditions(mcfgv1.MachineOSBuildSucceeded, end)
		})
		update(c, &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: pool}}, func(o client.Object) {
			m := o.(*mcfgv1.MachineOSConfig)
			m.Status.CurrentImagePullSpec = newImage
			m.Status.MachineOSBuild = &mcfgv1.ObjectReference{Group: mcfgv1.GroupName, Resource: "machineosbuilds", Name: build}
		})
		for _, n := range []string{pool + "-a", pool + "-b"} {
			annotate(c, n, newImage)
		}
		update(c, &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: pool}}, func(o client.Object) {
			p := o.(*mcfgv1.MachineConfigPool)
			p.Status.UpdatedMachineCount, p.Status.ReadyMachineCount = 2, 2
			p.Status.Conditions = []mcfgv1.MachineConfigPoolCondition{{Type: mcfgv1.MachineConfigPoolUpdated, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
		})

		var r result
		Eventually(done).WithTimeout(time.Minute).Should(Receive(&r), func() string { return string(progress.Contents()) })
		Expect(r.err).NotTo(HaveOccurred(), string(progress.Contents()))
		Expect(r.v.Outcome).To(Equal(status.Done), string(progress.Contents()))
		Expect(r.v.Why).To(Equal("pool worker: 2/2 nodes run " + newImage))
	})
})

// seedBuildingPool: pool worker's 2 nodes run oldImage, and the MCO has started a new build of its MachineOSConfig
// (the current-build annotation names it, the generation is observed), which is Building. It returns the build's
// start.
func seedBuildingPool(c client.Client) time.Time {
	GinkgoHelper()
	Expect(c.Create(ctx, testbed.LayeredPool(pool))).To(Succeed())
	Expect(c.Create(ctx, testbed.PushSecret())).To(Succeed())
	mosc := testbed.LayeredConfig(pool, build)
	Expect(c.Create(ctx, mosc)).To(Succeed())
	mosc.Status = mcfgv1.MachineOSConfigStatus{ObservedGeneration: mosc.Generation, CurrentImagePullSpec: oldImage}
	Expect(c.Status().Update(ctx, mosc)).To(Succeed())

	b := &mcfgv1.MachineOSBuild{
		ObjectMeta: metav1.ObjectMeta{Name: build, Labels: map[string]string{mco.LabelTargetPool: pool}},
		Spec: mcfgv1.MachineOSBuildSpec{MachineConfig: mcfgv1.MachineConfigReference{Name: "rendered-" + pool},
			MachineOSConfig: mcfgv1.MachineOSConfigReference{Name: pool}, RenderedImagePushSpec: mcfgv1.ImageTagFormat("quay.io/acme/os:" + build)},
	}
	Expect(c.Create(ctx, b)).To(Succeed())
	start := metav1.NewTime(time.Now().Truncate(time.Second))
	b.Status = mcfgv1.MachineOSBuildStatus{BuildStart: &start, Conditions: buildConditions(mcfgv1.MachineOSBuilding, start)}
	Expect(c.Status().Update(ctx, b)).To(Succeed())

	for _, n := range []string{pool + "-a", pool + "-b"} {
		Expect(c.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{"node-role.kubernetes.io/" + pool: ""}}})).To(Succeed())
		annotate(c, n, oldImage)
	}
	update(c, &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: pool}}, func(o client.Object) {
		p := o.(*mcfgv1.MachineConfigPool)
		p.Status.MachineCount, p.Status.UpdatedMachineCount, p.Status.ReadyMachineCount = 2, 2, 2
		p.Status.Conditions = []mcfgv1.MachineConfigPoolCondition{{Type: mcfgv1.MachineConfigPoolUpdated, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
	})
	return start.Time
}

// buildConditions are the conditions the MCO sets for a phase (pkg/apihelpers/machineosbuild.go): one True.
func buildConditions(phase mcfgv1.BuildProgress, at metav1.Time) []metav1.Condition {
	var conds []metav1.Condition
	for _, t := range []mcfgv1.BuildProgress{mcfgv1.MachineOSBuildPrepared, mcfgv1.MachineOSBuilding, mcfgv1.MachineOSBuildFailed,
		mcfgv1.MachineOSBuildInterrupted, mcfgv1.MachineOSBuildSucceeded} {
		s := metav1.ConditionFalse
		if t == phase {
			s = metav1.ConditionTrue
		}
		conds = append(conds, metav1.Condition{Type: string(t), Status: s, Reason: string(t), Message: string(t), LastTransitionTime: at})
	}
	return conds
}

// annotate is a node's machine-config-daemon reporting the image it runs (pkg/daemon/constants/constants.go).
func annotate(c client.Client, node, image string) {
	GinkgoHelper()
	update(c, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}, func(o client.Object) {
		o.SetAnnotations(map[string]string{mco.AnnotationDesiredImage: image, mco.AnnotationCurrentImage: image, mco.AnnotationState: mco.StateDone})
	})
}

// update reads obj, edits it and writes it back (its status, for the kinds the MCO writes a status of).
func update(c client.Client, obj client.Object, edit func(client.Object)) {
	GinkgoHelper()
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		edit(obj)
		if _, isNode := obj.(*corev1.Node); isNode {
			return c.Update(ctx, obj)
		}
		return c.Status().Update(ctx, obj)
	})).To(Succeed())
}

package e2e

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/config"
)

// The alerts read ocl_guard_checker_diagnosed_objects as "objects holding this diagnosis now": it must follow the
// annotations the checker writes on the real API server, including when an object is deleted.
var _ = Describe("Checker metrics", Ordered, func() {
	BeforeAll(func() {
		ensureNamespace(checkerNamespace)
		runCtx, stop := context.WithCancel(ctx)
		DeferCleanup(stop)
		mgr, err := app.NewCheckerManager(bed.Config, app.CheckerOptions{
			Settings: config.Defaults(), MetricsAddr: "0", ProbeAddr: "0",
			LeaderElectionNamespace: checkerNamespace, LeaderElectionID: "ocl-guard-metrics-test",
			Logs: &recordedLogs{logs: map[string]string{}}, SeveralPerProcess: true,
		})
		Expect(err).NotTo(HaveOccurred())
		go func() {
			defer GinkgoRecover()
			Expect(mgr.Start(runCtx)).To(Succeed())
		}()
	})

	It("counts the builds holding each diagnosis, and stops counting a deleted one", func() {
		build := newBuild(uniqueName("gauge"), failedStatus())
		newBuildPod(build, failedImageBuild(`Error: pushing image "q" to "docker://quay.io/a/b:c": writing blob: initiating layer upload to /v2/a/b/blobs/uploads/ in quay.io: denied: requested access to the resource is denied`))
		Eventually(diagnosisOf(build)).WithTimeout(30 * time.Second).Should(Equal("PushDenied"))
		// Other specs leave builds behind, diagnosed under their own settings; a PushDenied verdict depends only on
		// the build's pod, so every checker agrees on those and the counts can be compared exactly.
		Eventually(gaugedPushDenied).WithTimeout(30 * time.Second).Should(Equal(annotatedPushDenied()))
		before := annotatedPushDenied()
		Expect(before).To(BeNumerically(">=", 1))

		Expect(kube.Delete(ctx, build)).To(Succeed())
		Eventually(gaugedPushDenied).WithTimeout(30 * time.Second).Should(Equal(before - 1))
		Expect(annotatedPushDenied()).To(Equal(before - 1))
	})
})

// gaugedPushDenied reads the gauge's MachineOSBuild PushDenied series from the registry the checker serves.
func gaugedPushDenied() float64 {
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	var n float64
	for _, f := range families {
		if f.GetName() != checker.MetricDiagnosedObjects {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["kind"] == "MachineOSBuild" && labels["reason"] == "PushDenied" {
				n += m.GetGauge().GetValue()
			}
		}
	}
	return n
}

// annotatedPushDenied counts the MachineOSBuilds in the cluster annotated with diagnosis PushDenied.
func annotatedPushDenied() float64 {
	var builds mcfgv1.MachineOSBuildList
	Expect(kube.List(ctx, &builds)).To(Succeed())
	var n float64
	for _, b := range builds.Items {
		if b.Annotations[checker.AnnotationDiagnosis] == "PushDenied" && b.DeletionTimestamp == nil {
			n++
		}
	}
	return n
}

package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/status"
	"github.com/ocl-guard/ocl-guard/test/testbed"
	"github.com/ocl-guard/ocl-guard/validators"
)

// `ocl-guard status` live against the API server, built and run as the kubectl/oc plugin, with no checker needed.
var _ = Describe("ocl-guard status, as kubectl-ocl_guard", func() {
	It("reports each stage of a layered pool and exits 1 on a problem, 0 when healthy, 2 for a pool that is not layered", func() {
		plugin, kubeconfigPath := oclGuardBinary("kubectl-ocl_guard")
		// stdout, and what went to stderr after it: the settings line with -o json, errors.
		run := func(args ...string) (string, int) {
			stdout, stderr, code := runBinary(plugin, append(args, "--kubeconfig", kubeconfigPath, "--probe-registry=false")...)
			return stdout + stderr, code
		}

		name := uniqueName("s")
		image := "quay.io/acme/os" + builtDigest
		pool, rebuild := seedFailedRebuild(name, image)
		mosc := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: name}}

		text, code := run(name)
		Expect(code).To(Equal(1), text)
		Expect(text).To(SatisfyAll(
			ContainSubstring("pool "+name+": PROBLEM"),
			ContainSubstring("1 config   MachineOSConfig "+name),
			ContainSubstring(string(diagnose.CurrentBuildFailed)),
			ContainSubstring("2 build    MachineOSBuild "+rebuild.Name+": Failed"),
			ContainSubstring(string(diagnose.PushDenied)),
			ContainSubstring("3 rollout  2/2 nodes updated; nodes should run "+image),
			ContainSubstring(string(diagnose.BuildFailedBlocksRollout)),
			ContainSubstring("next: MachineOSBuild "+rebuild.Name+": quay.io accepted the push credentials but denied writing")))
		Expect(text).NotTo(ContainSubstring(fakePassword))

		js, stderr, code := runBinary(plugin, "status", name, "-o", "json", "--kubeconfig", kubeconfigPath, "--probe-registry=false")
		Expect(code).To(Equal(1), js+stderr)
		Expect(stderr).To(Equal("settings: built-in defaults: no Deployment ocl-guard/ocl-guard; give --settings FILE to use others; registries not probed (--probe-registry=false)\n"))
		var reports []status.Report
		Expect(json.Unmarshal([]byte(js), &reports)).To(Succeed(), js)
		Expect(reports).To(HaveLen(1))
		Expect(reports[0].Build.Name).To(Equal(rebuild.Name), "the current build is the annotation's, not the status's")
		Expect(reports[0].Build.Diagnosis.Reason).To(Equal(diagnose.PushDenied))
		Expect(reports[0].Rollout.Image).To(Equal(image))

		// A new build (a failed one is final) succeeds; the nodes get its image.
		newImage := "quay.io/acme/os" + otherDigest
		fixed := newBuildNamed(name, name+"-00112233445566778899aabbccddeeff", succeededStatus(time.Minute, newImage))
		observe(mosc, fixed.Name)
		Expect(kube.Get(ctx, client.ObjectKey{Name: name}, mosc)).To(Succeed())
		mosc.Status.CurrentImagePullSpec = mcfgv1.ImageDigestFormat(newImage)
		mosc.Status.MachineOSBuild = &mcfgv1.ObjectReference{Group: mcfgv1.GroupName, Resource: "machineosbuilds", Name: fixed.Name}
		Expect(kube.Status().Update(ctx, mosc)).To(Succeed())
		for i := range 2 {
			annotateNode(nodeName(name, i), map[string]string{desiredImage: newImage, currentImage: newImage, nodeState: "Done"})
		}
		setPoolStatus(pool, 2, 2, poolCondition(mcfgv1.MachineConfigPoolUpdated, corev1.ConditionTrue, "", ""))
		text, code = run(name)
		Expect(code).To(Equal(0), text)
		Expect(text).To(SatisfyAll(ContainSubstring("pool "+name+": healthy"), ContainSubstring("next: nothing to do")))

		text, code = run("status", uniqueName("not-layered"))
		Expect(code).To(Equal(2), text)
		Expect(text).To(ContainSubstring("is not layered"))
	})
})

// seedFailedRebuild: a rebuild whose push is denied, while the previous image runs on both nodes of the pool.
func seedFailedRebuild(name, image string) (*mcfgv1.MachineConfigPool, *mcfgv1.MachineOSBuild) {
	GinkgoHelper()
	pool := newLayeredPool(name, image, 2)
	newBuild(name, succeededStatus(2*time.Hour, image))
	for i := range 2 {
		annotateNode(nodeName(name, i), map[string]string{desiredImage: image, currentImage: image, nodeState: "Done"})
	}
	rebuild := newBuildNamed(name, name+"-fedcba9876543210fedcba9876543210", failedStatus())
	newBuildPod(rebuild, failedImageBuild(`Error: pushing image "quay.io/acme/os:x" to "docker://quay.io/acme/os:x": writing blob: initiating layer upload to /v2/acme/os/blobs/uploads/ in quay.io: denied: requested access to the resource is denied`))
	observe(&mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: name}}, rebuild.Name)
	setPoolStatus(pool, 2, 2, poolCondition(mcfgv1.MachineConfigPoolImageBuildDegraded, corev1.ConditionTrue, "BuildFailed",
		"Failed to build OS image for pool "+name+" (MachineOSBuild: "+rebuild.Name+"): Failed: Build Failed"))
	return pool, rebuild
}

// runBinary runs the ocl-guard binary and returns what it wrote and its exit code.
func runBinary(binary string, args ...string) (stdout, stderr string, code int) {
	GinkgoHelper()
	cmd := exec.Command(binary, args...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if exitErr, ok := err.(*exec.ExitError); ok {
		return out.String(), errOut.String(), exitErr.ExitCode()
	}
	Expect(err).NotTo(HaveOccurred())
	return out.String(), errOut.String(), 0
}

// The checker and `ocl-guard status` gather and judge with the same code and, through the installed settings, with
// the same settings: on one cluster they must say the same about every stage of every pool.
var _ = Describe("ocl-guard status and the checker, on one cluster", Ordered, func() {
	var (
		install string // the namespace of the installed Deployment and its settings ConfigMap
		stop    context.CancelFunc
	)
	BeforeAll(func() {
		// Settings that change what is said: with the built-in ones, the unobserved config is not late yet (10m) and a
		// deleted push secret is an Error.
		settings := config.Defaults()
		settings.Checker.ConfigObserveAfter = metav1.Duration{Duration: time.Second}
		settings.Checker.Recheck = metav1.Duration{Duration: time.Second}
		settings.Rules[validators.RuleSecretExists] = validators.ActionWarn
		install = uniqueName("ocl-guard-install")
		Expect(testbed.InstallSettings(ctx, kube, install, settings)).To(Succeed())
		playTheOperator()
		// No prober: the registry rules are not probed, by the checker nor by status (--probe-registry=false).
		mgr, err := app.NewCheckerManager(bed.Config, app.CheckerOptions{Registry: prometheus.NewRegistry(),
			Settings: settings, MetricsAddr: "0", ProbeAddr: "0", Logs: &recordedLogs{logs: map[string]string{}}, SeveralPerProcess: true,
		})
		Expect(err).NotTo(HaveOccurred())
		var runCtx context.Context
		runCtx, stop = context.WithCancel(ctx)
		DeferCleanup(func() { stop() })
		go func() {
			defer GinkgoRecover()
			Expect(mgr.Start(runCtx)).To(Succeed())
		}()
	})

	It("says what the checker wrote, reason and severity, for every stage of every pool", func() {
		failed, cannotPull, unobserved, rotated := seedStatusPools("agree")

		// What the checker writes, once it has: each pool's config, current build and pool.
		type written struct{ config, build, pool string }
		want := map[string]written{
			failed:     {string(diagnose.CurrentBuildFailed), string(diagnose.PushDenied), string(diagnose.BuildFailedBlocksRollout)},
			cannotPull: {"", "", string(diagnose.NodeImagePullAuth)},
			unobserved: {string(diagnose.GenerationNotObserved), "", ""},
			rotated:    {string(diagnose.ConfigCheckFailed), "", ""},
		}
		for name, w := range want {
			eventuallyDiagnosed(&mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: name}}, w.config)
			eventuallyDiagnosed(&mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: name}}, w.pool)
		}
		eventuallyDiagnosed(&mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: failed + "-fedcba9876543210fedcba9876543210"}}, want[failed].build)

		binary, kubeconfigPath := oclGuardBinary("ocl-guard")
		statusJSON := func(namespace string) (map[string]status.Report, string) {
			stdout, stderr, _ := runBinary(binary, "status", "-o", "json", "--kubeconfig", kubeconfigPath, "--probe-registry=false", "--ocl-guard-namespace", namespace)
			var reports []status.Report
			Expect(json.Unmarshal([]byte(stdout), &reports)).To(Succeed(), stdout+stderr)
			byPool := map[string]status.Report{}
			for _, r := range reports {
				byPool[r.Pool] = r
			}
			return byPool, stderr
		}
		reports, settingsLine := statusJSON(install)
		Expect(settingsLine).To(HavePrefix("settings: ConfigMap " + install + "/ocl-guard-settings-"))
		for name, w := range want {
			r, ok := reports[name]
			Expect(ok).To(BeTrue(), "no report on pool %s", name)
			mosc := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: name}}
			agree(mosc, r.Config.Diagnosis)
			rules := make([]string, len(r.Config.Rules))
			for i, id := range r.Config.Rules {
				rules[i] = string(id)
			}
			Expect(strings.Join(rules, ",")).To(Equal(annotationsOf(mosc)()[checker.AnnotationRules]), "the failing rules of %s", name)
			if w.build != "" {
				Expect(r.Build).NotTo(BeNil(), "pool %s", name)
			}
			if r.Build != nil {
				agree(&mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: r.Build.Name}}, r.Build.Diagnosis)
			}
			agree(&mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: name}}, r.Rollout.Diagnosis)
		}
		Expect(reports[rotated].Config.Diagnosis.Severity).To(Equal(diagnose.SeverityWarning), "secret-exists is warn in the installed settings")

		// The installed settings are what make them agree: with the built-in ones, status would not.
		defaults, settingsLine := statusJSON(uniqueName("not-installed"))
		Expect(settingsLine).To(HavePrefix("settings: built-in defaults: no Deployment "))
		Expect(defaults[unobserved].Config.Diagnosis).To(BeNil(), "not late yet by the built-in configObserveAfter")
		Expect(defaults[rotated].Config.Diagnosis.Severity).To(Equal(diagnose.SeverityError), "secret-exists is deny by default")
	})
})

// eventuallyDiagnosed waits for the checker to write reason onto obj ("": nothing to wait for).
func eventuallyDiagnosed(obj client.Object, reason string) {
	GinkgoHelper()
	if reason != "" {
		Eventually(diagnosisOf(obj)).WithTimeout(30*time.Second).WithPolling(200*time.Millisecond).Should(Equal(reason), "%T %s", obj, obj.GetName())
	}
}

// agree checks that status says of obj what the checker wrote: the reason of ocl-guard.io/diagnosis (none when d is
// nil) and a severity that matches the checker's Event (Warning for Error and Warning, Normal for Info).
func agree(obj client.Object, d *status.Diagnosis) {
	GinkgoHelper()
	written := annotationsOf(obj)()[checker.AnnotationDiagnosis]
	if d == nil {
		Expect(written).To(BeEmpty(), "status says %T %s is healthy", obj, obj.GetName())
		return
	}
	Expect(string(d.Reason)).To(Equal(written), "%T %s", obj, obj.GetName())
	eventType := corev1.EventTypeWarning
	if d.Severity == diagnose.SeverityInfo {
		eventType = corev1.EventTypeNormal
	}
	Eventually(func() []string {
		var list eventsv1.EventList
		Expect(kube.List(ctx, &list)).To(Succeed())
		var types []string
		for _, e := range list.Items {
			if e.Regarding.Name == obj.GetName() && e.Reason == written {
				types = append(types, e.Type)
			}
		}
		return types
	}).WithTimeout(30*time.Second).WithPolling(200*time.Millisecond).Should(HaveEach(eventType), "the checker's Events on %T %s", obj, obj.GetName())
}

// seedStatusPools plays the MCO into the pools the status specs judge, named from prefix, and returns their names: a
// failed rebuild, nodes that cannot pull the image, a config the MCO has not observed, a config whose push secret
// was deleted.
func seedStatusPools(prefix string) (failed, cannotPull, unobserved, rotated string) {
	image := "quay.io/acme/os" + builtDigest
	failed = uniqueName(prefix)
	seedFailedRebuild(failed, image)

	cannotPull = uniqueName(prefix)
	newLayeredPool(cannotPull, image, 3)
	pulled := newBuild(cannotPull, succeededStatus(time.Minute, image))
	observe(&mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: cannotPull}}, pulled.Name)
	setPoolStatus(&mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: cannotPull}}, 3, 1,
		poolCondition(mcfgv1.MachineConfigPoolUpdating, corev1.ConditionTrue, "", ""))
	annotateNode(nodeName(cannotPull, 0), map[string]string{desiredImage: image, currentImage: image, nodeState: "Done"})
	for _, i := range []int{1, 2} {
		annotateNode(nodeName(cannotPull, i), map[string]string{desiredImage: image, currentImage: "", nodeState: "Degraded",
			nodeReason: "failed to update OS to " + image + " after retries: error running rpm-ostree rebase --experimental ostree-unverified-registry:" + image +
				": error: Creating importer: failed to invoke method OpenImage: reading manifest sha256:0123 in quay.io/acme/os: unauthorized: access to the requested resource is not authorized"})
	}

	unobservedPool := createLayeredPool("quay.io")
	Expect(kube.Create(ctx, unobservedPool.machineOSConfig("quay.io/acme/os:latest"))).To(Succeed())

	rotatedPool := createLayeredPool("quay.io")
	Expect(kube.Create(ctx, rotatedPool.machineOSConfig("quay.io/acme/os:latest"))).To(Succeed())
	observe(&mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: rotatedPool.name}}, "")
	deleteQuietly(dockerConfigSecret(rotatedPool.pushSecret, "quay.io"))
	return failed, cannotPull, unobservedPool.name, rotatedPool.name
}

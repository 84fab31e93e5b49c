package e2e

import (
	"encoding/json"
	"os/exec"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/status"
)

// `ocl-guard status` live against the API server, built and run as the kubectl/oc plugin, with no checker needed.
var _ = Describe("ocl-guard status, as kubectl-ocl_guard", func() {
	It("reports each stage of a layered pool and exits 1 on a problem, 0 when healthy, 2 for a pool that is not layered", func() {
		plugin, kubeconfigPath := oclGuardBinary("kubectl-ocl_guard")
		run := func(args ...string) (string, int) {
			cmd := exec.Command(plugin, append(args, "--kubeconfig", kubeconfigPath, "--probe-registry=false")...)
			out, err := cmd.Output()
			if exitErr, ok := err.(*exec.ExitError); ok {
				return string(out) + string(exitErr.Stderr), exitErr.ExitCode()
			}
			Expect(err).NotTo(HaveOccurred())
			return string(out), 0
		}

		// A rebuild whose push is denied, while the previous image runs on both nodes.
		name := uniqueName("s")
		image := "quay.io/acme/os" + builtDigest
		pool := newLayeredPool(name, image, 2)
		newBuild(name, succeededStatus(2*time.Hour, image))
		for i := range 2 {
			annotateNode(nodeName(name, i), map[string]string{desiredImage: image, currentImage: image, nodeState: "Done"})
		}
		rebuild := newBuildNamed(name, name+"-fedcba9876543210fedcba9876543210", failedStatus())
		newBuildPod(rebuild, failedImageBuild(`Error: pushing image "quay.io/acme/os:x" to "docker://quay.io/acme/os:x": writing blob: initiating layer upload to /v2/acme/os/blobs/uploads/ in quay.io: denied: requested access to the resource is denied`))
		mosc := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: name}}
		observe(mosc, rebuild.Name)
		setPoolStatus(pool, 2, 2, poolCondition(mcfgv1.MachineConfigPoolImageBuildDegraded, corev1.ConditionTrue, "BuildFailed",
			"Failed to build OS image for pool "+name+" (MachineOSBuild: "+rebuild.Name+"): Failed: Build Failed"))

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

		js, code := run("status", name, "-o", "json")
		Expect(code).To(Equal(1), js)
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

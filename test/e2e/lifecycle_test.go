package e2e

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/mco"
)

// describeLifecycle holds the checker specs of a MachineOSConfig's lifecycle: "nothing happens" (the MCO builds
// nothing, and says why only in places a user does not look), and which build is current. The tests play the MCO's
// operator and build controller; the checker runs in the enclosing Ordered container.
func describeLifecycle(eventually func(any) AsyncAssertion) {
	configOf := func(name string) *mcfgv1.MachineOSConfig {
		return &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: name}}
	}
	eventsOn := func(name, reason string) func() []eventsv1.Event {
		return func() []eventsv1.Event {
			var list eventsv1.EventList
			Expect(kube.List(ctx, &list)).To(Succeed())
			var found []eventsv1.Event
			for _, e := range list.Items {
				if e.Regarding.Kind == "MachineOSConfig" && e.Regarding.Name == name && e.Reason == reason {
					found = append(found, e)
				}
			}
			return found
		}
	}

	Describe("nothing happens: why the MCO builds nothing, on the MachineOSConfig", func() {
		AfterEach(playTheOperator)

		It("quotes the operator's refusal to run machine-os-builder, and clears it when the operator recovers", func() {
			name := uniqueName("n")
			newLayeredPool(name, "", 0)
			mosc := configOf(name)
			observe(mosc, "")
			// pkg/controller/build/helpers.go validateSecret, wrapped by pkg/operator/sync.go and status.go.
			refusal := "Failed to resync 4.20.0 because: could not update Machine OS Builder deployment: could not validate renderedImagePushSecret \"gone\" for MachineOSConfig " +
				name + ": secret gone from " + name + " is not found. Did you use the right secret name?"
			setOperatorDegraded(refusal)
			eventually(annotationsOf(mosc)).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.BuilderNotRunning)),
				HaveKeyWithValue(checker.AnnotationMessage, SatisfyAll(ContainSubstring("machine-os-builder"), ContainSubstring("create the secret"))),
				HaveKeyWithValue(checker.AnnotationEvidence, ContainSubstring("Did you use the right secret name?"))))
			eventually(eventsOn(name, string(diagnose.BuilderNotRunning))).Should(HaveLen(1))
			Expect(eventsOn(name, string(diagnose.BuilderNotRunning))()[0].Type).To(Equal(corev1.EventTypeWarning))

			setOperatorDegraded("")
			eventually(annotationsOf(mosc)).Should(BeEmpty())
			eventually(eventsOn(name, "Recovered")).Should(HaveLen(1))
		})

		It("says the builder is not running when its Deployment has no available pod and a build is awaited", func() {
			name := uniqueName("n")
			newLayeredPool(name, "", 0) // never observed: waits for its first build
			setBuilderAvailable(0)
			eventually(annotationsOf(configOf(name))).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.BuilderNotRunning)),
				HaveKeyWithValue(checker.AnnotationEvidence, ContainSubstring("0 of 1 replicas available"))))
			setBuilderAvailable(1)
			eventually(diagnosisOf(configOf(name))).Should(Equal(string(diagnose.GenerationNotObserved)))
			observe(configOf(name), "")
			eventually(annotationsOf(configOf(name))).Should(BeEmpty())
		})

		It("says the pool's non-build degradation blocks the build, and clears it when the pool recovers", func() {
			name := uniqueName("n")
			pool := newLayeredPool(name, "", 1)
			// pkg/controller/build/reconciler.go shouldPreventBuildDueToDegradation.
			setPoolStatus(pool, 1, 0, poolCondition(mcfgv1.MachineConfigPoolRenderDegraded, corev1.ConditionTrue, "RenderDegraded",
				`Failed to render configuration for pool `+name+`: could not generate rendered MachineConfig: Ignition config failed to parse`))
			eventually(annotationsOf(configOf(name))).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.PoolDegradedBlocksBuild)),
				HaveKeyWithValue(checker.AnnotationMessage, ContainSubstring("degraded due to non-build issues")),
				HaveKeyWithValue(checker.AnnotationEvidence, ContainSubstring("Ignition config failed to parse"))))

			setPoolStatus(pool, 1, 0, poolCondition(mcfgv1.MachineConfigPoolRenderDegraded, corev1.ConditionFalse, "", ""))
			observe(configOf(name), name+buildHexSuffix)
			eventually(annotationsOf(configOf(name))).Should(BeEmpty())
		})

		It("notices a spec change the MCO does not pick up, and a rebuild it does not start", func() {
			name := uniqueName("n")
			newLayeredPool(name, "", 0)
			mosc := configOf(name)
			observe(mosc, name+buildHexSuffix)
			editConfig(mosc, func(m *mcfgv1.MachineOSConfig) {
				m.Spec.Containerfile[0].Content = "FROM configs AS final\nRUN rpm-ostree install htop && ostree container commit\n"
			})
			eventually(annotationsOf(mosc)).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.GenerationNotObserved)),
				HaveKeyWithValue(checker.AnnotationEvidence, ContainSubstring("metadata.generation 2, status.observedGeneration 1"))))
			observe(mosc, "")
			eventually(annotationsOf(mosc)).Should(BeEmpty())

			editConfig(mosc, func(m *mcfgv1.MachineOSConfig) { m.Annotations[mco.AnnotationRebuild] = "" })
			eventually(annotationsOf(mosc)).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.RebuildNotStarted)),
				HaveKeyWithValue(checker.AnnotationMessage, ContainSubstring(name+buildHexSuffix))))
			editConfig(mosc, func(m *mcfgv1.MachineOSConfig) { delete(m.Annotations, mco.AnnotationRebuild) }) // the MCO started it
			eventually(annotationsOf(mosc)).Should(BeEmpty())
		})

		It("notes a paused pool holding back a newer build", func() {
			name := uniqueName("n")
			image := "quay.io/acme/os" + builtDigest
			pool := newLayeredPool(name, image, 0)
			observe(configOf(name), name+"-fedcba9876543210fedcba9876543210")
			Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error { // the checker writes annotations on it
				if err := kube.Get(ctx, client.ObjectKeyFromObject(pool), pool); err != nil {
					return err
				}
				pool.Spec.Paused = true
				return kube.Update(ctx, pool)
			})).To(Succeed())
			eventually(annotationsOf(configOf(name))).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.PoolPaused)),
				HaveKeyWithValue(checker.AnnotationSeverity, string(diagnose.SeverityInfo)),
				HaveKeyWithValue(checker.AnnotationMessage, ContainSubstring("oc patch mcp "+name))))
		})
	})

	Describe("the build the MCO follows", func() {
		It("reports a rebuild that fails on the new build and the MachineOSConfig, and judges the rollout against the old image", func() {
			name := uniqueName("r")
			image := "quay.io/acme/os" + builtDigest
			pool := newLayeredPool(name, image, 2) // status: the first build and its image
			previous := newBuild(name, succeededStatus(2*time.Hour, image))
			for i := range 2 {
				annotateNode(nodeName(name, i), map[string]string{desiredImage: image, currentImage: image, nodeState: "Done"})
			}
			setPoolStatus(pool, 2, 2, poolCondition(mcfgv1.MachineConfigPoolUpdated, corev1.ConditionTrue, "", ""))

			// The rebuild starts: the MCO moves the annotation, not the status.
			rebuild := newBuildNamed(name, name+"-fedcba9876543210fedcba9876543210", buildingStatus(time.Minute))
			observe(configOf(name), rebuild.Name)
			Consistently(annotationsOf(configOf(name))).WithTimeout(2 * time.Second).Should(BeEmpty())

			// ... and fails on the push.
			Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error { // the checker annotates the build meanwhile
				if err := kube.Get(ctx, client.ObjectKeyFromObject(rebuild), rebuild); err != nil {
					return err
				}
				start, builder := rebuild.Status.BuildStart, rebuild.Status.Builder // immutable once set (CRD rules)
				rebuild.Status = failedStatus()
				rebuild.Status.BuildStart, rebuild.Status.Builder = start, builder
				return kube.Status().Update(ctx, rebuild)
			})).To(Succeed())
			newBuildPod(rebuild, failedImageBuild(`Error: pushing image "quay.io/acme/os:x" to "docker://quay.io/acme/os:x": writing blob: initiating layer upload to /v2/acme/os/blobs/uploads/ in quay.io: denied: requested access to the resource is denied`))
			setPoolStatus(pool, 2, 2, poolCondition(mcfgv1.MachineConfigPoolUpdated, corev1.ConditionTrue, "", ""),
				poolCondition(mcfgv1.MachineConfigPoolImageBuildDegraded, corev1.ConditionTrue, "BuildFailed",
					"Failed to build OS image for pool "+name+" (MachineOSBuild: "+rebuild.Name+"): Failed: Build Failed"))

			eventually(diagnosisOf(rebuild)).Should(Equal(string(diagnose.PushDenied)))
			eventually(annotationsOf(configOf(name))).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.CurrentBuildFailed)),
				HaveKeyWithValue(checker.AnnotationMessage, SatisfyAll(ContainSubstring(rebuild.Name), ContainSubstring("previous image "+image)))))
			eventually(annotationsOf(pool)).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.BuildFailedBlocksRollout)),
				HaveKeyWithValue(checker.AnnotationMessage, SatisfyAll(ContainSubstring(rebuild.Name), Not(ContainSubstring(previous.Name))))))
			Expect(annotationsOf(previous)()).To(BeEmpty(), "the previous, successful build has nothing wrong")

			var mosc mcfgv1.MachineOSConfig
			Expect(kube.Get(ctx, client.ObjectKey{Name: name}, &mosc)).To(Succeed())
			Expect(string(mosc.Status.CurrentImagePullSpec)).To(Equal(image), "the nodes' image stays the previous build's")
		})
	})
}

package e2e

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	"github.com/prometheus/client_golang/prometheus"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/validators"
)

const checkerNamespace = "ocl-guard"

var _ = Describe("Checker", Ordered, func() {
	var (
		logs     = &recordedLogs{logs: map[string]string{}}
		replicas = []*writeCounter{{counts: map[string]int{}}, {counts: map[string]int{}}}
		stop     context.CancelFunc
	)

	BeforeAll(func() {
		ensureNamespace(checkerNamespace)
		settings := config.Defaults()
		settings.Checker.BuildPendingAfter = metav1.Duration{Duration: 2 * time.Second}
		settings.Checker.Recheck = metav1.Duration{Duration: time.Second}
		settings.Checker.ConfigObserveAfter = metav1.Duration{Duration: observeAfter}
		playTheOperator()
		var runCtx context.Context
		runCtx, stop = context.WithCancel(ctx)
		for _, counter := range replicas {
			mgr, err := app.NewCheckerManager(bed.Config, app.CheckerOptions{
				Settings: settings, MetricsAddr: "0", ProbeAddr: "0", LeaderElectionNamespace: checkerNamespace,
				Logs: logs, WrapClient: counter.wrap, SeveralPerProcess: true, Registry: prometheus.NewRegistry(),
			})
			Expect(err).NotTo(HaveOccurred())
			go func() {
				defer GinkgoRecover()
				Expect(mgr.Start(runCtx)).To(Succeed())
			}()
		}
	})

	AfterAll(func() {
		if stop != nil {
			stop()
		}
	})

	// eventually is patient enough for a leader election and a reconcile.
	eventually := func(actual any) AsyncAssertion {
		return Eventually(actual).WithTimeout(30 * time.Second).WithPolling(200 * time.Millisecond)
	}

	Describe("stage 2: MachineOSBuilds", func() {
		DescribeTable("writes the reason onto the failed build, from the image-build termination message",
			func(reason diagnose.Reason, message string, wantInMessage string) {
				pool := uniqueName("b")
				build := newBuild(pool, failedStatus())
				newBuildPod(build, failedImageBuild(message))
				eventually(annotationsOf(build)).Should(SatisfyAll(
					HaveKeyWithValue(checker.AnnotationDiagnosis, string(reason)),
					HaveKeyWithValue(checker.AnnotationSeverity, string(diagnose.SeverityError)),
					HaveKeyWithValue(checker.AnnotationMessage, SatisfyAll(ContainSubstring(build.Name), ContainSubstring(wantInMessage))),
					HaveKeyWithValue(checker.AnnotationSince, Not(BeEmpty())),
					HaveKeyWithValue(checker.AnnotationEvidence, Not(BeEmpty()))))
			},
			Entry(nil, diagnose.BaseImagePullAuth,
				"+ buildah bud --log-level=DEBUG --storage-driver vfs --authfile=/tmp/base-image-pull-creds/config.json\n"+
					"Error: creating build container: unable to copy from source docker://registry.redhat.io/rhel9/rhel-coreos@sha256:abc: "+
					"initializing source docker://registry.redhat.io/rhel9/rhel-coreos@sha256:abc: reading manifest sha256:abc in "+
					"registry.redhat.io/rhel9/rhel-coreos: unauthorized: access to the requested resource is not authorized",
				"registry.redhat.io"),
			Entry(nil, diagnose.PushAuth,
				`Error: pushing image "quay.io/acme/os:b-1" to "docker://quay.io/acme/os:b-1": writing blob: initiating layer upload to /v2/acme/os/blobs/uploads/ in quay.io: unauthorized: authentication required`,
				"quay.io"),
			Entry(nil, diagnose.PushDenied,
				`Error: pushing image "quay.io/acme/os:b-1" to "docker://quay.io/acme/os:b-1": writing blob: initiating layer upload to /v2/acme/os/blobs/uploads/ in quay.io: denied: requested access to the resource is denied`,
				"quay.io"),
			Entry(nil, diagnose.RegistryUnreachable,
				`Error: pushing image "registry.lab:5000/os:b-1" to "docker://registry.lab:5000/os:b-1": initializing destination: pinging container registry registry.lab:5000: Get "https://registry.lab:5000/v2/": dial tcp: lookup registry.lab on 172.30.0.10:53: no such host`,
				"registry.lab"),
			Entry(nil, diagnose.ContainerfileSyntax,
				`Error: building at STEP "RUNN rpm-ostree install tree": Build error: Unknown instruction: "RUNN" &imagebuilder.Step{Env:[]string{}}`,
				"spec.containerFile"),
			Entry(nil, diagnose.BuildStepFailed,
				"STEP 12/14: RUN /usr/local/bin/setup.sh\nsubprocess exited with status 2\nError: building at STEP \"RUN /usr/local/bin/setup.sh\": exit status 2",
				"exit"),
			// opendatahub-io/notebooks#2408
			Entry(nil, diagnose.EntitlementMissing,
				"STEP 3/4: RUN dnf install -y jq\nUpdating Subscription Management repositories.\nThis system is not registered with an entitlement server. You can use subscription-manager to register.\n"+
					"Error: There are no enabled repositories in \"/etc/yum.repos.d\", \"/etc/yum/repos.d\", \"/etc/distro.repos.d\".\nsubprocess exited with status 1\nError: building at STEP \"RUN dnf install -y jq\": exit status 1",
				"etc-pki-entitlement"),
			// knative/client#1308
			Entry(nil, diagnose.ImageShortName,
				"STEP 1/2: FROM alpine:3\nError: creating build container: short-name resolution enforced but cannot prompt without a TTY",
				"full name"),
			// kata-containers/tests#3832
			Entry(nil, diagnose.RegistryRateLimited,
				"Error: creating build container: unable to copy from source docker://docker.io/library/fedora:40: initializing source docker://docker.io/library/fedora:40: reading manifest 40 in docker.io/library/fedora: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
				"docker.io"),
			// containers/image#1293: Docker Hub denies, then answers 401 with an empty body.
			Entry(nil, diagnose.PushDenied,
				"Error: pushing image \"docker.io/acme/os:b-1\" to \"docker://docker.io/acme/os:b-1\": writing blob: initiating layer upload to /v2/acme/os/blobs/uploads/ in registry-1.docker.io: errors:\n"+
					"denied: requested access to the resource is denied\nerror parsing HTTP 401 response body: unexpected end of JSON input: \"\"",
				"write access"),
			Entry(nil, diagnose.PackageNotFound,
				"STEP 12/14: RUN dnf install -y tmux-nope\nNo match for argument: tmux-nope\nError: Unable to find a match: tmux-nope\n"+
					"subprocess exited with status 1\nError: building at STEP \"RUN dnf install -y tmux-nope\": exit status 1",
				"tmux-nope"),
		)

		It("reads the pod log when the termination message is not enough", func() {
			build := newBuild(uniqueName("b"), failedStatus())
			newBuildPodWithLog(build, failedImageBuild("Error: building at STEP \"RUN rpm-ostree install foo\": exit status 1"), logs,
				"STEP 3/4: RUN rpm-ostree install foo\nerror: Packages not found: foo\nsubprocess exited with status 1\n"+
					"Error: building at STEP \"RUN rpm-ostree install foo\": exit status 1\n")
			eventually(diagnosisOf(build)).Should(Equal(string(diagnose.PackageNotFound)))
		})

		It("says Unknown with the last log lines when nothing matches", func() {
			build := newBuild(uniqueName("b"), failedStatus())
			newBuildPodWithLog(build, failedImageBuild("something odd happened"), logs, "line one\nthe builder gave up for reasons of its own\n")
			eventually(annotationsOf(build)).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.Unknown)),
				HaveKeyWithValue(checker.AnnotationEvidence, ContainSubstring("gave up"))))
		})

		It("flags a builder image that cannot be pulled, and clears it once the pod runs", func() {
			build := newBuild(uniqueName("b"), buildingStatus(time.Minute))
			pod := newBuildPod(build, corev1.PodStatus{
				Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "image-build", Image: builderImage, State: corev1.ContainerState{
					Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: `Back-off pulling image "` + builderImage + `"`}}}},
			})
			eventually(diagnosisOf(build)).Should(Equal(string(diagnose.BuilderImagePull)))

			pod.Status.InitContainerStatuses[0].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}
			pod.Status.InitContainerStatuses[0].Ready = true
			Expect(kube.Status().Update(ctx, pod)).To(Succeed())
			eventually(annotationsOf(build)).Should(BeEmpty())
		})

		It("flags a build running longer than the limit (the MCO sets no deadline)", func() {
			build := newBuild(uniqueName("b"), buildingStatus(3*time.Hour))
			newBuildPod(build, corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{{
				Name: "image-build", Image: builderImage, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}}}})
			eventually(diagnosisOf(build)).Should(Equal(string(diagnose.BuildStuck)))
		})

		It("flags a build pod that stays unscheduled", func() {
			build := newBuild(uniqueName("b"), buildingStatus(time.Minute))
			newBuildPod(build, corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
				Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
				Message: "0/6 nodes are available: 3 Insufficient memory, 3 node(s) had untolerated taint {node-role.kubernetes.io/master: }.",
			}}})
			eventually(annotationsOf(build)).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.BuildPendingTooLong)),
				HaveKeyWithValue(checker.AnnotationEvidence, ContainSubstring("Insufficient memory"))))
		})

		It("reports an interrupted build as Info, in its annotation and its Event", func() {
			status := failedStatus()
			for i := range status.Conditions {
				switch status.Conditions[i].Type {
				case string(mcfgv1.MachineOSBuildFailed):
					status.Conditions[i].Status = metav1.ConditionFalse
				case string(mcfgv1.MachineOSBuildInterrupted):
					status.Conditions[i].Status = metav1.ConditionTrue
					status.Conditions[i].Message = "Build Job deleted"
				}
			}
			build := newBuild(uniqueName("b"), status)
			eventually(annotationsOf(build)).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.Interrupted)),
				HaveKeyWithValue(checker.AnnotationSeverity, string(diagnose.SeverityInfo))))
			eventTypes := func() []string {
				var list eventsv1.EventList
				Expect(kube.List(ctx, &list)).To(Succeed())
				var types []string
				for _, e := range list.Items {
					if e.Regarding.Name == build.Name && e.Reason == string(diagnose.Interrupted) {
						types = append(types, e.Type)
					}
				}
				return types
			}
			eventually(eventTypes).Should(Equal([]string{corev1.EventTypeNormal}))
		})

		It("re-checks the Containerfile of a build the MCO failed before creating any Job, and never points at a Job log", func() {
			// The MachineOSConfig predates ocl-guard (or the webhook was down): let the webhook admit it.
			defer actions.set(validators.RuleContainerfile, validators.ActionWarn)()
			p := createLayeredPool("quay.io")
			mosc := p.machineOSConfig("quay.io/acme/os:latest")
			mosc.Spec.Containerfile[0].Content = "FROM configs AS final\nRUNN rpm-ostree install tree\n"
			Expect(kube.Create(ctx, mosc)).To(Succeed())
			// MCO 5.0+ marks the build Failed with the generic conditions and no builder reference.
			status := failedStatus()
			status.BuildStart, status.BuildEnd = nil, nil
			build := newBuildAsIs(p.name, status)
			eventually(annotationsOf(build)).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.ContainerfileSyntax)),
				HaveKeyWithValue(checker.AnnotationMessage, SatisfyAll(ContainSubstring("failed before any build Job was created"), ContainSubstring("RUNN"), Not(ContainSubstring("oc logs")))),
				HaveKeyWithValue(checker.AnnotationEvidence, ContainSubstring("spec.containerFile[0].content"))))

			// Fixed: the MCO builds again, and the new build, running, has nothing to report.
			// The checker annotates the config meanwhile: edit it as a user would, retrying on a conflict.
			editConfig(mosc, func(m *mcfgv1.MachineOSConfig) {
				m.Spec.Containerfile[0].Content = "FROM configs AS final\nRUN rpm-ostree install tree\n"
			})
			rebuild := &mcfgv1.MachineOSBuild{ObjectMeta: metav1.ObjectMeta{Name: p.name + "-fedcba9876543210fedcba9876543210", Labels: map[string]string{poolLabel: p.name}},
				Spec: build.Spec}
			Expect(kube.Create(ctx, rebuild)).To(Succeed())
			// The pod first, as the MCO's Job creates it before the build reports Building, so that a loaded
			// checker's cache does not see a Building build without its pod (BuildPendingTooLong at the 2s limit).
			newBuildPod(rebuild, corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{{
				Name: "image-build", Image: builderImage, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}}}})
			rebuild.Status = buildingStatus(time.Second)
			rebuild.Status.Builder = &mcfgv1.MachineOSBuilderReference{ImageBuilderType: "Job", Job: &mcfgv1.ObjectReference{
				Group: "batch", Resource: "jobs", Namespace: mco.Namespace, Name: "build-" + rebuild.Name}}
			Expect(kube.Status().Update(ctx, rebuild)).To(Succeed())
			// (Until its pod shows up the rebuild may briefly be BuildPendingTooLong: the suite's pending limit is 2s.)
			eventually(annotationsOf(rebuild)).Should(BeEmpty())
			Consistently(annotationsOf(rebuild)).WithTimeout(3 * time.Second).Should(BeEmpty())
			Expect(diagnosisOf(build)()).To(Equal(string(diagnose.ContainerfileSyntax)), "the failed build keeps its diagnosis")
		})

		It("quotes the MCO's Events for a pod-less failure whose Containerfile parses", func() {
			p := createLayeredPool("quay.io")
			Expect(kube.Create(ctx, p.machineOSConfig("quay.io/acme/os:latest"))).To(Succeed())
			build := newBuildAsIs(p.name, failedStatus())
			eventually(diagnosisOf(build)).Should(Equal(string(diagnose.FailedBeforeJob)))
			// What the MCO's OCLEventRecorder records (pkg/controller/build/ocl_events.go): a core/v1 Event in
			// namespace default, since MachineOSBuilds are cluster-scoped.
			recordMCOEvent("MachineOSBuild", build.Name, "BuildFailed", `Build failed; see MachineOSBuild "`+build.Name+`" status conditions for details`)
			eventually(annotationsOf(build)).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.FailedBeforeJob)),
				HaveKeyWithValue(checker.AnnotationMessage, SatisfyAll(ContainSubstring("deployment/machine-os-builder"), Not(ContainSubstring("job/")))),
				HaveKeyWithValue(checker.AnnotationEvidence, ContainSubstring("Event BuildFailed on MachineOSBuild "+build.Name))))

			// The MCO's Event on the MachineOSConfig names a cause ("Failed to reconcile MachineOSConfig spec change:
			// %v"): it wakes the build the MCO last started (its current-machine-os-build annotation) and decides.
			mosc := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: p.name}}
			patch := []byte(`{"metadata":{"annotations":{"machineconfiguration.openshift.io/current-machine-os-build":"` + build.Name + `"}}}`)
			Expect(kube.Patch(ctx, mosc, client.RawPatch(types.MergePatchType, patch))).To(Succeed())
			recordMCOEvent("MachineOSConfig", p.name, "ConfigReconcileFailed",
				"Failed to reconcile MachineOSConfig spec change: Containerfile validation failed: unknown Dockerfile instruction: RUNN")
			eventually(annotationsOf(build)).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.ContainerfileSyntax)),
				HaveKeyWithValue(checker.AnnotationEvidence, ContainSubstring("unknown Dockerfile instruction: RUNN"))))
		})

		It("flags an evicted build pod while the Job retries, and clears it once the next pod runs", func() {
			build := newBuild(uniqueName("b"), buildingStatus(5*time.Minute))
			newBuildPod(build, corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted",
				Message: "The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 8Gi."})
			eventually(annotationsOf(build)).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.BuildPodEvicted)),
				HaveKeyWithValue(checker.AnnotationEvidence, ContainSubstring("low on resource: ephemeral-storage"))))
			newBuildPod(build, corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{{
				Name: "image-build", Image: builderImage, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}}}})
			eventually(annotationsOf(build)).Should(BeEmpty())
		})

		It("names an OOM-killed build container from the pod status, not its progress lines", func() {
			build := newBuild(uniqueName("b"), failedStatus())
			status := failedImageBuild("Installing: kernel-devel-5.14.0\nRunning scriptlet: kernel-devel")
			status.InitContainerStatuses[0].State.Terminated.Reason = "OOMKilled"
			status.InitContainerStatuses[0].State.Terminated.ExitCode = 137
			newBuildPod(build, status)
			eventually(annotationsOf(build)).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.BuildOOMKilled)),
				HaveKeyWithValue(checker.AnnotationEvidence, ContainSubstring("OOMKilled"))))
		})

		It("leaves a succeeded build alone", func() {
			build := newBuild(uniqueName("b"), succeededStatus(time.Minute, "quay.io/acme/os"+builtDigest))
			Consistently(annotationsOf(build)).WithTimeout(3 * time.Second).Should(BeEmpty())
		})
	})

	Describe("stage 3: pool rollouts, from node annotations", func() {
		It("summarises nodes that cannot pull the image on the pool, and clears it once rolled out", func() {
			name := uniqueName("p")
			image := "quay.io/acme/os" + builtDigest
			pool := newLayeredPool(name, image, 3)
			newBuild(name, succeededStatus(time.Minute, image))
			setPoolStatus(pool, 3, 1, poolCondition(mcfgv1.MachineConfigPoolUpdating, corev1.ConditionTrue, "", ""),
				poolCondition(mcfgv1.MachineConfigPoolNodeDegraded, corev1.ConditionTrue, "", "Node "+nodeName(name, 1)+" is reporting: ..."))
			annotateNode(nodeName(name, 0), map[string]string{desiredImage: image, currentImage: image, nodeState: "Done"})
			pullFailure := "failed to update OS to " + image + " after retries: error running rpm-ostree rebase --experimental ostree-unverified-registry:" + image +
				": error: Creating importer: failed to invoke method OpenImage: failed to invoke method OpenImage: reading manifest sha256:0123 in quay.io/acme/os: " +
				"unauthorized: access to the requested resource is not authorized: exit status 1: timed out waiting for the condition"
			for _, i := range []int{1, 2} {
				annotateNode(nodeName(name, i), map[string]string{desiredImage: image, currentImage: "", nodeState: "Degraded", nodeReason: pullFailure})
			}
			eventually(annotationsOf(pool)).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.NodeImagePullAuth)),
				HaveKeyWithValue(checker.AnnotationMessage, SatisfyAll(
					ContainSubstring("2 nodes"), ContainSubstring(nodeName(name, 1)), ContainSubstring(nodeName(name, 2))))))

			for _, i := range []int{1, 2} {
				annotateNode(nodeName(name, i), map[string]string{currentImage: image, nodeState: "Done", nodeReason: ""})
			}
			setPoolStatus(pool, 3, 3, poolCondition(mcfgv1.MachineConfigPoolUpdated, corev1.ConditionTrue, "", ""))
			eventually(diagnosisOf(pool)).Should(BeEmpty())
		})

		DescribeTable("names the node problem",
			func(reason diagnose.Reason, nodeReasonText string, wantInMessage string) {
				name := uniqueName("p")
				image := "quay.io/acme/os" + builtDigest
				pool := newLayeredPool(name, image, 1)
				newBuild(name, succeededStatus(time.Minute, image))
				setPoolStatus(pool, 1, 0, poolCondition(mcfgv1.MachineConfigPoolUpdating, corev1.ConditionTrue, "", ""))
				annotateNode(nodeName(name, 0), map[string]string{desiredImage: image, nodeState: "Degraded", nodeReason: nodeReasonText})
				eventually(annotationsOf(pool)).Should(SatisfyAll(
					HaveKeyWithValue(checker.AnnotationDiagnosis, string(reason)),
					HaveKeyWithValue(checker.AnnotationMessage, ContainSubstring(wantInMessage))))
			},
			Entry(nil, diagnose.NodeRegistryUnreachable,
				"failed to update OS to quay.io/acme/os"+builtDigest+": error running rpm-ostree rebase --experimental ostree-unverified-registry:quay.io/acme/os"+builtDigest+
					": error: Creating importer: failed to invoke method OpenImage: failed to invoke method OpenImage: pinging container registry quay.io: Get \"https://quay.io/v2/\": dial tcp 10.0.0.1:443: i/o timeout: exit status 1",
				"quay.io"),
			Entry(nil, diagnose.NodeCauseNotRecorded,
				"Failed to update OS to quay.io/acme/os"+builtDigest+" after retries: timed out waiting for the condition",
				"machine-config-daemon"),
			Entry(nil, diagnose.NodeDegraded,
				"unexpected on-disk state validating against rendered-worker-abc: content mismatch for file \"/etc/chrony.conf\"",
				"/etc/chrony.conf"),
		)

		It("blames the failed build when the pool cannot roll out", func() {
			name := uniqueName("p")
			pool := newLayeredPool(name, "", 1)
			newBuild(name, failedStatus())
			setPoolStatus(pool, 1, 1, poolCondition(mcfgv1.MachineConfigPoolImageBuildDegraded, corev1.ConditionTrue, "BuildFailed",
				"Failed to build OS image for pool "+name+" (MachineOSBuild: "+name+buildHexSuffix+"): Failed: Build Failed"))
			eventually(annotationsOf(pool)).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.BuildFailedBlocksRollout)),
				HaveKeyWithValue(checker.AnnotationMessage, ContainSubstring(name+buildHexSuffix))))
		})

		It("notices a built image that no node was given", func() {
			name := uniqueName("p")
			image := "quay.io/acme/os" + builtDigest
			pool := newLayeredPool(name, image, 2)
			newBuild(name, succeededStatus(time.Hour, image))
			setPoolStatus(pool, 2, 2, poolCondition(mcfgv1.MachineConfigPoolUpdated, corev1.ConditionTrue, "", ""))
			eventually(diagnosisOf(pool)).Should(Equal(string(diagnose.RolloutNotStarted)))
		})

		It("keeps the stall clock in an annotation, so a restart does not reset it", func() {
			name := uniqueName("p")
			image := "quay.io/acme/os" + builtDigest
			pool := newLayeredPool(name, image, 3)
			newBuild(name, succeededStatus(2*time.Hour, image))
			setPoolStatus(pool, 3, 1, poolCondition(mcfgv1.MachineConfigPoolUpdating, corev1.ConditionTrue, "", ""))
			annotateNode(nodeName(name, 0), map[string]string{desiredImage: image, currentImage: image, nodeState: "Done"})
			for _, i := range []int{1, 2} {
				annotateNode(nodeName(name, i), map[string]string{desiredImage: image, currentImage: "quay.io/acme/os" + otherDigest, nodeState: "Done"})
			}
			// What an earlier checker remembered: the same one node updated, an hour ago.
			rememberProgress(pool, func(p diagnose.Progress) bool { return p.UpdatedMachineCount == 1 },
				diagnose.Progress{UpdatedMachineCount: 1, Since: time.Now().Add(-time.Hour), Image: image})
			eventually(diagnosisOf(pool)).Should(Equal(string(diagnose.RolloutStalled)))
		})

		It("flags a node rebooting for too long", func() {
			name := uniqueName("p")
			image := "quay.io/acme/os" + builtDigest
			pool := newLayeredPool(name, image, 1)
			newBuild(name, succeededStatus(2*time.Hour, image))
			setPoolStatus(pool, 1, 0, poolCondition(mcfgv1.MachineConfigPoolUpdating, corev1.ConditionTrue, "", ""))
			annotateNode(nodeName(name, 0), map[string]string{desiredImage: image, currentImage: "quay.io/acme/os" + otherDigest, nodeState: "Rebooting"})
			rememberProgress(pool, func(p diagnose.Progress) bool { return p.NodeStateSince[nodeName(name, 0)].State == "Rebooting" },
				diagnose.Progress{Since: time.Now().Add(-time.Hour), Image: image,
					NodeStateSince: map[string]diagnose.StateSince{nodeName(name, 0): {State: "Rebooting", Since: time.Now().Add(-time.Hour)}}})
			eventually(annotationsOf(pool)).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.NodeRebootStuck)),
				HaveKeyWithValue(checker.AnnotationSeverity, string(diagnose.SeverityWarning)),
				HaveKeyWithValue(checker.AnnotationMessage, ContainSubstring(nodeName(name, 0)))))
		})
	})

	Describe("stage 1 again, after admission", func() {
		It("writes findings onto a config whose push secret is deleted later, and clears them when it is back", func() {
			p := createLayeredPool("quay.io")
			mosc := p.machineOSConfig("quay.io/acme/os-image:latest")
			Expect(kube.Create(ctx, mosc)).To(Succeed())
			observe(mosc, "")
			Consistently(diagnosisOf(mosc)).WithTimeout(2 * time.Second).Should(BeEmpty())

			secret := &corev1.Secret{}
			Expect(kube.Get(ctx, client.ObjectKey{Namespace: mco.Namespace, Name: p.pushSecret}, secret)).To(Succeed())
			Expect(kube.Delete(ctx, secret)).To(Succeed())
			eventually(annotationsOf(mosc)).Should(SatisfyAll(
				HaveKeyWithValue(checker.AnnotationDiagnosis, string(diagnose.ConfigCheckFailed)),
				HaveKeyWithValue(checker.AnnotationSeverity, string(diagnose.SeverityError)),
				HaveKeyWithValue(checker.AnnotationRules, string(validators.RuleSecretExists)),
				HaveKeyWithValue(checker.AnnotationMessage, ContainSubstring("spec.renderedImagePushSecret.name"))))

			Expect(kube.Create(ctx, dockerConfigSecret(p.pushSecret, "quay.io"))).To(Succeed())
			eventually(annotationsOf(mosc)).Should(BeEmpty())
			var fresh mcfgv1.MachineOSConfig
			Expect(kube.Get(ctx, client.ObjectKeyFromObject(mosc), &fresh)).To(Succeed())
			Expect(fresh.Spec).To(Equal(mosc.Spec), "the checker never touches spec")
		})
	})

	describeLifecycle(eventually)

	Describe("writes", func() {
		It("patches only when the diagnosis changes", func() {
			build := newBuild(uniqueName("b"), failedStatus())
			newBuildPod(build, failedImageBuild(`Error: pushing image "q" to "docker://quay.io/a/b:c": writing blob: initiating layer upload to /v2/a/b/blobs/uploads/ in quay.io: unauthorized: authentication required`))
			eventually(diagnosisOf(build)).Should(Equal(string(diagnose.PushAuth)))
			writes := func() int { return replicas[0].of(build.Name) + replicas[1].of(build.Name) }
			// The annotation is visible here as soon as the API server has stored the patch, but the checker's Patch
			// call (which counts it) may not have returned yet: a count taken now can miss the PushAuth write itself
			// and see it arrive during Consistently below. Count once the PushAuth write has been counted; the
			// elected replica's controller writes one build at a time, so every earlier write has been counted too.
			wrote := func() []string {
				return append(replicas[0].diagnosesWritten(build.Name), replicas[1].diagnosesWritten(build.Name)...)
			}
			eventually(wrote).Should(ContainElement(string(diagnose.PushAuth)))
			settled := writes()
			// One write per distinct diagnosis seen: the fixture passes through "no pod yet" (FailedBeforeJob) and
			// "pod without status" (Unknown) before the failed pod, so up to three, and never the same one twice in a row.
			Expect(settled).To(BeNumerically("<=", 3))
			for _, r := range replicas {
				written := r.diagnosesWritten(build.Name)
				for i := 1; i < len(written); i++ {
					Expect(written[i]).NotTo(Equal(written[i-1]), "writes of %s left diagnoses %q", build.Name, written)
				}
			}
			// Reconciled again on its own annotation writes (a failed build is not rechecked): no further write.
			Consistently(writes).WithTimeout(4 * time.Second).Should(Equal(settled))

			// The diagnosis is also an Event on the build, recorded once.
			pushAuthEvents := func() []eventsv1.Event {
				var list eventsv1.EventList
				Expect(kube.List(ctx, &list)).To(Succeed())
				var found []eventsv1.Event
				for _, e := range list.Items {
					if e.Regarding.Name == build.Name && e.Reason == string(diagnose.PushAuth) {
						found = append(found, e)
					}
				}
				return found
			}
			eventually(pushAuthEvents).Should(HaveLen(1))
			Expect(pushAuthEvents()[0].Type).To(Equal(corev1.EventTypeWarning))
			Expect(pushAuthEvents()[0].Note).To(ContainSubstring(build.Name))
		})

		It("has exactly one writer among two replicas", func() {
			var lease coordinationv1.Lease
			Expect(kube.Get(ctx, client.ObjectKey{Namespace: checkerNamespace, Name: app.LeaderElectionID}, &lease)).To(Succeed())
			Expect(lease.Spec.HolderIdentity).NotTo(BeNil())
			a, b := replicas[0].of(""), replicas[1].of("")
			Expect(a + b).To(BeNumerically(">", 10))
			Expect(a == 0 || b == 0).To(BeTrue(), "replica writes: %d and %d", a, b)
		})
	})
})

package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/checker"
	"github.com/ocl-guard/ocl-guard/diagnose"
	"github.com/ocl-guard/ocl-guard/mco"
)

// The tests play the MCO and the kubelet: they create builds, pods, pools and nodes and set their status and
// annotations the way those would.

const (
	poolLabel      = "machineconfiguration.openshift.io/target-machine-config-pool"
	desiredImage   = "machineconfiguration.openshift.io/desiredImage"
	currentImage   = "machineconfiguration.openshift.io/currentImage"
	nodeState      = "machineconfiguration.openshift.io/state"
	nodeReason     = "machineconfiguration.openshift.io/reason"
	builtDigest    = "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	otherDigest    = "@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	builderImage   = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	buildHexSuffix = "-0123456789abcdef0123456789abcdef"
)

// recordedLogs stands in for the pods/log subresource, which needs a kubelet.
type recordedLogs struct {
	mu   sync.Mutex
	logs map[string]string
}

func (r *recordedLogs) set(pod, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs[pod] = text
}

func (r *recordedLogs) TailLog(_ context.Context, _, pod, _ string, limit int64) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	text := r.logs[pod]
	if int64(len(text)) > limit {
		text = text[len(text)-int(limit):]
	}
	return text, nil
}

// writeCounter counts the checker's writes per object, per replica, and remembers the diagnosis each one left.
type writeCounter struct {
	mu     sync.Mutex
	counts map[string]int
	// wrote is the ocl-guard.io/diagnosis each write of an object left on it, in order.
	wrote map[string][]string
}

func (w *writeCounter) wrap(c client.Client) client.Client {
	return countingClient{Client: c, counter: w}
}

type countingClient struct {
	client.Client
	counter *writeCounter
}

// Patch counts the patches that took effect: one refused for a stale resourceVersion (a Conflict) writes nothing.
func (c countingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	name := obj.GetName()
	err := c.Client.Patch(ctx, obj, patch, opts...)
	if err == nil {
		c.counter.mu.Lock()
		c.counter.counts[name]++
		c.counter.counts[""]++
		if c.counter.wrote == nil {
			c.counter.wrote = map[string][]string{}
		}
		// Patch leaves obj as the API server stored it.
		c.counter.wrote[name] = append(c.counter.wrote[name], obj.GetAnnotations()[checker.AnnotationDiagnosis])
		c.counter.mu.Unlock()
	}
	return err
}

func (w *writeCounter) of(name string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.counts[name]
}

// diagnosesWritten returns the diagnosis each counted write of the named object left, in order.
func (w *writeCounter) diagnosesWritten(name string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.wrote[name]...)
}

// annotationsOf returns the checker's annotations on an object.
func annotationsOf(obj client.Object) func() map[string]string {
	return func() map[string]string {
		fresh := obj.DeepCopyObject().(client.Object)
		if err := kube.Get(ctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
			return nil
		}
		out := map[string]string{}
		for k, v := range fresh.GetAnnotations() {
			if strings.HasPrefix(k, "ocl-guard.io/") {
				out[k] = v
			}
		}
		return out
	}
}

func diagnosisOf(obj client.Object) func() string {
	return func() string { return annotationsOf(obj)()[checker.AnnotationDiagnosis] }
}

// newBuild creates a MachineOSBuild of pool and gives it a status as the MCO would.
func newBuild(pool string, status mcfgv1.MachineOSBuildStatus) *mcfgv1.MachineOSBuild {
	if status.Builder == nil {
		status.Builder = &mcfgv1.MachineOSBuilderReference{ImageBuilderType: "Job", Job: &mcfgv1.ObjectReference{
			Group: "batch", Resource: "jobs", Namespace: mco.Namespace, Name: "build-" + pool + buildHexSuffix,
		}}
	}
	return newBuildAsIs(pool, status)
}

// newBuildAsIs is newBuild without a default status.builder: MCO 5.0+ fails a build whose Containerfile does not
// validate with a status of conditions only.
func newBuildAsIs(pool string, status mcfgv1.MachineOSBuildStatus) *mcfgv1.MachineOSBuild {
	build := &mcfgv1.MachineOSBuild{
		ObjectMeta: metav1.ObjectMeta{Name: pool + buildHexSuffix, Labels: map[string]string{poolLabel: pool}},
		Spec: mcfgv1.MachineOSBuildSpec{
			MachineConfig:         mcfgv1.MachineConfigReference{Name: "rendered-" + pool + "-abc"},
			MachineOSConfig:       mcfgv1.MachineOSConfigReference{Name: pool},
			RenderedImagePushSpec: mcfgv1.ImageTagFormat("quay.io/acme/os:" + pool + buildHexSuffix),
		},
	}
	Expect(kube.Create(ctx, build)).To(Succeed())
	build.Status = status
	Expect(kube.Status().Update(ctx, build)).To(Succeed())
	return build
}

func condition(t mcfgv1.BuildProgress, status metav1.ConditionStatus, reason string, age time.Duration) metav1.Condition {
	return metav1.Condition{Type: string(t), Status: status, Reason: reason, Message: reason,
		LastTransitionTime: metav1.NewTime(time.Now().Add(-age).Truncate(time.Second))}
}

func failedStatus() mcfgv1.MachineOSBuildStatus {
	start := metav1.NewTime(time.Now().Add(-10 * time.Minute).Truncate(time.Second))
	end := metav1.NewTime(time.Now().Add(-time.Minute).Truncate(time.Second))
	return mcfgv1.MachineOSBuildStatus{
		BuildStart: &start, BuildEnd: &end,
		Conditions: []metav1.Condition{
			condition(mcfgv1.MachineOSBuildPrepared, metav1.ConditionFalse, "Prepared", time.Minute),
			condition(mcfgv1.MachineOSBuilding, metav1.ConditionFalse, "Building", time.Minute),
			condition(mcfgv1.MachineOSBuildFailed, metav1.ConditionTrue, "BuildFailed", time.Minute),
			condition(mcfgv1.MachineOSBuildInterrupted, metav1.ConditionFalse, "Interrupted", time.Minute),
			condition(mcfgv1.MachineOSBuildSucceeded, metav1.ConditionFalse, "Ready", time.Minute),
		},
	}
}

func buildingStatus(startedAgo time.Duration) mcfgv1.MachineOSBuildStatus {
	start := metav1.NewTime(time.Now().Add(-startedAgo).Truncate(time.Second))
	return mcfgv1.MachineOSBuildStatus{
		BuildStart: &start,
		Conditions: []metav1.Condition{
			condition(mcfgv1.MachineOSBuildPrepared, metav1.ConditionFalse, "Prepared", startedAgo),
			condition(mcfgv1.MachineOSBuilding, metav1.ConditionTrue, "Building", startedAgo),
			condition(mcfgv1.MachineOSBuildFailed, metav1.ConditionFalse, "BuildFailed", startedAgo),
			condition(mcfgv1.MachineOSBuildInterrupted, metav1.ConditionFalse, "Interrupted", startedAgo),
			condition(mcfgv1.MachineOSBuildSucceeded, metav1.ConditionFalse, "Ready", startedAgo),
		},
	}
}

func succeededStatus(endedAgo time.Duration, digested string) mcfgv1.MachineOSBuildStatus {
	start := metav1.NewTime(time.Now().Add(-endedAgo - 10*time.Minute).Truncate(time.Second))
	end := metav1.NewTime(time.Now().Add(-endedAgo).Truncate(time.Second))
	return mcfgv1.MachineOSBuildStatus{
		BuildStart: &start, BuildEnd: &end, DigestedImagePushSpec: mcfgv1.ImageDigestFormat(digested),
		Conditions: []metav1.Condition{
			condition(mcfgv1.MachineOSBuildPrepared, metav1.ConditionFalse, "Prepared", endedAgo),
			condition(mcfgv1.MachineOSBuilding, metav1.ConditionFalse, "Building", endedAgo),
			condition(mcfgv1.MachineOSBuildFailed, metav1.ConditionFalse, "BuildFailed", endedAgo),
			condition(mcfgv1.MachineOSBuildInterrupted, metav1.ConditionFalse, "Interrupted", endedAgo),
			condition(mcfgv1.MachineOSBuildSucceeded, metav1.ConditionTrue, "Ready", endedAgo),
		},
	}
}

// newBuildPod creates the build Job's pod, as the Job controller would, and gives it a status as the kubelet would.
func newBuildPod(build *mcfgv1.MachineOSBuild, status corev1.PodStatus) *corev1.Pod {
	return newBuildPodWithLog(build, status, nil, "")
}

// newBuildPodWithLog records the pod's image-build log before the pod appears, as a kubelet would have it.
func newBuildPodWithLog(build *mcfgv1.MachineOSBuild, status corev1.PodStatus, logs *recordedLogs, logText string) *corev1.Pod {
	job := "build-" + build.Name
	name := job + "-" + uniqueName("x")
	if logs != nil {
		logs.set(name, logText)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: mco.Namespace,
			Labels: map[string]string{"batch.kubernetes.io/job-name": job, "job-name": job},
		},
		Spec: corev1.PodSpec{
			RestartPolicy:  corev1.RestartPolicyNever,
			InitContainers: []corev1.Container{{Name: "image-build", Image: builderImage}},
			Containers:     []corev1.Container{{Name: "create-digest-configmap", Image: builderImage}},
		},
	}
	Expect(kube.Create(ctx, pod)).To(Succeed())
	pod.Status = status
	Expect(kube.Status().Update(ctx, pod)).To(Succeed())
	return pod
}

// failedImageBuild is a pod whose image-build init container exited 1 with message as its termination message.
func failedImageBuild(message string) corev1.PodStatus {
	return corev1.PodStatus{
		Phase: corev1.PodFailed,
		InitContainerStatuses: []corev1.ContainerStatus{{
			Name: "image-build", Image: builderImage,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: message}},
		}},
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: "create-digest-configmap", Image: builderImage,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}},
		}},
	}
}

// newLayeredPool creates a pool with its MachineOSConfig (status as the MCO writes it) and nodes.
func newLayeredPool(name string, currentImagePullSpec string, nodes int) *mcfgv1.MachineConfigPool {
	pool := newPool(name)
	Expect(kube.Create(ctx, pool)).To(Succeed())
	push := uniqueName("push")
	Expect(kube.Create(ctx, dockerConfigSecret(push, "quay.io"))).To(Succeed())
	mosc := layeredPool{name: name, pushSecret: push, pullSecret: push}.machineOSConfig("quay.io/acme/os:latest")
	Expect(kube.Create(ctx, mosc)).To(Succeed())
	if currentImagePullSpec != "" {
		mosc.Status.CurrentImagePullSpec = mcfgv1.ImageDigestFormat(currentImagePullSpec)
		mosc.Status.MachineOSBuild = &mcfgv1.ObjectReference{Group: mcfgv1.GroupName, Resource: "machineosbuilds", Name: name + buildHexSuffix}
		Expect(kube.Status().Update(ctx, mosc)).To(Succeed())
	}
	for i := range nodes {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name:   name + "-node-" + string(rune('a'+i)),
			Labels: map[string]string{"node-role.kubernetes.io/" + name: ""},
		}}
		Expect(kube.Create(ctx, node)).To(Succeed())
	}
	return pool
}

func nodeName(pool string, i int) string { return pool + "-node-" + string(rune('a'+i)) }

func annotateNode(name string, annotations map[string]string) {
	var node corev1.Node
	Expect(kube.Get(ctx, client.ObjectKey{Name: name}, &node)).To(Succeed())
	patch := client.MergeFrom(node.DeepCopy())
	if node.Annotations == nil {
		node.Annotations = map[string]string{}
	}
	for k, v := range annotations {
		node.Annotations[k] = v
	}
	Expect(kube.Patch(ctx, &node, patch)).To(Succeed())
}

func setPoolStatus(pool *mcfgv1.MachineConfigPool, machines, updated int32, conditions ...mcfgv1.MachineConfigPoolCondition) {
	// The checker writes annotations on the pool at the same time.
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := kube.Get(ctx, client.ObjectKeyFromObject(pool), pool); err != nil {
			return err
		}
		pool.Status.MachineCount = machines
		pool.Status.UpdatedMachineCount = updated
		pool.Status.ReadyMachineCount = updated
		pool.Status.Conditions = conditions
		return kube.Status().Update(ctx, pool)
	})).To(Succeed())
}

// rememberProgress replaces the checker's rollout memory on the pool, as if an earlier checker had written it.
// It waits for the running checker's own memory first, so that no write of the checker's is in flight to undo it.
func rememberProgress(pool *mcfgv1.MachineConfigPool, checkerWrote func(diagnose.Progress) bool, remembered diagnose.Progress) {
	Eventually(func() bool {
		p, err := diagnose.DecodeProgress(annotationsOf(pool)()[checker.AnnotationProgress])
		return err == nil && checkerWrote(p)
	}).WithTimeout(30 * time.Second).Should(BeTrue())
	patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, checker.AnnotationProgress, remembered.Encode()))
	Expect(kube.Patch(ctx, pool, client.RawPatch(types.MergePatchType, patch))).To(Succeed())
}

func poolCondition(t mcfgv1.MachineConfigPoolConditionType, status corev1.ConditionStatus, reason, message string) mcfgv1.MachineConfigPoolCondition {
	return mcfgv1.MachineConfigPoolCondition{Type: t, Status: status, Reason: reason, Message: message,
		LastTransitionTime: metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second))}
}

// recordMCOEvent records an Event about a cluster-scoped OCL object the way the MCO's build controller does: a
// core/v1 Event in namespace default, from component machineosbuilder.
func recordMCOEvent(kind, name, reason, message string) {
	GinkgoHelper()
	now := metav1.Now()
	Expect(kube.Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name + "." + uniqueName("ev"), Namespace: mco.EventNamespace},
		InvolvedObject: corev1.ObjectReference{APIVersion: mcfgv1.GroupVersion.String(), Kind: kind, Name: name},
		Type:           corev1.EventTypeWarning, Reason: reason, Message: message,
		Source:         corev1.EventSource{Component: "machineosbuilder"},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	})).To(Succeed())
}

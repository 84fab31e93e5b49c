package diagnose

import (
	"strings"
	"time"

	"github.com/ocl-guard/ocl-guard/mco"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2026, 8, 20, 10, 0, 0, 0, time.UTC)

const (
	mosbName  = "worker-3f1c9e7a0b2d4c6e8f0a1b2c3d4e5f60"
	pushSpec  = "registry.example.com/ocl/os-image:latest"
	baseImage = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:9b1e4a5f0c3d2e1f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f"
	builder   = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	target    = "registry.example.com/ocl/os-image@sha256:aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999"
	oldImage  = "registry.example.com/ocl/os-image@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func mosbConds(building, succeeded, failed, interrupted bool, at time.Time) []metav1.Condition {
	st := func(b bool) metav1.ConditionStatus {
		if b {
			return metav1.ConditionTrue
		}
		return metav1.ConditionFalse
	}
	lt := metav1.NewTime(at)
	return []metav1.Condition{
		{Type: "Prepared", Status: metav1.ConditionFalse, Reason: "Prepared", Message: "Build Prepared and Pending", LastTransitionTime: lt},
		{Type: "Building", Status: st(building), Reason: "Building", Message: "Image Build In Progress", LastTransitionTime: lt},
		{Type: "Failed", Status: st(failed), Reason: "Failed", Message: "Build Failed", LastTransitionTime: lt},
		{Type: "Interrupted", Status: st(interrupted), Reason: "Interrupted", Message: "Build Interrupted", LastTransitionTime: lt},
		{Type: "Succeeded", Status: st(succeeded), Reason: "Ready", Message: "Build Ready", LastTransitionTime: lt},
	}
}

func newMOSB(conds []metav1.Condition, start time.Time) *mcfgv1.MachineOSBuild {
	b := &mcfgv1.MachineOSBuild{
		ObjectMeta: metav1.ObjectMeta{Name: mosbName, CreationTimestamp: metav1.NewTime(start.Add(-time.Minute))},
		Spec: mcfgv1.MachineOSBuildSpec{
			MachineOSConfig:       mcfgv1.MachineOSConfigReference{Name: "worker"},
			MachineConfig:         mcfgv1.MachineConfigReference{Name: "rendered-worker-ec40d2965ff81bce7cd7a7e82a680739"},
			RenderedImagePushSpec: pushSpec,
		},
		Status: mcfgv1.MachineOSBuildStatus{
			Conditions: conds,
			Builder: &mcfgv1.MachineOSBuilderReference{ImageBuilderType: "Job", Job: &mcfgv1.ObjectReference{
				Group: "batch", Resource: "jobs", Namespace: mco.Namespace, Name: "build-" + mosbName}},
		},
	}
	if !start.IsZero() {
		b.Status.BuildStart = &metav1.Time{Time: start}
	}
	return b
}

func newMOSC() *mcfgv1.MachineOSConfig {
	return &mcfgv1.MachineOSConfig{
		ObjectMeta: metav1.ObjectMeta{Name: "worker"},
		Spec: mcfgv1.MachineOSConfigSpec{
			MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: "worker"},
			RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "push-secret"},
			RenderedImagePushSpec:   pushSpec,
		},
		Status: mcfgv1.MachineOSConfigStatus{CurrentImagePullSpec: target},
	}
}

func failedJob() *batchv1.Job {
	bl := int32(3)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "build-" + mosbName, Namespace: mco.Namespace},
		Spec:       batchv1.JobSpec{BackoffLimit: &bl},
		Status: batchv1.JobStatus{Failed: 4, Conditions: []batchv1.JobCondition{{
			Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}}},
	}
}

func runningJob() *batchv1.Job {
	bl := int32(3)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "build-" + mosbName, Namespace: mco.Namespace},
		Spec:       batchv1.JobSpec{BackoffLimit: &bl},
		Status:     batchv1.JobStatus{Active: 1},
	}
}

// podLayout selects where image-build lives: init container (4.20+) or regular container (4.18–4.19).
type podLayout int

const (
	layoutInit podLayout = iota
	layoutLegacy
)

func buildPod(name string, created time.Time, phase corev1.PodPhase) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: mco.Namespace, CreationTimestamp: metav1.NewTime(created),
			Labels: map[string]string{"batch.kubernetes.io/job-name": "build-" + mosbName}},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "image-build", Image: builder}},
			Containers:     []corev1.Container{{Name: "create-digest-configmap", Image: builder}},
		},
		Status: corev1.PodStatus{Phase: phase},
	}
}

// failedBuildPod has a terminated image-build container whose termination message (FallbackToLogsOnError) is msg.
func failedBuildPod(name string, created time.Time, layout podLayout, msg string) corev1.Pod {
	p := buildPod(name, created, corev1.PodFailed)
	term := corev1.ContainerStatus{Name: "image-build", Image: builder, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: 1, Reason: "Error", Message: msg}}}
	if layout == layoutInit {
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{term}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "create-digest-configmap", Image: builder,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}}}
	} else {
		p.Spec.InitContainers = nil
		p.Spec.Containers = []corev1.Container{{Name: "image-build", Image: builder}, {Name: "wait-for-done", Image: builder}}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{term, {Name: "wait-for-done", Image: builder,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error"}}}}
	}
	return p
}

func failedSnapshot(msg string, layout podLayout) BuildSnapshot {
	b := newMOSB(mosbConds(false, false, true, false, t0.Add(-10*time.Minute)), t0.Add(-40*time.Minute))
	return BuildSnapshot{
		Build:  b,
		Config: newMOSC(),
		Job:    failedJob(),
		Pods: []corev1.Pod{
			failedBuildPod("build-"+mosbName+"-aaaaa", t0.Add(-40*time.Minute), layout, "older attempt\nError: something else"),
			failedBuildPod("build-"+mosbName+"-zzzzz", t0.Add(-15*time.Minute), layout, msg),
		},
		Now: t0,
	}
}

// Log pieces shaped like the MCO's buildah-build.sh output (set -xeuo, buildah --log-level=DEBUG).
const logPreamble = `+ export MAX_RETRIES=3
+ MAX_RETRIES=3
+ buildah bud --log-level=DEBUG --storage-driver vfs --authfile=/tmp/base-image-pull-creds/config.json --tag registry.example.com/ocl/os-image:` + mosbName + ` --file=/tmp/context/Containerfile --build-arg HTTP_PROXY= --build-arg HTTPS_PROXY= --build-arg NO_PROXY= /tmp/context
time="2026-08-20T09:20:01Z" level=debug msg="Using build context /tmp/context"
time="2026-08-20T09:20:01Z" level=debug msg="Credentials: unauthorized requests will retry with auth from /tmp/base-image-pull-creds/config.json"
`

const logFromStep = `STEP 1/4: FROM ` + baseImage + ` AS extract
Trying to pull ` + baseImage + `...
`

const logBaseOK = logFromStep + `Getting image source signatures
Copying blob sha256:7e49dc6156b0b532730614d83a65ae5e7ce61e966b0498703d333b4d03505e4f
Copying config sha256:3a1c4f2e
Writing manifest to image destination
STEP 2/4: RUN mkdir -p /etc/extract && echo done
time="2026-08-20T09:21:00Z" level=debug msg="Running [\"/bin/sh\" \"-c\" \"mkdir -p /etc/extract\"]"
done
--> 0b9e0c3f41a2
STEP 1/3: FROM ` + baseImage + ` AS configs
STEP 2/3: COPY ./machineconfig/machineconfig.json.gz /etc/machine-config-daemon/currentconfig.gz
--> 4e1a2b3c4d5e
STEP 3/3: LABEL "io.openshift.machineconfig.rendered"="rendered-worker-ec40d2965ff81bce7cd7a7e82a680739"
--> 5f6a7b8c9d0e
STEP 1/2: FROM configs AS final
`

const logCommitAndPushStart = `COMMIT registry.example.com/ocl/os-image:` + mosbName + `
time="2026-08-20T09:30:00Z" level=debug msg="committing image with reference ..."
--> 9c8b7a6d5e4f
Successfully tagged registry.example.com/ocl/os-image:` + mosbName + `
9c8b7a6d5e4f3a2b1c0d
+ buildah push --storage-driver vfs --authfile=/tmp/final-image-push-creds/config.json --digestfile=/tmp/done/digestfile --cert-dir /var/run/secrets/kubernetes.io/serviceaccount registry.example.com/ocl/os-image:` + mosbName + `
Getting image source signatures
Copying blob sha256:7e49dc6156b0b532730614d83a65ae5e7ce61e966b0498703d333b4d03505e4f
`

const logRunOK = `STEP 2/2: RUN dnf install -y tmux perl-Error && dnf clean all
Updating Subscription Management repositories.
Installing: perl-Error-1:0.17029-7.el9.noarch
Complete!
`

func node(name, desired, current, state, reason string) NodeInfo {
	a := map[string]string{
		mco.AnnotationDesiredImage:                        desired,
		mco.AnnotationCurrentImage:                        current,
		mco.AnnotationState:                               state,
		"machineconfiguration.openshift.io/desiredConfig": "rendered-worker-ec40d2965ff81bce7cd7a7e82a680739",
	}
	if reason != "" {
		a[mco.AnnotationReason] = reason
	}
	return NodeInfo{Name: name, Annotations: a}
}

func newPool(machines, updated int32, conds ...mcfgv1.MachineConfigPoolCondition) *mcfgv1.MachineConfigPool {
	return &mcfgv1.MachineConfigPool{
		ObjectMeta: metav1.ObjectMeta{Name: "worker"},
		Status: mcfgv1.MachineConfigPoolStatus{
			MachineCount: machines, UpdatedMachineCount: updated, ReadyMachineCount: updated,
			Conditions: conds,
		},
	}
}

func poolCond(t mcfgv1.MachineConfigPoolConditionType, status corev1.ConditionStatus, reason, msg string) mcfgv1.MachineConfigPoolCondition {
	return mcfgv1.MachineConfigPoolCondition{Type: t, Status: status, Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(t0.Add(-time.Hour))}
}

func succeededBuild(end time.Time, digest string) *mcfgv1.MachineOSBuild {
	b := newMOSB(mosbConds(false, true, false, false, end), end.Add(-20*time.Minute))
	b.Status.BuildEnd = &metav1.Time{Time: end}
	b.Status.DigestedImagePushSpec = mcfgv1.ImageDigestFormat(digest)
	return b
}

func mustContain(s string, subs ...string) string {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return sub
		}
	}
	return ""
}

package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/test/registry/registrytest"
)

// The seeded objects play the MCO, the Job controller, the kubelet and the machine-config-daemon: they are what
// those write when a build fails to push and when nodes cannot pull the built image.
const (
	failedPool  = "layered" // its build failed: the push secret was rotated to one that may only pull
	stalledPool = "infra"   // its build succeeded; two of its three nodes cannot pull the image
	buildHash   = "-3f1c0f6ee4e2a9d1d8b76d1f2c5a0e97"
	builtDigest = "@sha256:5b0c8f1b2b3f7f0c6de6c8e6a1bb6f3c0a6d0d4c2c2e5e8f6a9b0c1d2e3f4a5b"
	// builderImage is the MCO's builder (the release's machine-config-operator image); only its shape matters.
	builderImage = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:1111111111111111111111111111111111111111111111111111111111111111"
)

// The push secrets the samples and the seeded configs name.
const (
	pushSecret     = "local-push-secret"      // may push to the local registry (and names the unreachable address)
	pullOnlySecret = "local-pull-only-secret" // valid credentials that may only pull
	failedSecret   = "layered-push-secret"    // rotated from pushSecret's credentials to pullOnlySecret's
)

// seeder creates the sample objects through the API server, the webhook included.
type seeder struct {
	kube        client.Client
	registry    *registrytest.Registry
	unreachable string // a loopback host:port nothing listens on
	now         time.Time
}

func (s *seeder) seed(ctx context.Context) error {
	steps := []func(context.Context) error{s.secrets, s.failedBuild, s.stalledRollout}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (s *seeder) secrets(ctx context.Context) error {
	for _, sec := range []*corev1.Secret{
		dockerConfig(pushSecret, map[string]registrytest.User{s.registry.Host: registrytest.Writer, s.unreachable: registrytest.Writer}),
		dockerConfig(pullOnlySecret, map[string]registrytest.User{s.registry.Host: registrytest.Reader}),
		dockerConfig(failedSecret, map[string]registrytest.User{s.registry.Host: registrytest.Writer}),
	} {
		if err := s.kube.Create(ctx, sec); err != nil {
			return fmt.Errorf("creating secret %s: %w", sec.Name, err)
		}
	}
	return nil
}

// failedBuild: a config admitted while its push secret could push; then the secret was rotated to pull-only
// credentials, and the next build failed at the push.
func (s *seeder) failedBuild(ctx context.Context) error {
	if err := s.kube.Create(ctx, pool(failedPool)); err != nil {
		return err
	}
	mosc := s.config(failedPool, failedSecret)
	if err := s.kube.Create(ctx, mosc); err != nil {
		return fmt.Errorf("creating the MachineOSConfig %s: %w", failedPool, err)
	}
	if err := s.updateStatus(ctx, mosc, func() { mosc.Status.ObservedGeneration = mosc.Generation }); err != nil {
		return err
	}
	rotated := dockerConfig(failedSecret, map[string]registrytest.User{s.registry.Host: registrytest.Reader})
	if err := s.kube.Update(ctx, rotated); err != nil {
		return err
	}
	build := s.build(failedPool)
	if err := s.startBuild(ctx, build, func() { build.Status = s.buildStatus(build, mcfgv1.MachineOSBuildFailed, "") }); err != nil {
		return err
	}
	job := buildJob(build)
	if err := s.kube.Create(ctx, job); err != nil {
		return err
	}
	tag := string(build.Spec.RenderedImagePushSpec)
	pod := buildPod(job)
	if err := s.createWithStatus(ctx, pod, func() { pod.Status = failedPushStatus(s.pushAuthFailure(tag)) }); err != nil {
		return err
	}
	p := pool(failedPool)
	return s.setPoolStatus(ctx, p, 1, 1, poolCondition(mcfgv1.MachineConfigPoolImageBuildDegraded, "BuildFailed",
		fmt.Sprintf("Failed to build OS image for pool %s (MachineOSBuild: %s): Failed: Build Failed", failedPool, build.Name)))
}

// stalledRollout: the build succeeded, one node runs the image, two cannot pull it (nodes pull with the cluster
// pull secret, which has no credentials for the local registry).
func (s *seeder) stalledRollout(ctx context.Context) error {
	if err := s.kube.Create(ctx, pool(stalledPool)); err != nil {
		return err
	}
	mosc := s.config(stalledPool, pushSecret)
	if err := s.kube.Create(ctx, mosc); err != nil {
		return fmt.Errorf("creating the MachineOSConfig %s: %w", stalledPool, err)
	}
	build := s.build(stalledPool)
	image := s.registry.Repository("acme/" + stalledPool + "-os" + builtDigest)
	if err := s.startBuild(ctx, build, func() { build.Status = s.buildStatus(build, mcfgv1.MachineOSBuildSucceeded, image) }); err != nil {
		return err
	}
	if err := s.updateStatus(ctx, mosc, func() {
		mosc.Status.ObservedGeneration = mosc.Generation
		mosc.Status.CurrentImagePullSpec = mcfgv1.ImageDigestFormat(image)
		mosc.Status.MachineOSBuild = &mcfgv1.ObjectReference{Group: mcfgv1.GroupName, Resource: "machineosbuilds", Name: build.Name}
	}); err != nil {
		return err
	}
	pullFailure := fmt.Sprintf("failed to update OS to %[1]s after retries: error running rpm-ostree rebase --experimental ostree-unverified-registry:%[1]s: "+
		"error: Creating importer: failed to invoke method OpenImage: failed to invoke method OpenImage: reading manifest %[2]s in %[3]s: "+
		"unauthorized: authentication required: exit status 1: timed out waiting for the condition",
		image, builtDigest[1:], s.registry.Repository("acme/"+stalledPool+"-os"))
	for i := range 3 {
		annotations := map[string]string{mco.AnnotationDesiredImage: image, mco.AnnotationCurrentImage: image, mco.AnnotationState: "Done"}
		if i > 0 {
			annotations = map[string]string{mco.AnnotationDesiredImage: image, mco.AnnotationCurrentImage: "", mco.AnnotationState: "Degraded", mco.AnnotationReason: pullFailure}
		}
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name:        fmt.Sprintf("%s-%d", stalledPool, i),
			Labels:      map[string]string{"node-role.kubernetes.io/" + stalledPool: ""},
			Annotations: annotations,
		}}
		if err := s.kube.Create(ctx, node); err != nil {
			return err
		}
	}
	return s.setPoolStatus(ctx, pool(stalledPool), 3, 1,
		poolCondition(mcfgv1.MachineConfigPoolUpdating, "", ""),
		poolCondition(mcfgv1.MachineConfigPoolNodeDegraded, "1 nodes are reporting degraded status on sync",
			fmt.Sprintf("Node %s-1 is reporting: %q", stalledPool, pullFailure)))
}

// pushAuthFailure is the tail of the image-build container's log that the kubelet keeps as its termination message
// (FallbackToLogsOnError): buildah-build.sh runs with set -x, and buildah push fails at the first blob upload.
// The error is c/image's (docker/docker_image_dest.go, copy/blob.go) wrapped by buildah's push command.
func (s *seeder) pushAuthFailure(tag string) string {
	return fmt.Sprintf(`+ buildah push --storage-driver vfs --authfile=/tmp/final-image-push-creds/config.json --digestfile=/tmp/done/digestfile --cert-dir /var/run/secrets/kubernetes.io/serviceaccount %[1]s
Getting image source signatures
Error: pushing image %[1]q to "docker://%[1]s": writing blob: initiating layer upload to /v2/acme/os-image/blobs/uploads/ in %[2]s: unauthorized: authentication required
`, tag, s.registry.Host)
}

func (s *seeder) config(poolName, secret string) *mcfgv1.MachineOSConfig {
	return &mcfgv1.MachineOSConfig{
		ObjectMeta: metav1.ObjectMeta{Name: poolName},
		Spec: mcfgv1.MachineOSConfigSpec{
			MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: poolName},
			ImageBuilder:            mcfgv1.MachineOSImageBuilder{ImageBuilderType: mcfgv1.JobBuilder},
			BaseImagePullSecret:     &mcfgv1.ImageSecretObjectReference{Name: "base-pull-secret"},
			RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: secret},
			RenderedImagePushSpec:   mcfgv1.ImageTagFormat(s.registry.Repository(s.repository(poolName) + ":latest")),
			Containerfile: []mcfgv1.MachineOSContainerfile{{
				ContainerfileArch: mcfgv1.NoArch,
				Content:           "FROM configs AS final\nRUN rpm-ostree install tree && ostree container commit\n",
			}},
		},
	}
}

func (s *seeder) repository(poolName string) string {
	if poolName == failedPool {
		return "acme/os-image"
	}
	return "acme/" + poolName + "-os"
}

// build is the MachineOSBuild the MCO creates: named after the pool and a hash, pushing to the build's own tag.
func (s *seeder) build(poolName string) *mcfgv1.MachineOSBuild {
	name := poolName + buildHash
	return &mcfgv1.MachineOSBuild{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{mco.LabelTargetPool: poolName}},
		Spec: mcfgv1.MachineOSBuildSpec{
			MachineConfig:         mcfgv1.MachineConfigReference{Name: "rendered-" + poolName + "-5d8c7b9f0e"},
			MachineOSConfig:       mcfgv1.MachineOSConfigReference{Name: poolName},
			RenderedImagePushSpec: mcfgv1.ImageTagFormat(s.registry.Repository(s.repository(poolName) + ":" + name)),
		},
	}
}

func (s *seeder) buildStatus(build *mcfgv1.MachineOSBuild, outcome mcfgv1.BuildProgress, digested string) mcfgv1.MachineOSBuildStatus {
	start, end := metav1.NewTime(s.now.Add(-12*time.Minute)), metav1.NewTime(s.now.Add(-2*time.Minute))
	cond := func(t mcfgv1.BuildProgress, reason string) metav1.Condition {
		status := metav1.ConditionFalse
		if t == outcome {
			status = metav1.ConditionTrue
		}
		return metav1.Condition{Type: string(t), Status: status, Reason: reason, Message: reason, LastTransitionTime: end}
	}
	return mcfgv1.MachineOSBuildStatus{
		BuildStart: &start, BuildEnd: &end, DigestedImagePushSpec: mcfgv1.ImageDigestFormat(digested),
		Builder: &mcfgv1.MachineOSBuilderReference{ImageBuilderType: mcfgv1.JobBuilder, Job: &mcfgv1.ObjectReference{
			Group: "batch", Resource: "jobs", Namespace: mco.Namespace, Name: mco.BuildJobName(build),
		}},
		Conditions: []metav1.Condition{
			cond(mcfgv1.MachineOSBuildPrepared, "Prepared"),
			cond(mcfgv1.MachineOSBuilding, "Building"),
			cond(mcfgv1.MachineOSBuildFailed, "BuildFailed"),
			cond(mcfgv1.MachineOSBuildInterrupted, "Interrupted"),
			cond(mcfgv1.MachineOSBuildSucceeded, "Ready"),
		},
	}
}

// startBuild creates the build as the MCO does: the MachineOSBuild, the annotation that makes it its
// MachineOSConfig's current build (mco.AnnotationCurrentBuild, set when a build starts), then the build's status.
func (s *seeder) startBuild(ctx context.Context, build *mcfgv1.MachineOSBuild, setStatus func()) error {
	if err := s.kube.Create(ctx, build); err != nil {
		return fmt.Errorf("creating %s: %w", build.Name, err)
	}
	mosc := &mcfgv1.MachineOSConfig{ObjectMeta: metav1.ObjectMeta{Name: build.Spec.MachineOSConfig.Name}}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{mco.AnnotationCurrentBuild: build.Name}}})
	if err != nil {
		return err
	}
	if err := s.kube.Patch(ctx, mosc, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("making %s the current build of MachineOSConfig %s: %w", build.Name, mosc.Name, err)
	}
	if err := s.updateStatus(ctx, build, setStatus); err != nil {
		return fmt.Errorf("status of %s: %w", build.Name, err)
	}
	return nil
}

// createWithStatus creates obj, then writes the status that setStatus puts on it, as its controller would.
func (s *seeder) createWithStatus(ctx context.Context, obj client.Object, setStatus func()) error {
	if err := s.kube.Create(ctx, obj); err != nil {
		return fmt.Errorf("creating %s: %w", obj.GetName(), err)
	}
	if err := s.updateStatus(ctx, obj, setStatus); err != nil {
		return fmt.Errorf("status of %s: %w", obj.GetName(), err)
	}
	return nil
}

// updateStatus reads obj, applies setStatus and writes the status, again when the checker's annotations of the
// same object came in between.
func (s *seeder) updateStatus(ctx context.Context, obj client.Object, setStatus func()) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := s.kube.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		setStatus()
		return s.kube.Status().Update(ctx, obj)
	})
}

func (s *seeder) setPoolStatus(ctx context.Context, p *mcfgv1.MachineConfigPool, machines, updated int32, conditions ...mcfgv1.MachineConfigPoolCondition) error {
	for i := range conditions {
		conditions[i].LastTransitionTime = metav1.NewTime(s.now.Add(-time.Hour))
	}
	return s.updateStatus(ctx, p, func() {
		p.Status.MachineCount, p.Status.UpdatedMachineCount, p.Status.ReadyMachineCount = machines, updated, updated
		p.Status.Conditions = conditions
	})
}

func pool(name string) *mcfgv1.MachineConfigPool {
	return &mcfgv1.MachineConfigPool{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: mcfgv1.MachineConfigPoolSpec{
			MachineConfigSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"machineconfiguration.openshift.io/role": name}},
			NodeSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{"node-role.kubernetes.io/" + name: ""}},
		},
	}
}

func poolCondition(t mcfgv1.MachineConfigPoolConditionType, reason, message string) mcfgv1.MachineConfigPoolCondition {
	return mcfgv1.MachineConfigPoolCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: message}
}

// buildJob is the MCO's build Job: one attempt per pod, no deadline.
func buildJob(build *mcfgv1.MachineOSBuild) *batchv1.Job {
	name := mco.BuildJobName(build)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: mco.Namespace},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](3),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy:  corev1.RestartPolicyNever,
				InitContainers: []corev1.Container{{Name: mco.ImageBuildContainer, Image: builderImage, TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError}},
				Containers:     []corev1.Container{{Name: "create-digest-configmap", Image: builderImage}},
			}},
		},
	}
}

// buildPod is the pod the Job controller creates for job.
func buildPod(job *batchv1.Job) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: job.Name + "-x7k2p", Namespace: job.Namespace,
			Labels: map[string]string{"batch.kubernetes.io/job-name": job.Name, "job-name": job.Name,
				"batch.kubernetes.io/controller-uid": string(job.UID), "controller-uid": string(job.UID)},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
		},
		Spec: job.Spec.Template.Spec,
	}
	return pod
}

// failedPushStatus is the kubelet's status of a build pod whose image-build container exited 1.
func failedPushStatus(message string) corev1.PodStatus {
	return corev1.PodStatus{
		Phase: corev1.PodFailed,
		InitContainerStatuses: []corev1.ContainerStatus{{
			Name: mco.ImageBuildContainer, Image: builderImage,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: message}},
		}},
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: "create-digest-configmap", Image: builderImage,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}},
		}},
	}
}

// dockerConfig is a kubernetes.io/dockerconfigjson Secret in the MCO's namespace with a user per registry host.
func dockerConfig(name string, users map[string]registrytest.User) *corev1.Secret {
	auths := map[string]map[string]string{}
	for host, u := range users {
		auths[host] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(u.Name + ":" + u.Password))}
	}
	data, _ := json.Marshal(map[string]any{"auths": auths})
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: mco.Namespace},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: data},
	}
}

package e2e

import (
	"time"

	"github.com/ocl-guard/ocl-guard/mco"
	. "github.com/onsi/gomega"
	configv1 "github.com/openshift/api/config/v1"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// observeAfter is the checker's configObserveAfter in these tests.
const observeAfter = 3 * time.Second

// playTheOperator makes the MCO's operator look healthy: ClusterOperator machine-config Available and not Degraded,
// and its machine-os-builder Deployment with one available pod. Other specs may have created them already.
func playTheOperator() {
	co := &configv1.ClusterOperator{ObjectMeta: metav1.ObjectMeta{Name: mco.OperatorName}}
	if err := kube.Create(ctx, co); err != nil {
		Expect(apierrors.IsAlreadyExists(err)).To(BeTrue(), "%v", err)
	}
	setOperatorDegraded("")
	labels := map[string]string{"k8s-app": mco.BuilderDeployment}
	builder := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: mco.BuilderDeployment, Namespace: mco.Namespace},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "machine-os-builder", Image: builderImage}}},
			},
		},
	}
	if err := kube.Create(ctx, builder); err != nil {
		Expect(apierrors.IsAlreadyExists(err)).To(BeTrue(), "%v", err)
	}
	setBuilderAvailable(1)
}

// setOperatorDegraded sets the operator's Degraded condition as pkg/operator/status.go syncDegradedStatus does for a
// failed MachineOSBuilder sync; "" clears it.
func setOperatorDegraded(message string) {
	degraded := configv1.ClusterOperatorStatusCondition{Type: configv1.OperatorDegraded, Status: configv1.ConditionFalse,
		LastTransitionTime: metav1.Now()}
	if message != "" {
		degraded.Status, degraded.Reason, degraded.Message = configv1.ConditionTrue, "MachineOSBuilderFailed", message
	}
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var co configv1.ClusterOperator
		if err := kube.Get(ctx, client.ObjectKey{Name: mco.OperatorName}, &co); err != nil {
			return err
		}
		co.Status.Conditions = []configv1.ClusterOperatorStatusCondition{
			{Type: configv1.OperatorAvailable, Status: configv1.ConditionTrue, LastTransitionTime: metav1.Now()}, degraded,
		}
		return kube.Status().Update(ctx, &co)
	})).To(Succeed())
}

// setBuilderAvailable gives the machine-os-builder Deployment the status the Deployment controller would.
func setBuilderAvailable(available int32) {
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var d appsv1.Deployment
		if err := kube.Get(ctx, client.ObjectKey{Namespace: mco.Namespace, Name: mco.BuilderDeployment}, &d); err != nil {
			return err
		}
		status := corev1.ConditionTrue
		if available == 0 {
			status = corev1.ConditionFalse
		}
		d.Status = appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: available, AvailableReplicas: available,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: status, Reason: "MinimumReplicasUnavailable"}}}
		return kube.Status().Update(ctx, &d)
	})).To(Succeed())
}

// observe plays the MCO's build controller having acted on the config: status.observedGeneration follows
// metadata.generation and, when currentBuild is given, the current-machine-os-build annotation names it.
func observe(mosc *mcfgv1.MachineOSConfig, currentBuild string) {
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := kube.Get(ctx, client.ObjectKeyFromObject(mosc), mosc); err != nil {
			return err
		}
		if currentBuild != "" {
			if mosc.Annotations == nil {
				mosc.Annotations = map[string]string{}
			}
			mosc.Annotations[mco.AnnotationCurrentBuild] = currentBuild
			if err := kube.Update(ctx, mosc); err != nil {
				return err
			}
		}
		mosc.Status.ObservedGeneration = mosc.Generation
		return kube.Status().Update(ctx, mosc)
	})).To(Succeed())
}

// editConfig changes a MachineOSConfig as a user would.
func editConfig(mosc *mcfgv1.MachineOSConfig, edit func(*mcfgv1.MachineOSConfig)) {
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := kube.Get(ctx, client.ObjectKeyFromObject(mosc), mosc); err != nil {
			return err
		}
		edit(mosc)
		return kube.Update(ctx, mosc)
	})).To(Succeed())
}

// newBuildNamed is newBuild with the build's name given (a second build of the same pool).
func newBuildNamed(pool, name string, status mcfgv1.MachineOSBuildStatus) *mcfgv1.MachineOSBuild {
	build := &mcfgv1.MachineOSBuild{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{poolLabel: pool}},
		Spec: mcfgv1.MachineOSBuildSpec{
			MachineConfig:         mcfgv1.MachineConfigReference{Name: "rendered-" + pool + "-def"},
			MachineOSConfig:       mcfgv1.MachineOSConfigReference{Name: pool},
			RenderedImagePushSpec: mcfgv1.ImageTagFormat("quay.io/acme/os:" + name),
		},
	}
	Expect(kube.Create(ctx, build)).To(Succeed())
	status.Builder = &mcfgv1.MachineOSBuilderReference{ImageBuilderType: "Job", Job: &mcfgv1.ObjectReference{
		Group: "batch", Resource: "jobs", Namespace: mco.Namespace, Name: "build-" + name,
	}}
	build.Status = status
	Expect(kube.Status().Update(ctx, build)).To(Succeed())
	return build
}

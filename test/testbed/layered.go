package testbed

import (
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ocl-guard/ocl-guard/mco"
)

// The objects the suites seed to make a pool layered: its MachineOSConfig, pushing to quay.io with PushSecret for
// both the push and the base image pull. Each suite writes the statuses its specs play the MCO with.

// PushSecretName is the name of PushSecret, in the MCO's namespace.
const PushSecretName = "push"

// PushSecret is a push and pull Secret for quay.io, as the MCO reads it (kubernetes.io/dockerconfigjson).
func PushSecret() *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: PushSecretName, Namespace: mco.Namespace},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"quay.io":{"auth":"cm9ib3Q6cGFzc3dvcmQ="}}}`)},
	}
}

// LayeredPool is a MachineConfigPool named pool selecting the nodes labelled node-role.kubernetes.io/<pool>.
func LayeredPool(pool string) *mcfgv1.MachineConfigPool {
	return &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: pool}, Spec: mcfgv1.MachineConfigPoolSpec{
		NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"node-role.kubernetes.io/" + pool: ""}},
	}}
}

// LayeredConfig is pool's MachineOSConfig; currentBuild, when not empty, is its current build as the MCO annotates
// it (mco.AnnotationCurrentBuild).
func LayeredConfig(pool, currentBuild string) *mcfgv1.MachineOSConfig {
	mosc := &mcfgv1.MachineOSConfig{
		ObjectMeta: metav1.ObjectMeta{Name: pool},
		Spec: mcfgv1.MachineOSConfigSpec{
			MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: pool},
			ImageBuilder:            mcfgv1.MachineOSImageBuilder{ImageBuilderType: "Job"},
			BaseImagePullSecret:     &mcfgv1.ImageSecretObjectReference{Name: PushSecretName},
			RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: PushSecretName},
			RenderedImagePushSpec:   "quay.io/acme/os:latest",
		},
	}
	if currentBuild != "" {
		mosc.Annotations = map[string]string{mco.AnnotationCurrentBuild: currentBuild}
	}
	return mosc
}

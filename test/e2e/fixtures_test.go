package e2e

import (
	"encoding/base64"
	"fmt"
	"sync/atomic"

	"github.com/ocl-guard/ocl-guard/mco"
	. "github.com/onsi/gomega"
	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var nameCounter atomic.Int32

// uniqueName keeps specs independent on the one shared API server.
func uniqueName(prefix string) string { return fmt.Sprintf("%s-%d", prefix, nameCounter.Add(1)) }

func newPool(name string) *mcfgv1.MachineConfigPool {
	return &mcfgv1.MachineConfigPool{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: mcfgv1.MachineConfigPoolSpec{
			MachineConfigSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"machineconfiguration.openshift.io/role": name}},
			NodeSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{"node-role.kubernetes.io/" + name: ""}},
		},
	}
}

// dockerConfigSecret holds a made-up credential for registry; tests assert that it never shows up in messages.
func dockerConfigSecret(name, registry string) *corev1.Secret {
	auth := base64.StdEncoding.EncodeToString([]byte("robot:" + fakePassword))
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: mco.Namespace},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: fmt.Appendf(nil,
			`{"auths":{%q:{"auth":%q}}}`, registry, auth)},
	}
}

const fakePassword = "s3cr3t-never-shown"

// layeredPool is a pool with a valid push and pull secret, ready for a MachineOSConfig of the same name.
type layeredPool struct {
	name, pushSecret, pullSecret string
}

func createLayeredPool(registry string) layeredPool {
	p := layeredPool{name: uniqueName("pool"), pushSecret: uniqueName("push"), pullSecret: uniqueName("pull")}
	Expect(kube.Create(ctx, newPool(p.name))).To(Succeed())
	Expect(kube.Create(ctx, dockerConfigSecret(p.pushSecret, registry))).To(Succeed())
	Expect(kube.Create(ctx, dockerConfigSecret(p.pullSecret, "registry.redhat.io"))).To(Succeed())
	return p
}

func (p layeredPool) machineOSConfig(pushSpec string) *mcfgv1.MachineOSConfig {
	return &mcfgv1.MachineOSConfig{
		ObjectMeta: metav1.ObjectMeta{Name: p.name},
		Spec: mcfgv1.MachineOSConfigSpec{
			MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: p.name},
			ImageBuilder:            mcfgv1.MachineOSImageBuilder{ImageBuilderType: "Job"},
			BaseImagePullSecret:     &mcfgv1.ImageSecretObjectReference{Name: p.pullSecret},
			RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: p.pushSecret},
			RenderedImagePushSpec:   mcfgv1.ImageTagFormat(pushSpec),
			Containerfile: []mcfgv1.MachineOSContainerfile{{
				ContainerfileArch: mcfgv1.NoArch,
				Content:           "FROM configs AS final\nRUN rpm-ostree install tree && ostree container commit\n",
			}},
		},
	}
}

func deleteQuietly(obj client.Object) { _ = client.IgnoreNotFound(kube.Delete(ctx, obj)) }

package validators

import (
	"context"
	"encoding/base64"
	"fmt"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/registry"
)

// clusterFixture is a small in-memory Lookups for rule tests.
type clusterFixture struct {
	preflightFixture
	secrets       map[string]*corev1.Secret
	pools         map[string]bool
	clusterPull   bool
	lookupErr     error // returned by every lookup when set, e.g. a forbidden error
	probe         registry.Result
	secretLookups int
	poolConfig    string // the pools' spec.configuration.name
}

func newClusterFixture() *clusterFixture {
	return &clusterFixture{secrets: map[string]*corev1.Secret{}, pools: map[string]bool{"worker": true}, clusterPull: true}
}

func (c *clusterFixture) withSecret(s *corev1.Secret) *clusterFixture {
	c.secrets[s.Name] = s
	return c
}

func (c *clusterFixture) MCOSecret(_ context.Context, name string) (*corev1.Secret, error) {
	c.secretLookups++
	if c.lookupErr != nil {
		return nil, c.lookupErr
	}
	if s, ok := c.secrets[name]; ok {
		return s, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}

func (c *clusterFixture) ClusterPullSecret(context.Context) (*corev1.Secret, error) {
	if c.lookupErr != nil {
		return nil, c.lookupErr
	}
	if !c.clusterPull {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, "pull-secret")
	}
	return dockerConfigJSON("pull-secret", `{"auths":{"registry.redhat.io":{"auth":"dTpw"}}}`), nil
}

func (c *clusterFixture) MachineConfigPool(_ context.Context, name string) (*mcfgv1.MachineConfigPool, error) {
	if c.lookupErr != nil {
		return nil, c.lookupErr
	}
	if c.pools[name] {
		pool := &mcfgv1.MachineConfigPool{ObjectMeta: metav1.ObjectMeta{Name: name}}
		pool.Spec.Configuration.Name = c.poolConfig
		return pool, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Group: "machineconfiguration.openshift.io", Resource: "machineconfigpools"}, name)
}

func (c *clusterFixture) ProbeWithSecret(context.Context, string, *corev1.Secret) registry.Result {
	return c.probe
}

const testPassword = "hunter2-never-echoed"

func basicAuth() string { return base64.StdEncoding.EncodeToString([]byte("robot:" + testPassword)) }

func dockerConfigJSON(name, data string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: mco.Namespace},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(data)},
	}
}

func pushSecretFor(registries ...string) *corev1.Secret {
	auths := ""
	for i, r := range registries {
		if i > 0 {
			auths += ","
		}
		auths += fmt.Sprintf("%q:{\"auth\":%q}", r, basicAuth())
	}
	return dockerConfigJSON("push", `{"auths":{`+auths+`}}`)
}

// goodConfig is a MachineOSConfig every rule accepts against newClusterFixture().withSecret(pushSecretFor("quay.io")).
func goodConfig() *mcfgv1.MachineOSConfig {
	return &mcfgv1.MachineOSConfig{
		ObjectMeta: metav1.ObjectMeta{Name: "worker"},
		Spec: mcfgv1.MachineOSConfigSpec{
			MachineConfigPool:       mcfgv1.MachineConfigPoolReference{Name: "worker"},
			ImageBuilder:            mcfgv1.MachineOSImageBuilder{ImageBuilderType: "Job"},
			RenderedImagePushSecret: mcfgv1.ImageSecretObjectReference{Name: "push"},
			RenderedImagePushSpec:   "quay.io/acme/os:latest",
			Containerfile: []mcfgv1.MachineOSContainerfile{{
				ContainerfileArch: mcfgv1.NoArch,
				Content:           "FROM configs AS final\nRUN rpm-ostree install tree && ostree container commit\n",
			}},
		},
	}
}

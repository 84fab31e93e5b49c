// Package benchcorpus writes the manifests that `make bench` checks with `ocl-guard check -f`: one file per
// MachineOSConfig, as a GitOps repository lays them out, each with its MachineConfigPool and push Secret, and a
// base-image pull Secret shared by all of them in a file of its own (a reference across files).
package benchcorpus

import (
	"fmt"
	"os"
	"path/filepath"
)

// The names and registries vary as in a fleet's repository, so no cache keyed on a repeated string flatters the
// numbers.
var (
	roles      = []string{"infra", "gpu", "edge", "storage", "db", "ml", "router", "batch"}
	registries = []string{"quay.io/acme", "registry.example.com:5000/os", "image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator", "123456789012.dkr.ecr.us-east-1.amazonaws.com/ocl"}
	packages   = []string{"tmux", "htop strace", "nvidia-driver-cuda", "lvm2 sg3_utils", "tcpdump"}
)

// BasePullSecretFile names the file holding the pull Secret every config refers to.
const BasePullSecretFile = "base-pull.yaml"

// Write writes n config files and the shared pull Secret into dir, which must exist. Every config is admitted
// without warnings when the files are checked together.
func Write(dir string, n int) error {
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, FileName(i)), []byte(Manifest(i)), 0o600); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, BasePullSecretFile), []byte(Secret("base-pull", "registry.redhat.io")), 0o600)
}

// FileName is the name of config i's file; files sort in the order written.
func FileName(i int) string {
	return fmt.Sprintf("%s-%05d.yaml", roles[i%len(roles)], i)
}

// Manifest is file i: a MachineConfigPool, its MachineOSConfig and the config's push Secret.
func Manifest(i int) string {
	pool := fmt.Sprintf("%s-%05d", roles[i%len(roles)], i)
	registry := registries[i%len(registries)]
	host := registry[:indexByte(registry, '/')]
	return fmt.Sprintf(`# %[1]s: layered image for the %[1]s pool
apiVersion: machineconfiguration.openshift.io/v1
kind: MachineConfigPool
metadata:
  name: %[1]s
  labels:
    pools.operator.machineconfiguration.openshift.io/%[1]s: ""
spec:
  machineConfigSelector:
    matchExpressions:
    - key: machineconfiguration.openshift.io/role
      operator: In
      values: [worker, %[1]s]
  nodeSelector:
    matchLabels:
      node-role.kubernetes.io/%[1]s: ""
  maxUnavailable: 1
---
apiVersion: machineconfiguration.openshift.io/v1
kind: MachineOSConfig
metadata:
  name: %[1]s
  annotations:
    example.com/owner: team-%[4]d
spec:
  machineConfigPool:
    name: %[1]s
  imageBuilder:
    imageBuilderType: Job
  baseImagePullSecret:
    name: base-pull
  renderedImagePushSecret:
    name: push-%[1]s
  renderedImagePushSpec: %[2]s/%[1]s:layered
  containerFile:
  - containerfileArch: NoArch
    content: |-
      FROM configs AS final
      RUN dnf install -y %[3]s && \
          dnf clean all && \
          ostree container commit
      LABEL example.com/pool=%[1]s
---
%[5]s`, pool, registry, packages[i%len(packages)], i%17, Secret("push-"+pool, host))
}

// Secret is a dockerconfigjson Secret in the MCO namespace with a credential for host.
func Secret(name, host string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %s
  namespace: openshift-machine-config-operator
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{"auths":{"%s":{"auth":"dTpwYXNz","email":"ci@example.com"}}}'
`, name, host)
}

func indexByte(s string, c byte) int {
	for i := range len(s) {
		if s[i] == c {
			return i
		}
	}
	return len(s)
}

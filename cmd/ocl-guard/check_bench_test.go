package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCheck1000 runs the built binary, as CI does, over 1,000 files each holding a MachineOSConfig, its pool and
// its push Secret, and reports files per second and the process's peak resident memory.
func BenchmarkCheck1000(b *testing.B) {
	const n = 1000
	dir := b.TempDir()
	binary := filepath.Join(dir, "ocl-guard")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	manifests := filepath.Join(dir, "manifests")
	if err := os.Mkdir(manifests, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(manifests, fmt.Sprintf("pool-%04d.yaml", i)), []byte(benchManifest(i)), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(manifests, "base-pull.yaml"), []byte(benchSecret("base-pull", "registry.redhat.io")), 0o600); err != nil {
		b.Fatal(err)
	}
	var peakKB int64
	var elapsed time.Duration
	for b.Loop() {
		cmd := exec.Command(binary, "check", "-f", manifests, "-o", "json")
		start := time.Now()
		err := cmd.Run()
		elapsed += time.Since(start)
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) || cmd.ProcessState.ExitCode() != 0 {
			b.Fatalf("check: %v (exit %d)", err, cmd.ProcessState.ExitCode())
		}
		if rusage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peakKB = max(peakKB, rusage.Maxrss) // kilobytes on Linux
		}
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "files/s")
	b.ReportMetric(float64(peakKB)/1024, "peak-RSS-MiB")
}

func benchManifest(i int) string {
	pool := fmt.Sprintf("pool-%04d", i)
	return fmt.Sprintf(`apiVersion: machineconfiguration.openshift.io/v1
kind: MachineConfigPool
metadata: {name: %[1]s}
spec:
  machineConfigSelector: {matchLabels: {machineconfiguration.openshift.io/role: %[1]s}}
  nodeSelector: {matchLabels: {node-role.kubernetes.io/%[1]s: ""}}
---
apiVersion: machineconfiguration.openshift.io/v1
kind: MachineOSConfig
metadata: {name: %[1]s}
spec:
  machineConfigPool: {name: %[1]s}
  imageBuilder: {imageBuilderType: Job}
  baseImagePullSecret: {name: base-pull}
  renderedImagePushSecret: {name: push-%[1]s}
  renderedImagePushSpec: quay.io/acme/%[1]s:latest
  containerFile:
  - content: |-
      FROM configs AS final
      RUN dnf install -y tmux && dnf clean all
---
%[2]s`, pool, benchSecret("push-"+pool, "quay.io"))
}

func benchSecret(name, host string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: %s, namespace: openshift-machine-config-operator}
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{"auths":{"%s":{"auth":"dTpwYXNz"}}}'
`, name, host)
}

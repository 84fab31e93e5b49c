package e2e

import (
	"os"
	"os/exec"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("ocl-guard check --live", func() {
	It("checks manifests against the cluster's Secrets and pools, and the cluster's own configs", func() {
		dir := GinkgoT().TempDir()
		binary, kubeconfigPath := oclGuardBinary("ocl-guard")

		// The manifest names a secret that exists only in the cluster: offline that is a warning, live it is fine.
		p := createLayeredPool("quay.io")
		manifest := filepath.Join(dir, "mosc.yaml")
		Expect(os.WriteFile(manifest, []byte(`apiVersion: machineconfiguration.openshift.io/v1
kind: MachineOSConfig
metadata: {name: `+p.name+`}
spec:
  machineConfigPool: {name: `+p.name+`}
  imageBuilder: {imageBuilderType: Job}
  baseImagePullSecret: {name: `+p.pullSecret+`}
  renderedImagePushSecret: {name: `+p.pushSecret+`}
  renderedImagePushSpec: quay.io/acme/os:latest
`), 0o600)).To(Succeed())

		check := func(args ...string) (string, int) {
			cmd := exec.Command(binary, append([]string{"check", "--kubeconfig", kubeconfigPath}, args...)...)
			out, err := cmd.CombinedOutput()
			if exitErr, ok := err.(*exec.ExitError); ok {
				return string(out), exitErr.ExitCode()
			}
			Expect(err).NotTo(HaveOccurred())
			return string(out), 0
		}
		out1, code := check("--live", "-f", manifest)
		Expect(code).To(Equal(0), out1)
		Expect(out1).To(ContainSubstring("MachineOSConfig " + p.name + ": admitted"))
		Expect(out1).NotTo(ContainSubstring("not in the given manifests"))

		// Without -f it checks every MachineOSConfig in the cluster; a missing push secret is then a denial.
		mosc := p.machineOSConfig("quay.io/acme/os:latest")
		Expect(kube.Create(ctx, mosc)).To(Succeed())
		deleteQuietly(dockerConfigSecret(p.pushSecret, "quay.io"))
		out2, code := check("--live")
		Expect(code).To(Equal(1), out2)
		Expect(out2).To(ContainSubstring("MachineOSConfig " + p.name + ": denied"))
		Expect(out2).To(ContainSubstring(`spec.renderedImagePushSecret.name: Not found: "` + p.pushSecret + `"`))
		deleteQuietly(mosc)
	})
})

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ocl-guard/ocl-guard/test/testbed"
)

var (
	binaryOnce sync.Once
	binaryDir  string
	binaryErr  error
)

// oclGuardBinary builds cmd/ocl-guard once for the suite, under name (the plugin's behaviour follows argv[0]:
// "kubectl-ocl_guard" links to the same build), and writes the admin kubeconfig next to it.
func oclGuardBinary(name string) (binary, kubeconfig string) {
	GinkgoHelper()
	binaryOnce.Do(func() {
		if binaryDir, binaryErr = os.MkdirTemp("", "ocl-guard-e2e-"); binaryErr != nil {
			return
		}
		build := exec.Command("go", "build", "-o", filepath.Join(binaryDir, "ocl-guard"), "./cmd/ocl-guard")
		build.Dir = testbed.RepoRoot()
		if out, err := build.CombinedOutput(); err != nil {
			binaryErr = &buildError{out: string(out), err: err}
			return
		}
		var data []byte
		if data, binaryErr = bed.Kubeconfig(); binaryErr == nil {
			binaryErr = os.WriteFile(filepath.Join(binaryDir, "kubeconfig"), data, 0o600)
		}
	})
	Expect(binaryErr).NotTo(HaveOccurred())
	binary = filepath.Join(binaryDir, name)
	if name != "ocl-guard" {
		if err := os.Symlink(filepath.Join(binaryDir, "ocl-guard"), binary); err != nil && !os.IsExist(err) {
			Expect(err).NotTo(HaveOccurred())
		}
	}
	return binary, filepath.Join(binaryDir, "kubeconfig")
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

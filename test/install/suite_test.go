// Package install proves what `oc apply -k` installs: every kustomization rendered as kubectl renders it and
// created on a real API server, both faces run with exactly the rendered RBAC and settings, and the self-managed
// certificate mode rotating under load.
package install

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/ocl-guard/ocl-guard/test/testbed"
)

func TestInstall(t *testing.T) {
	RegisterFailHandler(Fail)
	ctrl.SetLogger(GinkgoLogr)
	RunSpecs(t, "ocl-guard install suite")
}

// render builds a kustomization as `kubectl kustomize` and `oc apply -k` do (testbed.Render).
func render(dir string) []*unstructured.Unstructured {
	GinkgoHelper()
	objs, err := testbed.Render(dir)
	Expect(err).NotTo(HaveOccurred())
	return objs
}

// configDir is a directory under config/.
func configDir(elem ...string) string {
	return filepath.Join(append([]string{testbed.RepoRoot(), "config"}, elem...)...)
}

// moduleDir is where the go command keeps a module this one requires.
func moduleDir(path string) string {
	GinkgoHelper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", path)
	cmd.Dir = testbed.RepoRoot()
	out, err := cmd.Output()
	Expect(err).NotTo(HaveOccurred(), "go list -m %s", path)
	return strings.TrimSpace(string(out))
}

// freePort is a loopback port nothing listens on.
func freePort() int {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func objectMeta(key types.NamespacedName) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}
}

// parseOne parses a PEM file holding one certificate.
func parseOne(data []byte) *x509.Certificate {
	GinkgoHelper()
	block, _ := pem.Decode(data)
	Expect(block).NotTo(BeNil())
	c, err := x509.ParseCertificate(block.Bytes)
	Expect(err).NotTo(HaveOccurred())
	return c
}

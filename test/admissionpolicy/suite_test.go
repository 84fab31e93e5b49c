// Package admissionpolicy proves config/vap: the ValidatingAdmissionPolicies rendered from the audit profile, on a
// real API server with the real MachineOSConfig CRD and the webhook down, give the Go rules' verdicts, except where
// a known-divergence table says (and checks) otherwise.
package admissionpolicy

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/test/testbed"
)

func TestAdmissionPolicy(t *testing.T) {
	RegisterFailHandler(Fail)
	ctrl.SetLogger(GinkgoLogr)
	RunSpecs(t, "ocl-guard ValidatingAdmissionPolicy suite")
}

var (
	ctx = context.Background()
	env *envtest.Environment
	cfg *rest.Config
	// kube talks to the API server as `oc apply` does, and records the warnings it is sent.
	kube     client.Client
	warnings = &testbed.WarningRecorder{}
)

var _ = BeforeSuite(func() {
	var err error
	env, err = testbed.ControlPlane()
	Expect(err).NotTo(HaveOccurred())
	cfg, err = env.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	scheme, err := app.Scheme()
	Expect(err).NotTo(HaveOccurred())
	recording := rest.CopyConfig(cfg)
	recording.WarningHandler = warnings
	kube, err = client.New(recording, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	Expect(testbed.CreateNamespaces(ctx, kube)).To(Succeed())
})

// fromPolicy keeps the warnings a ValidatingAdmissionPolicy sent.
func fromPolicy(ws []string) []string {
	var out []string
	for _, w := range ws {
		if strings.Contains(w, "ValidatingAdmissionPolicy") {
			out = append(out, w)
		}
	}
	return out
}

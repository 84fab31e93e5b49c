package e2e

import (
	"encoding/base64"
	"net"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ocl-guard/ocl-guard/mco"
	"github.com/ocl-guard/ocl-guard/test/registry/registrytest"
	"github.com/ocl-guard/ocl-guard/validators"
)

var _ = Describe("Push registry checks against a real registry", func() {
	// configFor returns a MachineOSConfig pushing to host with a push secret holding user's credentials for host.
	configFor := func(host string, user registrytest.User) (layeredPool, string) {
		p := createLayeredPool("quay.io")
		Expect(kube.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: p.pushSecret + "-" + user.Name, Namespace: mco.Namespace},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(
				`{"auths":{"` + host + `":{"username":"` + user.Name + `","password":"` + user.Password + `","auth":"` +
					base64.StdEncoding.EncodeToString([]byte(user.Name+":"+user.Password)) + `"}}}`)},
		})).To(Succeed())
		p.pushSecret += "-" + user.Name
		return p, host + "/acme/os-image:latest"
	}

	It("admits a push secret that may push", func() {
		p, spec := configFor(pushRegistry.Host, registrytest.Writer)
		mosc := p.machineOSConfig(spec)
		got := warnings.During(func() { Expect(kube.Create(ctx, mosc)).To(Succeed()) })
		joined := strings.Join(got, "\n")
		Expect(joined).NotTo(ContainSubstring("[pushspec-reachable]"))
		Expect(joined).NotTo(ContainSubstring("[pushspec-push-permission]"))
		deleteQuietly(mosc)
	})

	It("denies a wrong password, naming the host and never the password", func() {
		wrong := registrytest.User{Name: registrytest.Writer.Name, Password: "not-the-password"}
		p, spec := configFor(pushRegistry.Host, wrong)
		err := kube.Create(ctx, p.machineOSConfig(spec))
		msg := expectInvalid(err, "spec.renderedImagePushSecret.name", metav1.CauseTypeFieldValueInvalid, validators.RulePushSpecPushPermission)
		Expect(msg).To(ContainSubstring(pushRegistry.Host))
		Expect(msg).NotTo(ContainSubstring(wrong.Password))
	})

	It("denies a user that may only pull", func() {
		p, spec := configFor(pushRegistry.Host, registrytest.Reader)
		err := kube.Create(ctx, p.machineOSConfig(spec))
		Expect(expectInvalid(err, "spec.renderedImagePushSecret.name", metav1.CauseTypeFieldValueInvalid, validators.RulePushSpecPushPermission)).
			To(ContainSubstring("grant pull but not push"))
	})

	It("admits with a warning when the registry is down (the build pod's network may differ)", func() {
		down := closedPort()
		p, spec := configFor(down, registrytest.Writer)
		mosc := p.machineOSConfig(spec)
		got := warnings.During(func() { Expect(kube.Create(ctx, mosc)).To(Succeed()) })
		Expect(strings.Join(got, " ")).To(SatisfyAll(ContainSubstring("[pushspec-reachable]"), ContainSubstring(down), ContainSubstring("refused")))
		deleteQuietly(mosc)
	})

	It("refuses to probe the cloud metadata address", func() {
		defer actions.set(validators.RulePushSpecReachable, validators.ActionDeny)()
		p, spec := configFor("169.254.169.254", registrytest.Writer)
		err := kube.Create(ctx, p.machineOSConfig(spec))
		Expect(expectInvalid(err, "spec.renderedImagePushSpec", metav1.CauseTypeFieldValueInvalid, validators.RulePushSpecReachable)).
			To(ContainSubstring("refused to connect to 169.254.169.254"))
	})

	It("answers within the probe budget when the registry accepts connections and never answers", func() {
		silent, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		defer silent.Close()
		go func() {
			for {
				conn, err := silent.Accept()
				if err != nil {
					return
				}
				defer conn.Close() // held open, never answered
			}
		}()
		p, spec := configFor(silent.Addr().String(), registrytest.Writer)
		mosc := p.machineOSConfig(spec)
		start := time.Now()
		got := warnings.During(func() { Expect(kube.Create(ctx, mosc)).To(Succeed()) })
		elapsed := time.Since(start)
		// The verdict is "unknown" from the probe's own deadline, not the API server's 10 s webhook timeout
		// (which would admit silently, without this warning).
		Expect(strings.Join(got, " ")).To(ContainSubstring("within " + registryBudget.String() + ": verdict unknown"))
		Expect(elapsed).To(BeNumerically("<", registryBudget+3*time.Second))
		deleteQuietly(mosc)
	})
})

// closedPort is a loopback address nothing listens on.
func closedPort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := l.Addr().String()
	Expect(l.Close()).To(Succeed())
	return addr
}

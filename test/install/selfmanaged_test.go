package install

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ocl-guard/ocl-guard/app"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/test/testbed"
)

// --cert-mode=self on a real API server that reaches the webhook only through the caBundle it publishes.
var _ = Describe("Self-managed serving certificates", Ordered, func() {
	const certDuration = 3 * time.Second // renewed every 2 s
	var (
		bed  *testbed.Bed
		kube client.Client
		ctx  = context.Background()
	)

	BeforeAll(func() {
		certs := testbed.SelfManagedCerts()
		certs.CertDuration = certDuration
		certs.Resync = 2 * time.Second
		var err error
		bed, err = testbed.Start(testbed.Options{Settings: config.Defaults(), SelfManagedCerts: certs})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(bed.Stop)
		kube = bed.Client
		for _, obj := range render(configDir("samples")) {
			if obj.GetKind() != "MachineOSConfig" {
				Expect(kube.Create(ctx, obj)).To(Succeed(), "%s %s", obj.GetKind(), obj.GetName())
			}
		}
	})

	// admit is one admission through the API server: a dry-run create of the sample the webhook admits. With
	// failurePolicy Fail, an API server that cannot verify the webhook's certificate refuses it.
	admit := func() error {
		objs := render(configDir("samples"))
		for _, obj := range objs {
			if obj.GetKind() == "MachineOSConfig" {
				return kube.Create(ctx, obj, client.DryRunAll)
			}
		}
		return fmt.Errorf("no MachineOSConfig in config/samples")
	}

	caSecret := func() []byte {
		GinkgoHelper()
		var s corev1.Secret
		Expect(kube.Get(ctx, testbed.SelfManagedCerts().CASecret, &s)).To(Succeed())
		return s.Data[corev1.TLSCertKey]
	}
	caBundle := func() *x509.CertPool {
		GinkgoHelper()
		var vwc admissionregistrationv1.ValidatingWebhookConfiguration
		Expect(kube.Get(ctx, client.ObjectKey{Name: "ocl-guard"}, &vwc)).To(Succeed())
		pool := x509.NewCertPool()
		Expect(pool.AppendCertsFromPEM(vwc.Webhooks[0].ClientConfig.CABundle)).To(BeTrue())
		return pool
	}
	webhookAddr := func(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

	It("keeps its CA in the Secret across a restart", func() {
		Eventually(admit).WithTimeout(30 * time.Second).Should(Succeed())
		before := caSecret()
		Expect(bed.RestartWebhook()).To(Succeed())
		Eventually(admit).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(caSecret()).To(Equal(before), "the restarted webhook made a new CA")
		leaf, err := servedCertificate(webhookAddr(bed.WebhookOptions().Port))
		Expect(err).NotTo(HaveOccurred())
		Expect(leaf.CheckSignatureFrom(parseOne(before))).To(Succeed(), "the restarted webhook serves a certificate of another CA")
	})

	It("renews its certificate and follows a CA rotation under load, with zero failed admissions; two replicas share the CA", func() {
		Eventually(admit).WithTimeout(30 * time.Second).Should(Succeed())

		// A second replica, as the second pod of the Deployment: same CA Secret, same caBundle.
		second := bed.WebhookOptions()
		second.Port = freePort()
		mgr, err := app.NewWebhookManager(bed.Config, second)
		Expect(err).NotTo(HaveOccurred())
		runCtx, stop := context.WithCancel(ctx)
		secondDone := make(chan error, 1)
		go func() { secondDone <- mgr.Start(runCtx) }()
		DeferCleanup(func() { stop(); Expect(<-secondDone).To(Succeed()) })
		Expect(testbed.WaitForTLS(webhookAddr(second.Port), 30*time.Second)).To(Succeed())

		// Bounded load: four clients, each at most one admission every 20 ms, until the checks below are done.
		var sent, failed atomic.Int64
		var firstFailure atomic.Value
		loadCtx, stopLoad := context.WithCancel(ctx)
		var load sync.WaitGroup
		for range 4 {
			load.Go(func() {
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-loadCtx.Done():
						return
					case <-tick.C:
					}
					sent.Add(1)
					if err := admit(); err != nil {
						failed.Add(1)
						firstFailure.CompareAndSwap(nil, err.Error())
					}
				}
			})
		}

		// Serving certificates seen on the bed's replica while the load runs.
		serials := map[string]bool{}
		watchServed := func(want int) func(Gomega) {
			return func(g Gomega) {
				leaf, err := servedCertificate(webhookAddr(bed.WebhookOptions().Port))
				g.Expect(err).NotTo(HaveOccurred())
				serials[leaf.SerialNumber.String()] = true
				g.Expect(len(serials)).To(BeNumerically(">=", want))
			}
		}
		Eventually(watchServed(4)).WithTimeout(30*time.Second).WithPolling(200*time.Millisecond).Should(Succeed(), "serving certificate renewals")

		// Rotate the CA as an administrator would (delete the Secret): a new CA is made, published next to
		// the old one, and both replicas move to it.
		oldCA := caSecret()
		Expect(kube.Delete(ctx, &corev1.Secret{ObjectMeta: objectMeta(testbed.SelfManagedCerts().CASecret)})).To(Succeed())
		// Right after the rotation, as fast as it can: what a replica serves verifies against the caBundle as it
		// was before the handshake, so the API server could verify it too (a replica that served the new CA
		// before publishing it would fail here).
		unverifiable, looked := 0, 0
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); looked++ {
			bundle := caBundle()
			leaf, err := servedCertificate(webhookAddr(bed.WebhookOptions().Port))
			Expect(err).NotTo(HaveOccurred())
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: bundle, DNSName: "localhost"}); err != nil {
				unverifiable++
			}
		}
		Expect(unverifiable).To(BeZero(), "of %d served certificates looked at after the rotation", looked)
		var newCA []byte
		Eventually(func(g Gomega) {
			var s corev1.Secret
			g.Expect(kube.Get(ctx, testbed.SelfManagedCerts().CASecret, &s)).To(Succeed())
			g.Expect(s.Data[corev1.TLSCertKey]).NotTo(BeEmpty())
			g.Expect(s.Data[corev1.TLSCertKey]).NotTo(Equal(oldCA))
			newCA = s.Data[corev1.TLSCertKey]
		}).WithTimeout(30 * time.Second).Should(Succeed())
		for _, port := range []int{bed.WebhookOptions().Port, second.Port} {
			Eventually(func(g Gomega) {
				bundle := caBundle()
				leaf, err := servedCertificate(webhookAddr(port))
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(leaf.CheckSignatureFrom(parseOne(newCA))).To(Succeed())
				_, err = leaf.Verify(x509.VerifyOptions{Roots: bundle, DNSName: "localhost"})
				g.Expect(err).NotTo(HaveOccurred())
			}).WithTimeout(30*time.Second).WithPolling(200*time.Millisecond).Should(Succeed(), "replica on port %d", port)
		}
		Eventually(watchServed(len(serials)+2)).WithTimeout(30*time.Second).WithPolling(200*time.Millisecond).Should(Succeed(), "renewals under the new CA")

		stopLoad()
		load.Wait()
		AddReportEntry("admissions during rotation", fmt.Sprintf("%d sent, %d failed, %d serving certificates seen", sent.Load(), failed.Load(), len(serials)))
		GinkgoWriter.Printf("admissions during rotation: %d sent, %d failed, %d serving certificates seen\n", sent.Load(), failed.Load(), len(serials))
		Expect(sent.Load()).To(BeNumerically(">", 0))
		Expect(failed.Load()).To(BeZero(), "first failure: %v", firstFailure.Load())
	})
})

// servedCertificate is the certificate a TLS server presents, read without verifying it.
func servedCertificate(addr string) (*x509.Certificate, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only reads the certificate
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

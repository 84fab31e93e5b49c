// Package restart runs `ocl-guard wait` (status.Wait, in-process) across a restart of kube-apiserver. It has a
// control plane of its own: a restart breaks every watch on the API server, and the other suites' webhooks and
// informers would meet it in the middle of their specs.
package restart

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/test/testbed"
)

func TestRestart(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "ocl-guard wait across an API server restart")
}

var (
	bed *testbed.Bed
	ctx = context.Background()
)

var _ = BeforeSuite(func() {
	var err error
	bed, err = testbed.Start(testbed.Options{Settings: config.Defaults()})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if bed != nil {
		Expect(bed.Stop()).To(Succeed())
	}
})

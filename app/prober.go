package app

import (
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ocl-guard/ocl-guard/certs"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/registry"
)

// NewProber builds the registry prober from the settings. It trusts the system roots, the cluster service CA when
// mounted (for image-registry.openshift-image-registry.svc and other .svc registries) and registry.caBundles.
func NewProber(s config.RegistrySettings) (*registry.Prober, error) {
	roots, err := certs.LoadCAPool(true, append(certs.DefaultCAFiles(), s.CABundles...)...)
	if err != nil {
		return nil, fmt.Errorf("registry.caBundles: %w", err)
	}
	return registry.NewProber(registry.Options{
		Budget:        s.Budget.Duration,
		SuccessTTL:    s.SuccessTTL.Duration,
		FailureTTL:    s.FailureTTL.Duration,
		InsecureHosts: s.InsecureHosts,
		AllowLoopback: s.AllowLoopback,
		AllowPrivate:  s.PrivateAllowed(),
		AllowedCIDRs:  s.AllowedPrefixes(),
		RootCAs:       roots,
		WriteProbe:    s.WriteProbe,
		Registerer:    metrics.Registry,
	})
}

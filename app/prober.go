package app

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ocl-guard/ocl-guard/certs"
	"github.com/ocl-guard/ocl-guard/config"
	"github.com/ocl-guard/ocl-guard/registry"
)

// NewProber builds the registry prober from the settings. It trusts the system roots, the cluster service CA when
// mounted (for image-registry.openshift-image-registry.svc and other .svc registries) and registry.caBundles. Its
// metrics are registered with reg: the registry the process serves; nil for a command that serves none.
func NewProber(s config.RegistrySettings, reg prometheus.Registerer) (*registry.Prober, error) {
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
		Registerer:    reg,
	})
}

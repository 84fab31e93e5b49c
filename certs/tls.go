// Package certs holds ocl-guard's TLS handling: the serving side of the webhook and the CA bundles trusted when
// probing registries.
package certs

import "crypto/tls"

// ServingTLSOptions hardens the webhook's TLS listener. HTTP/2 is turned off, as kubebuilder scaffolds do, because
// the API server speaks HTTP/1.1 to webhooks and HTTP/2 adds the rapid-reset and stream-exhaustion attack surface
// (CVE-2023-44487, CVE-2023-39325) for nothing.
func ServingTLSOptions() []func(*tls.Config) {
	return []func(*tls.Config){func(c *tls.Config) {
		c.MinVersion = tls.VersionTLS12
		c.NextProtos = []string{"http/1.1"}
	}}
}

package certs

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// ServiceCAFile is where OpenShift mounts the service CA into every pod; it signs the certificates of in-cluster
// services such as the internal image registry.
const ServiceCAFile = "/var/run/secrets/kubernetes.io/serviceaccount/service-ca.crt"

// DefaultCAFiles returns the well-known CA bundles that exist on this machine (today only ServiceCAFile), for
// LoadCAPool: outside OpenShift the service CA is absent and that is not an error.
func DefaultCAFiles() []string {
	var files []string
	if _, err := os.Stat(ServiceCAFile); err == nil {
		files = append(files, ServiceCAFile)
	}
	return files
}

// LoadCAPool returns a pool of the system CAs (when includeSystem) plus every certificate in the PEM bundles
// named by files. Each named file must exist and hold only PEM certificates: a bundle that silently adds nothing
// would surface much later as "certificate signed by unknown authority".
func LoadCAPool(includeSystem bool, files ...string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if includeSystem {
		system, err := x509.SystemCertPool()
		if err != nil {
			return nil, fmt.Errorf("loading the system CA certificates: %w; pass includeSystem=false to use only the named bundles", err)
		}
		pool = system
	}
	for _, file := range files {
		certs, err := readBundle(file)
		if err != nil {
			return nil, err
		}
		for _, c := range certs {
			pool.AddCert(c)
		}
	}
	return pool, nil
}

func readBundle(file string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CA bundle %s: %w", file, err)
	}
	var certs []*x509.Certificate
	rest := data
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("CA bundle %s: PEM block %d is a %q; a CA bundle holds only CERTIFICATE blocks", file, n, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CA bundle %s: certificate %d does not parse: %w", file, n, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("CA bundle %s: %w", file, errNoCertificates)
	}
	return certs, nil
}

var errNoCertificates = errors.New("no PEM certificate found; expected -----BEGIN CERTIFICATE----- blocks")

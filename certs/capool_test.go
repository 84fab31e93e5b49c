package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func selfSigned(t *testing.T, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pemOf(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func trusts(pool *x509.CertPool, c *x509.Certificate) bool {
	_, err := c.Verify(x509.VerifyOptions{Roots: pool})
	return err == nil
}

func TestLoadCAPoolAddsEveryCertificateOfABundle(t *testing.T) {
	a, b := selfSigned(t, "ca-a"), selfSigned(t, "ca-b")
	bundle := writeFile(t, "bundle.crt", pemOf(a)+"\n"+pemOf(b))
	for _, includeSystem := range []bool{false, true} {
		pool, err := LoadCAPool(includeSystem, bundle)
		if err != nil {
			t.Fatalf("includeSystem=%v: %v", includeSystem, err)
		}
		if !trusts(pool, a) || !trusts(pool, b) {
			t.Errorf("includeSystem=%v: pool does not trust both bundle certificates", includeSystem)
		}
	}
}

func TestLoadCAPoolWithoutFilesOrSystemTrustsNothing(t *testing.T) {
	pool, err := LoadCAPool(false)
	if err != nil {
		t.Fatal(err)
	}
	if trusts(pool, selfSigned(t, "stranger")) {
		t.Error("an empty pool trusts a stranger's certificate")
	}
}

func TestLoadCAPoolErrorsNameTheFileAndTheProblem(t *testing.T) {
	c := selfSigned(t, "ca")
	corrupt := strings.Replace(pemOf(c), "MII", "AAA", 1)
	tests := []struct {
		name, content, want string
	}{
		{"not PEM", "just some text\n", "no PEM certificate found"},
		{"empty", "", "no PEM certificate found"},
		{"private key", pemOf(c) + "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", `PEM block 2 is a "PRIVATE KEY"`},
		{"corrupt certificate", corrupt, "certificate 1 does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "ca.crt", tt.content)
			_, err := LoadCAPool(false, path)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s and %q", err, path, tt.want)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "absent.crt")
		_, err := LoadCAPool(false, path)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("error %v does not name %s", err, path)
		}
	})
}

func TestDefaultCAFilesListsOnlyExistingFiles(t *testing.T) {
	for _, f := range DefaultCAFiles() {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("DefaultCAFiles lists %s, which cannot be read: %v", f, err)
		}
	}
}

package app

import (
	"os"
	"path/filepath"
	"testing"
)

const testKubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`

// A kubeconfig once brought client-go's default limit (5 QPS, burst 10) back while the in-cluster path had none:
// every path must carry the flags' limits.
func TestRESTConfigAppliesLimitsOnTheKubeconfigPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		qps   float32
		burst int
	}{{DefaultKubeAPIQPS, DefaultKubeAPIBurst}, {50, 80}} {
		cfg, err := RESTConfig(path, tc.qps, tc.burst)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.QPS != tc.qps || cfg.Burst != tc.burst || cfg.RateLimiter != nil {
			t.Errorf("RESTConfig(%v, %d): QPS %v burst %d limiter %v", tc.qps, tc.burst, cfg.QPS, cfg.Burst, cfg.RateLimiter)
		}
	}
	t.Setenv("KUBECONFIG", path)
	cfg, err := RESTConfig("", DefaultKubeAPIQPS, DefaultKubeAPIBurst)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.QPS != DefaultKubeAPIQPS {
		t.Errorf("the $KUBECONFIG path has QPS %v, want %v", cfg.QPS, DefaultKubeAPIQPS)
	}
}

func TestRESTConfigRefusesLimitsThatBlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := RESTConfig(path, 0, 10); err == nil {
		t.Error("QPS 0 accepted")
	}
	if _, err := RESTConfig(path, 5, 0); err == nil {
		t.Error("burst 0 with a positive QPS accepted")
	}
	if _, err := RESTConfig(filepath.Join(t.TempDir(), "missing"), -1, 1); err == nil {
		t.Error("a missing kubeconfig accepted")
	}
}

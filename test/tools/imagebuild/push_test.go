package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ocl-guard/ocl-guard/test/registry/registrytest"
)

// TestPushedImageRunsHelp builds the real image for this machine's architecture, pushes it to the test registry
// (TLS, token auth) with the docker config keychain, pulls it back, checks its config, and runs the binary from
// its layers.
func TestPushedImageRunsHelp(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Fatalf("the image is linux/%s; run this test on Linux", runtime.GOARCH)
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	m, err := gitMetadata(root, "NOASSERTION")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := compile(root, t.TempDir(), runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := BuildIndex(m, CABundle, []Platform{{Arch: runtime.GOARCH, Binary: bin}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "oci")
	if err := writeLayout(dir, idx, m.Version); err != nil {
		t.Fatal(err)
	}
	fromLayout, _, err := readLayout(dir)
	if err != nil {
		t.Fatal(err)
	}

	reg := registrytest.StartToken(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, reg.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ref := reg.Repository("acme/ocl-guard:" + m.Version)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The keychain is what decides: a login that may only pull is refused.
	loginAs(t, reg, registrytest.Reader)
	if _, err := push(ctx, fromLayout, ref, caFile); err == nil {
		t.Fatal("pushing as a user without push rights succeeded")
	}
	loginAs(t, reg, registrytest.Writer)
	pushed, err := push(ctx, fromLayout, ref, caFile)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := idx.Digest(); pushed.DigestStr() != want.String() {
		t.Errorf("pushed %s, built %s", pushed, want)
	}

	img := pull(ctx, t, reg, ref)
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	checkConfig(t, cfg, m)

	_, contents := flatten(t, img)
	extracted := filepath.Join(t.TempDir(), "ocl-guard")
	if err := os.WriteFile(extracted, []byte(contents[BinaryPath[1:]]), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, extracted, "help").CombinedOutput()
	if err != nil {
		t.Fatalf("ocl-guard help from the image: %v\n%s", err, out)
	}
	for _, want := range []string{"Usage:", "ocl-guard webhook", "ocl-guard checker"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ocl-guard help printed no %q:\n%s", want, out)
		}
	}
	size, err := compressedSize(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image linux/%s: %.1f MiB compressed", runtime.GOARCH, float64(size)/(1<<20))
}

// loginAs writes a docker config.json holding u's credentials and points $DOCKER_CONFIG at it, as docker login does.
func loginAs(t *testing.T, reg *registrytest.Registry, u registrytest.User) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), reg.DockerConfigJSON(u), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("REGISTRY_AUTH_FILE", "")
	t.Setenv("XDG_RUNTIME_DIR", "")
}

// pull fetches this machine's image of the index at ref, as a node would.
func pull(ctx context.Context, t *testing.T, reg *registrytest.Registry, ref string) v1.Image {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	transport := remote.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig.RootCAs = reg.CAPool
	auth := authn.FromConfig(authn.AuthConfig{Username: registrytest.Reader.Name, Password: registrytest.Reader.Password})
	img, err := remote.Image(r, remote.WithContext(ctx), remote.WithAuth(auth), remote.WithTransport(transport),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH}))
	if err != nil {
		t.Fatalf("pulling %s: %v", ref, err)
	}
	return img
}

package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ocl-guard/ocl-guard/registry"
	"github.com/ocl-guard/ocl-guard/test/registry/registrytest"
)

const repoPath = "ocl/os-image"

func newProber(t testing.TB, reg *registrytest.Registry, writeProbe bool) *registry.Prober {
	t.Helper()
	p, err := registry.NewProber(registry.Options{AllowLoopback: true, RootCAs: reg.CAPool, WriteProbe: writeProbe})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func auth(u registrytest.User) authn.Authenticator {
	return authn.FromConfig(authn.AuthConfig{Username: u.Name, Password: u.Password})
}

type want struct {
	reachable, push registry.Status
	refused         bool
	detail          string // a substring of PushDetail
}

func check(t *testing.T, reg *registrytest.Registry, got registry.Result, w want) {
	t.Helper()
	if got.Reachable != w.reachable || got.Push != w.push || got.CredentialsRefused != w.refused || !strings.Contains(got.PushDetail, w.detail) {
		t.Errorf("got Reachable=%s (%s) Push=%s (%s) CredentialsRefused=%v\nwant Reachable=%s Push=%s CredentialsRefused=%v, push detail containing %q\nregistry output:\n%s",
			got.Reachable, got.ReachableDetail, got.Push, got.PushDetail, got.CredentialsRefused,
			w.reachable, w.push, w.refused, w.detail, reg.Output())
	}
	for _, u := range reg.Users {
		if strings.Contains(got.ReachableDetail+got.PushDetail, u.Password) {
			t.Errorf("a detail leaks the password of %s", u.Name)
		}
	}
}

func TestHtpasswdRegistry(t *testing.T) {
	reg := registrytest.StartHtpasswd(t)
	wrong := registrytest.User{Name: registrytest.Writer.Name, Password: "not-the-password"}
	tests := []struct {
		name       string
		user       registrytest.User
		writeProbe bool
		want       want
	}{
		{"good credentials", registrytest.Writer, false, want{registry.StatusOK, registry.StatusUnknown, false, "credentials accepted by " + reg.Host}},
		{"wrong password", wrong, false, want{registry.StatusOK, registry.StatusFailed, true, "refused the push secret's credentials"}},
		{"write probe, good credentials", registrytest.Writer, true, want{registry.StatusOK, registry.StatusOK, false, "accepted a test blob upload to " + repoPath}},
		{"write probe, wrong password", wrong, true, want{registry.StatusOK, registry.StatusFailed, true, "HTTP 401"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProber(t, reg, tt.writeProbe)
			r := p.Probe(context.Background(), registry.Request{Repository: reg.Repository(repoPath), Auth: auth(tt.user), CredentialVersion: "v1"})
			check(t, reg, r, tt.want)
		})
	}
}

func TestTokenRegistry(t *testing.T) {
	reg := registrytest.StartToken(t)
	wrong := registrytest.User{Name: registrytest.Writer.Name, Password: "not-the-password"}
	tests := []struct {
		name       string
		user       registrytest.User
		writeProbe bool
		want       want
	}{
		{"writer", registrytest.Writer, false, want{registry.StatusOK, registry.StatusOK, false, "granted push on " + repoPath}},
		{"reader", registrytest.Reader, false, want{registry.StatusOK, registry.StatusFailed, false, "grant pull but not push on " + repoPath}},
		{"wrong password", wrong, false, want{registry.StatusOK, registry.StatusFailed, true, "token service of " + reg.Host + " refused"}},
		{"write probe, writer", registrytest.Writer, true, want{registry.StatusOK, registry.StatusOK, false, "accepted a test blob upload to " + repoPath}},
		{"write probe, reader", registrytest.Reader, true, want{registry.StatusOK, registry.StatusFailed, false, "refused a test blob upload to " + repoPath}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProber(t, reg, tt.writeProbe)
			r := p.Probe(context.Background(), registry.Request{Repository: reg.Repository(repoPath), Auth: auth(tt.user), CredentialVersion: "v1"})
			check(t, reg, r, tt.want)
		})
	}
}

func TestStoppedRegistryIsUnreachable(t *testing.T) {
	reg := registrytest.StartHtpasswd(t)
	p := newProber(t, reg, false)
	req := registry.Request{Repository: reg.Repository(repoPath), Auth: auth(registrytest.Writer), CredentialVersion: "v1"}
	check(t, reg, p.Probe(context.Background(), req), want{registry.StatusOK, registry.StatusUnknown, false, "credentials accepted"})

	reg.Stop()
	req.CredentialVersion = "v2" // a new key, so the cached OK is not served
	r := p.Probe(context.Background(), req)
	if r.Reachable != registry.StatusFailed || r.ReachableDetail != "cannot reach registry "+reg.Host+": connection refused" {
		t.Errorf("after Stop: Reachable=%s %q", r.Reachable, r.ReachableDetail)
	}
}

func TestUntrustedRegistryCertificateFails(t *testing.T) {
	reg := registrytest.StartHtpasswd(t)
	p, err := registry.NewProber(registry.Options{AllowLoopback: true}) // system roots only
	if err != nil {
		t.Fatal(err)
	}
	r := p.Probe(context.Background(), registry.Request{Repository: reg.Repository(repoPath), Auth: auth(registrytest.Writer)})
	if r.Reachable != registry.StatusFailed || !strings.Contains(r.ReachableDetail, "x509: certificate signed by unknown authority") {
		t.Errorf("Reachable=%s %q", r.Reachable, r.ReachableDetail)
	}
}

func TestProbeWithSecretAgainstTokenRegistry(t *testing.T) {
	reg := registrytest.StartToken(t)
	p := newProber(t, reg, false)
	for _, tt := range []struct {
		user registrytest.User
		push registry.Status
	}{{registrytest.Writer, registry.StatusOK}, {registrytest.Reader, registry.StatusFailed}} {
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "push-" + tt.user.Name, UID: types.UID("uid-" + tt.user.Name), ResourceVersion: "1"},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data:       map[string][]byte{corev1.DockerConfigJsonKey: reg.DockerConfigJSON(tt.user)},
		}
		r := p.ProbeWithSecret(context.Background(), reg.Repository(repoPath), secret)
		if r.Reachable != registry.StatusOK || r.Push != tt.push {
			t.Errorf("%s: Reachable=%s Push=%s (%s)", tt.user.Name, r.Reachable, r.Push, r.PushDetail)
		}
	}
}

func TestHarnessFailsClearlyWithoutTheBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := registrytest.Start(registrytest.Config{})
	if err != registrytest.ErrNoBinary || !strings.Contains(err.Error(), "apt-get install docker-registry") {
		t.Errorf("error %v, want ErrNoBinary naming the fix", err)
	}
}

func BenchmarkProbeCacheHit(b *testing.B) {
	reg := registrytest.MustStart(b, registrytest.Config{Mode: registrytest.Htpasswd})
	p := newProber(b, reg, false)
	req := registry.Request{Repository: reg.Repository(repoPath), Auth: auth(registrytest.Writer), CredentialVersion: "v1"}
	if r := p.Probe(context.Background(), req); r.Reachable != registry.StatusOK {
		b.Fatalf("warm-up probe: %+v", r)
	}
	for b.Loop() {
		if r := p.Probe(context.Background(), req); !r.Cached {
			b.Fatal("not a cache hit")
		}
	}
}

// BenchmarkProbeCold measures cache misses: "reused" keeps the prober's idle connections between probes, as in
// steady use; "new-conn" closes them first, so each probe also pays for TCP and TLS set-up.
func BenchmarkProbeCold(b *testing.B) {
	for _, mode := range []registrytest.Mode{registrytest.Htpasswd, registrytest.Token} {
		for _, newConn := range []bool{false, true} {
			variant := mode.String() + "/reused"
			if newConn {
				variant = mode.String() + "/new-conn"
			}
			b.Run(variant, func(b *testing.B) {
				reg := registrytest.MustStart(b, registrytest.Config{Mode: mode})
				p := newProber(b, reg, false)
				i := 0
				for b.Loop() {
					i++
					if newConn {
						p.CloseIdleConnections()
					}
					// A new credential version is a cache miss: every iteration is a full probe.
					req := registry.Request{Repository: reg.Repository(repoPath), Auth: auth(registrytest.Writer), CredentialVersion: fmt.Sprint("bench/", i)}
					if r := p.Probe(context.Background(), req); r.Reachable != registry.StatusOK || r.Cached {
						b.Fatalf("probe %d: %+v", i, r)
					}
				}
			})
		}
	}
}

// TestHarnessEnforcesTokenGrants checks the harness itself with go-containerregistry's own push, independent of
// the prober: in token mode the writer can push an image and the reader cannot.
func TestHarnessEnforcesTokenGrants(t *testing.T) {
	reg := registrytest.StartToken(t)
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(reg.Repository(repoPath) + ":latest")
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: reg.CAPool}}
	defer tr.CloseIdleConnections()
	if err := remote.Write(ref, img, remote.WithAuth(auth(registrytest.Writer)), remote.WithTransport(tr)); err != nil {
		t.Fatalf("writer cannot push: %v\n%s", err, reg.Output())
	}
	if _, err := remote.Head(ref, remote.WithAuth(auth(registrytest.Reader)), remote.WithTransport(tr)); err != nil {
		t.Errorf("reader cannot pull: %v", err)
	}
	other, _ := name.ParseReference(reg.Repository("ocl/other") + ":latest")
	if err := remote.Write(other, img, remote.WithAuth(auth(registrytest.Reader)), remote.WithTransport(tr)); err == nil {
		t.Error("reader could push")
	}
}

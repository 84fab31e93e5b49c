package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/ocl-guard/ocl-guard/registry"
	"github.com/ocl-guard/ocl-guard/test/registry/registrytest"
)

// The repository existence probe against the real registry (distribution 2.8), in both auth modes: a pushed
// repository exists, a missing one is NAME_UNKNOWN, and refused credentials tell nothing about the repository.
// Amazon ECR, which does not create repositories on push, answers the same API the same way.
func TestRepositoryProbe(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []registrytest.Mode{registrytest.Token, registrytest.Htpasswd} {
		t.Run(mode.String(), func(t *testing.T) {
			reg := registrytest.MustStart(t, registrytest.Config{Mode: mode})
			p := newProber(t, reg, false)
			pushImage(t, reg, "acme/os", "1")
			wrong := pullSecret(reg, registrytest.User{Name: registrytest.Writer.Name, Password: "not-the-password"}, "1")
			wrong.UID = "uid-wrong"
			for name, tc := range map[string]struct {
				repository        string
				secret            any
				status            registry.Status
				notFound, refused bool
				detail            string
			}{
				"exists":  {reg.Repository("acme/os"), registrytest.Writer, registry.StatusOK, false, false, "has the repository (HTTP 200 on the tag list of acme/os)"},
				"missing": {reg.Repository("acme/missing"), registrytest.Writer, registry.StatusFailed, true, false, "has no such repository (NAME_UNKNOWN) (HTTP 404 on the tag list of acme/missing)"},
				"refused": {reg.Repository("acme/os"), wrong, registry.StatusFailed, false, true, "refused"},
			} {
				t.Run(name, func(t *testing.T) {
					secret := wrong
					if u, ok := tc.secret.(registrytest.User); ok {
						secret = pullSecret(reg, u, "1")
					}
					got := p.ProbeRepositoryWithSecret(ctx, tc.repository, secret)
					if got.Pull != tc.status || got.NotFound != tc.notFound || got.CredentialsRefused != tc.refused || !strings.Contains(got.PullDetail, tc.detail) {
						t.Errorf("got %+v\nwant Pull=%s NotFound=%v CredentialsRefused=%v detail containing %q\nregistry output:\n%s",
							got, tc.status, tc.notFound, tc.refused, tc.detail, reg.Output())
					}
					if strings.Contains(got.PullDetail, "not-the-password") || strings.Contains(got.PullDetail, registrytest.Writer.Password) {
						t.Error("a detail leaks a password")
					}
				})
			}
			if got := p.ProbeRepositoryWithSecret(ctx, reg.Repository("acme/os"), pullSecret(reg, registrytest.Writer, "1")); !got.Cached {
				t.Errorf("second probe with the same secret version: %+v, want a cache hit", got)
			}
		})
	}
}

package authfile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	cireference "go.podman.io/image/v5/docker/reference"
	ciconfig "go.podman.io/image/v5/pkg/docker/config"
	citypes "go.podman.io/image/v5/types"
)

// TestLookupAgreesWithContainersImage runs every lookup case through containers/image's own GetCredentialsForRef
// (go.podman.io/image/v5 pkg/docker/config, what buildah calls for --authfile) and checks Lookup returns the same
// credential, or none, or the same failure. The auth file is written as the MCO hands it to the build: an "auths"
// object of the Secret's entries.
func TestLookupAgreesWithContainersImage(t *testing.T) {
	cases := append([]lookupCase{}, lookupCases...)
	cases = append(cases,
		lookupCase{"an auth that is not base64 fails", map[string]Entry{"quay.io": {Auth: "not base64!"}}, "quay.io/acme/os", "quay.io", false},
		lookupCase{"username and password beside a good auth", map[string]Entry{"quay.io": {Auth: auth("u").Auth, UserPassword: true}}, "quay.io/acme/os", "quay.io", true},
	)
	dir := t.TempDir()
	registriesConf := filepath.Join(dir, "registries.conf") // empty: no credential helpers but the auth file
	if err := os.WriteFile(registriesConf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			authFile := filepath.Join(dir, "auth-"+string(rune('a'+i%26))+".json")
			if err := os.WriteFile(authFile, authJSON(t, tc.entries), 0o600); err != nil {
				t.Fatal(err)
			}
			ref, err := cireference.ParseNormalizedNamed(tc.repo)
			if err != nil {
				t.Fatal(err)
			}
			sys := &citypes.SystemContext{AuthFilePath: authFile, SystemRegistriesConfPath: registriesConf,
				SystemRegistriesConfDirPath: filepath.Join(dir, "none")}
			theirs, theirErr := ciconfig.GetCredentialsForRef(sys, ref)
			ours := Lookup(tc.entries, ref.Name())

			switch {
			case theirErr != nil:
				if !ours.Fails {
					t.Errorf("containers/image fails (%v); Lookup = %+v", theirErr, ours)
				}
			case ours.Fails:
				t.Errorf("Lookup fails (%s); containers/image found user %q", ours.Problem, theirs.Username)
			case ours.OK != (theirs.Username != ""):
				t.Errorf("Lookup ok=%v key %q; containers/image user %q", ours.OK, ours.Key, theirs.Username)
			case ours.OK && (ours.Credential.Username != theirs.Username || ours.Credential.Password != theirs.Password):
				t.Errorf("Lookup took key %q, containers/image another entry (user %q, ours %q)", ours.Key, theirs.Username, ours.Credential.Username)
			}
		})
	}
}

// authJSON writes entries as the MCO's canonical secret holds them: "username" and "password" when the entry has
// them, "auth" when set.
func authJSON(t *testing.T, entries map[string]Entry) []byte {
	t.Helper()
	auths := map[string]map[string]string{}
	for k, e := range entries {
		fields := map[string]string{}
		if e.Auth != "" {
			fields["auth"] = e.Auth
		}
		if e.UserPassword {
			fields["username"], fields["password"] = "someone", "something"
		}
		auths[k] = fields
	}
	b, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

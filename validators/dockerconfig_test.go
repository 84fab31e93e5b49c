package validators

import "testing"

func TestRegistryKeyNeverShowsCredentials(t *testing.T) {
	for key, want := range map[string]string{
		"quay.io":                                 "quay.io",
		"https://quay.io/v2/":                     "quay.io",
		"https://index.docker.io/v1/":             "index.docker.io",
		"registry.example.com:5000/acme":          "registry.example.com:5000/acme",
		"https://robot:" + testPassword + "@h.io": "h.io",
		"robot:" + testPassword + "@h.io/org":     "h.io/org",
		"https://h.io/org?token=" + testPassword:  "h.io/org",
		"https://h.io/org#" + testPassword:        "h.io/org",
		"u:p@ss@h.io":                             "h.io",
		"https://u:" + testPassword + "@":         "(no host)",
	} {
		if got := RegistryKey(key); got != want {
			t.Errorf("RegistryKey(%q) = %q, want %q", key, got, want)
		}
	}
}

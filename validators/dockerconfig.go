package validators

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The MCO reads registry secrets with strict JSON decoding (pkg/secrets in machine-config-operator): a config with
// an "auths" object may carry only these top-level keys, and every registry entry only these fields. Anything
// else, such as "identitytoken" from some `podman login`s or "HttpHeaders" from a copied ~/.docker/config.json,
// makes the MCO refuse the secret. Field names match case-insensitively, as in encoding/json.
var (
	dockerConfigJSONKeys = []string{"auths", "credHelpers", "credsStore"}
	dockerEntryFields    = []string{"username", "password", "email", "auth"}
)

// dockerAuthEntry is one registry's entry. Values are only tested for presence and never reported.
type dockerAuthEntry struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Email    string `json:"email,omitempty"`
	Auth     string `json:"auth,omitempty"`
}

func (e dockerAuthEntry) hasCredential() bool {
	if e.Username != "" && e.Password != "" {
		return true
	}
	decoded, err := base64.StdEncoding.DecodeString(e.Auth)
	return err == nil && strings.Contains(string(decoded), ":")
}

// parseDockerConfig reads registry credentials the way the MCO does: the "auths" layout when the JSON has an
// "auths", "credHelpers" or "credsStore" key, otherwise the legacy layout with registries at the top level; the MCO
// accepts either layout under either secret key and converts it. It returns the entries by registry.
func parseDockerConfig(data []byte) (map[string]dockerAuthEntry, string) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, "the docker config is not a JSON object"
	}
	raw := top
	if hasAnyKey(top, dockerConfigJSONKeys) {
		if unknown := unknownKeys(top, dockerConfigJSONKeys); len(unknown) > 0 {
			return nil, fmt.Sprintf("has top-level keys %s, which the MCO's strict decoder refuses next to \"auths\"; keep only %s",
				quoteAll(unknown), quoteAll(dockerConfigJSONKeys))
		}
		raw = nil
		if auths := valueOfKey(top, "auths"); auths != nil {
			if err := json.Unmarshal(auths, &raw); err != nil {
				return nil, `"auths" is not a JSON object of registry entries`
			}
		}
	}
	if len(raw) == 0 {
		return nil, "holds no registry entries (credential helpers do not exist in the build pod)"
	}
	entries := make(map[string]dockerAuthEntry, len(raw))
	for registry, value := range raw {
		var fields map[string]json.RawMessage
		var entry dockerAuthEntry
		if json.Unmarshal(value, &fields) != nil || json.Unmarshal(value, &entry) != nil {
			return nil, fmt.Sprintf("the entry for %q is not an object of strings", RegistryKey(registry))
		}
		if unknown := unknownKeys(fields, dockerEntryFields); len(unknown) > 0 {
			return nil, fmt.Sprintf("the entry for %q has fields %s, which the MCO's strict decoder refuses; use only %s",
				RegistryKey(registry), quoteAll(unknown), quoteAll(dockerEntryFields))
		}
		entries[registry] = entry
	}
	return entries, ""
}

// RegistryKey is how a docker config key is shown in any output: host[:port] and path only. Keys are free text,
// and some carry a URL with credentials in it (https://user:password@host/path?token=...), which must never be
// echoed; the path stays because a path-scoped entry (quay.io/other) explains why a push spec does not match.
func RegistryKey(key string) string {
	rest := key
	if _, afterScheme, ok := strings.Cut(rest, "://"); ok {
		rest = afterScheme
	}
	rest, _, _ = strings.Cut(rest, "?")
	rest, _, _ = strings.Cut(rest, "#")
	host, path, _ := strings.Cut(rest, "/")
	if i := strings.LastIndex(host, "@"); i >= 0 {
		host = host[i+1:]
	}
	if host == "" {
		return "(no host)"
	}
	if path = strings.Trim(path, "/"); path != "" && path != "v1" && path != "v2" {
		return host + "/" + path
	}
	return host
}

// canonicalDockerConfigJSON renders entries in the "auths" layout, as the MCO hands them to the build.
func canonicalDockerConfigJSON(entries map[string]dockerAuthEntry) []byte {
	out, _ := json.Marshal(map[string]map[string]dockerAuthEntry{"auths": entries}) // plain strings: cannot fail
	return out
}

func hasAnyKey(m map[string]json.RawMessage, keys []string) bool {
	for k := range m {
		if containsFold(keys, k) {
			return true
		}
	}
	return false
}

func unknownKeys(m map[string]json.RawMessage, allowed []string) []string {
	var unknown []string
	for k := range m {
		if !containsFold(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	return unknown
}

func valueOfKey(m map[string]json.RawMessage, key string) json.RawMessage {
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

func quoteAll(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = fmt.Sprintf("%q", k)
	}
	return strings.Join(q, ", ")
}

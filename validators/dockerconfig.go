package validators

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// dockerAuthEntry is one registry's entry in a docker config. Only presence is checked; values are never reported.
type dockerAuthEntry struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

func (e dockerAuthEntry) hasCredential() bool {
	if e.IdentityToken != "" || e.RegistryToken != "" || (e.Username != "" && e.Password != "") {
		return true
	}
	decoded, err := base64.StdEncoding.DecodeString(e.Auth)
	return err == nil && strings.Contains(string(decoded), ":")
}

// parseDockerConfig reads a .dockerconfigjson (wrapped in "auths") or a legacy .dockercfg (hosts at the top level)
// and says for each registry key whether it holds a credential. The layouts are easy to swap by hand, and the
// API server accepts either under both keys, but the build's tools then find no credentials at all.
func parseDockerConfig(data []byte, wrapped bool) (map[string]bool, string) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, "the docker config is not a JSON object"
	}
	raw := top
	if wrapped {
		auths, ok := top["auths"]
		if !ok {
			if len(top) > 0 && !hasOnlyHelperKeys(top) {
				return nil, `has registry hosts at the top level (the .dockercfg layout) but no "auths" object; ` +
					`wrap them as {"auths": {...}} or use type kubernetes.io/dockercfg`
			}
			return nil, `has no "auths" object, so it holds no registry credentials (credential helpers do not exist in the build pod)`
		}
		raw = nil
		if err := json.Unmarshal(auths, &raw); err != nil {
			return nil, `"auths" is not a JSON object of registry entries`
		}
	} else if _, ok := top["auths"]; ok {
		return nil, `uses the .dockerconfigjson layout ({"auths": ...}) under .dockercfg; use type kubernetes.io/dockerconfigjson`
	}
	if len(raw) == 0 {
		return nil, "holds no registry entries"
	}
	entries := make(map[string]bool, len(raw))
	for registry, value := range raw {
		var entry dockerAuthEntry
		if err := json.Unmarshal(value, &entry); err != nil {
			return nil, fmt.Sprintf("the entry for %q is not a JSON object", registry)
		}
		entries[registry] = entry.hasCredential()
	}
	return entries, ""
}

func hasOnlyHelperKeys(top map[string]json.RawMessage) bool {
	for k := range top {
		if k != "credsStore" && k != "credHelpers" && k != "HttpHeaders" {
			return false
		}
	}
	return true
}

package registry

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// grant is what a registry token says the bearer may do on one repository.
type grant int

const (
	grantOpaque grant = iota // not a JWT with an "access" claim: the token does not say
	grantNone                // the claim lists nothing for the repository
	grantPull                // pull but not push
	grantPush                // push (with or without pull)
)

type accessEntry struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// tokenGrant reads the "access" claim of a registry JWT (the Docker token spec, used by distribution, Harbor, Quay
// and GitLab). The signature is not verified: the registry verifies it, and a forged token only fools the forger.
func tokenGrant(token, repository string) grant {
	actions, ok := tokenActions(token, repository)
	if !ok {
		return grantOpaque
	}
	g := grantNone
	for _, action := range actions {
		switch action {
		case "push", "*":
			return grantPush
		case "pull":
			g = grantPull
		}
	}
	return g
}

// tokenActions returns the actions a registry JWT's "access" claim grants on repository; ok is false when the
// token is not a JWT with that claim, so it does not say.
func tokenActions(token, repository string) (actions []string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, false
	}
	var claims struct {
		Access *[]accessEntry `json:"access"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Access == nil {
		return nil, false
	}
	for _, e := range *claims.Access {
		if e.Type == "repository" && e.Name == repository {
			actions = append(actions, e.Actions...)
		}
	}
	return actions, true
}

// Package authfile picks a credential out of a docker config the way containers/image does, which is what an OCL
// build (buildah's pulls and its push, with --authfile set to the MCO's copy of the Secret) and a node's rebase
// (rpm-ostree) send. It is not what the kubelet does: go-containerregistry's Kubernetes keychain, like the
// kubelet, accepts wildcard keys such as *.example.com and matches path keys by string prefix, so a Secret that
// pods pull with fine can still send a build's push without credentials.
//
// The rules, from containers-auth.json(5) and findCredentialsInFile in image/pkg/docker/config/config.go
// (github.com/containers/container-libs, module go.podman.io/image/v5):
//
//   - The repository's name (host/ns/repo, Docker Hub as docker.io/library/x) is looked up as an exact key, then
//     each parent namespace segment by segment (host/ns), then the host. The first key present wins, even when its
//     entry holds no credential: the search does not go on.
//   - Only when no key matched exactly are the keys normalised, and only keys written as URLs: "http://" or
//     "https://" (lower case) and everything after the host are dropped. Every key, URL or not, has docker.io and
//     registry-1.docker.io read as index.docker.io, so Docker Hub has one name. Among several keys normalising to
//     the host, containers/image takes whichever its map yields first; Lookup takes the first in sorted order and
//     lists the others.
//   - No wildcards, no case folding, no trailing-slash trimming for keys without a scheme, and a port is part of
//     the host.
//   - Only "auth" (base64 of user:password) holds the credential: "username" and "password" fields are not read.
//     An "auth" that is not base64 fails the pull or push; one without a colon gives no credential.
//
// Nothing here returns or formats a credential into text: messages name keys and hosts (ShowKey), never values.
package authfile

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/distribution/reference"
)

// Entry is what containers/image reads of one key's entry.
type Entry struct {
	// Auth is the "auth" field: base64 of "user:password".
	Auth string
	// UserPassword is true when the entry has a "username" and a "password" field, which containers/image ignores.
	UserPassword bool
}

// Credential is a decoded user name and password. Never put it in a message.
type Credential struct {
	Username, Password string
}

// Match is the outcome of a lookup.
type Match struct {
	// Key is the key whose entry containers/image uses; "" when no key matched, and the request goes out without
	// credentials.
	Key string
	// Normalized is true when Key matched only once keys were normalised (a URL key, or a Docker Hub alias).
	Normalized bool
	// Others are further keys that normalise to the same host: containers/image may take any of them.
	Others []string
	// Credential is Key's credential; valid only when OK.
	Credential Credential
	// OK is true when Key's entry holds a credential.
	OK bool
	// Problem says why Key's entry gives no credential ("" when OK or no key matched). It quotes no value.
	Problem string
	// Fails is true when the problem makes containers/image fail the pull or push outright, rather than send it
	// without credentials.
	Fails bool
}

// Lookup returns what containers/image takes from entries for the repository name ("host[:port]/path", as
// reference.Named.Name() spells it: Docker Hub is docker.io/library/busybox). See the package comment.
func Lookup(entries map[string]Entry, name string) Match {
	host := hostOf(name)
	for _, key := range LookupOrder(name) {
		if e, ok := entries[key]; ok {
			return decode(Match{Key: key}, e)
		}
	}
	want := normalizeRegistry(host)
	var keys []string
	for k := range entries {
		if normalizeKey(k) == want {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return Match{}
	}
	slices.Sort(keys)
	return decode(Match{Key: keys[0], Normalized: true, Others: keys[1:]}, entries[keys[0]])
}

// LookupOrder is the exact keys tried for name, most specific first: name, each parent namespace, the host.
func LookupOrder(name string) []string {
	var out []string
	for key := name; ; {
		out = append(out, key)
		i := strings.LastIndex(key, "/")
		if i < 0 {
			return out
		}
		key = key[:i]
	}
}

func decode(m Match, e Entry) Match {
	decoded, err := base64.StdEncoding.DecodeString(e.Auth)
	if err != nil {
		m.Problem, m.Fails = `its "auth" is not valid base64, which fails the whole pull or push`, true
		return m
	}
	user, password, ok := strings.Cut(string(decoded), ":")
	switch {
	case ok:
		m.OK, m.Credential = true, Credential{Username: user, Password: strings.Trim(password, "\x00")}
	case len(decoded) == 0 && e.UserPassword:
		m.Problem = `it has "username" and "password" and no "auth", and buildah reads only "auth" (base64 of user:password)`
	case len(decoded) == 0:
		m.Problem = `it has no "auth" (base64 of user:password)`
	default:
		m.Problem = `its "auth" does not decode to user:password`
	}
	return m
}

// RepositoryName is the name containers/image looks credentials up by for image (a reference with or without tag
// or digest): short names are completed the Docker way (busybox is docker.io/library/busybox), as buildah's
// reference parser does.
func RepositoryName(image string) (string, error) {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return "", err
	}
	return named.Name(), nil
}

// NameFor is RepositoryName for a registry host and repository path that are already split, as
// go-containerregistry splits them: its Docker Hub host, index.docker.io, is docker.io to containers/image.
func NameFor(host, path string) string {
	if host == "index.docker.io" {
		host = "docker.io"
	}
	return host + "/" + path
}

// hostOf is the registry part of a name: everything before the first slash.
func hostOf(name string) string {
	host, _, _ := strings.Cut(name, "/")
	return host
}

// normalizeRegistry gives Docker Hub's host names one spelling (config.go normalizeRegistry).
func normalizeRegistry(host string) string {
	switch host {
	case "registry-1.docker.io", "docker.io":
		return "index.docker.io"
	}
	return host
}

// normalizeKey reduces a key written as a URL to its host (config.go normalizeAuthFileKey, non-legacy files);
// any other key is compared as written.
func normalizeKey(key string) string {
	stripped := strings.TrimPrefix(key, "http://")
	stripped = strings.TrimPrefix(stripped, "https://")
	if stripped != key {
		stripped, _, _ = strings.Cut(stripped, "/")
	}
	return normalizeRegistry(stripped)
}

// Parse reads the registry entries of a docker config: the "auths" object when there is one (field names match
// case-insensitively, as containers/image's decoder matches them), the top level otherwise (the legacy layout,
// which the MCO converts before the build reads it). Entries that are not objects are skipped; the secret rules
// report malformed secrets. The error never quotes the data.
func Parse(data []byte) (map[string]Entry, bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return nil, false
	}
	raw := top
	for k, v := range top {
		if strings.EqualFold(k, "auths") {
			raw = nil
			if json.Unmarshal(v, &raw) != nil {
				return nil, false
			}
			break
		}
	}
	entries := make(map[string]Entry, len(raw))
	for key, value := range raw {
		var fields struct{ Auth, Username, Password string }
		if json.Unmarshal(value, &fields) != nil {
			continue
		}
		entries[key] = Entry{Auth: fields.Auth, UserPassword: fields.Username != "" && fields.Password != ""}
	}
	return entries, true
}

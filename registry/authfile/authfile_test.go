package authfile

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
)

func auth(user string) Entry {
	return Entry{Auth: base64.StdEncoding.EncodeToString([]byte(user + ":pw-" + user))}
}

// lookupCase is one lookup: the auth file's entries, the repository name, and the key containers/image takes ("" for
// none) with whether it yields a credential.
type lookupCase struct {
	name    string
	entries map[string]Entry
	repo    string
	key     string
	ok      bool
}

// lookupCases are the table both TestLookup and the cross-check against containers/image run (crosscheck_test.go).
// Each names where its shape comes from: containers-auth.json(5) (image/docs/containers-auth.json.5.md in
// containers/container-libs) or config.go's findCredentialsInFile and normalizeAuthFileKey there.
var lookupCases = []lookupCase{
	// containers-auth.json(5), FORMAT: "the relevant repository is matched against available keys in its
	// hierarchical order, going from most-specific to least-specific".
	{"auth.json(5): docker.io login covers Docker Hub", map[string]Entry{"docker.io": auth("d"), "quay.io": auth("q")}, "docker.io/library/busybox", "docker.io", true},
	{"auth.json(5): quay.io login covers quay.io", map[string]Entry{"docker.io": auth("d"), "quay.io": auth("q")}, "quay.io/acme/os", "quay.io", true},
	{"auth.json(5): the repository key first", multiPath(), "my-registry.local/foo/bar/image", "my-registry.local/foo/bar/image", true},
	{"auth.json(5): then the namespace", multiPath(), "my-registry.local/foo/baz", "my-registry.local/foo", true},
	{"auth.json(5): a sibling of the repository key falls back to the namespace", multiPath(), "my-registry.local/foo/bar/image2", "my-registry.local/foo", true},
	{"auth.json(5): the host is the fallback", multiPath(), "my-registry.local/namespace/user/image", "my-registry.local", true},
	{"auth.json(5): an empty entry left by a credential helper matches and holds nothing", map[string]Entry{"localhost:5001": {}}, "localhost:5001/acme/os", "localhost:5001", false},

	// Exact keys only: a namespace key covers its own segment, never a longer name sharing its prefix.
	{"namespace key covers its repositories", map[string]Entry{"quay.io/acme": auth("a")}, "quay.io/acme/os", "quay.io/acme", true},
	{"namespace key is no string prefix", map[string]Entry{"quay.io/acme": auth("a")}, "quay.io/acme-other/os", "", false},
	{"a deeper key does not cover its parent", map[string]Entry{"quay.io/acme/os/extra": auth("a")}, "quay.io/acme/os", "", false},
	{"most specific wins", map[string]Entry{"quay.io": auth("h"), "quay.io/acme": auth("a")}, "quay.io/acme/os", "quay.io/acme", true},
	{"first exact match wins even without a credential", map[string]Entry{"quay.io": auth("h"), "quay.io/acme": {UserPassword: true}}, "quay.io/acme/os", "quay.io/acme", false},
	{"an exact key wins over a URL key", map[string]Entry{"quay.io": auth("h"), "https://quay.io/v1/": auth("u")}, "quay.io/acme/os", "quay.io", true},

	// No wildcards, no case folding, ports are part of the host.
	{"wildcard key", map[string]Entry{"*.example.com": auth("w")}, "registry.example.com/acme/os", "", false},
	{"case of the host", map[string]Entry{"Registry.Example.com": auth("c")}, "registry.example.com/acme/os", "", false},
	{"port 443 is not the default", map[string]Entry{"quay.io:443": auth("p")}, "quay.io/acme/os", "", false},
	{"no port is not port 5000", map[string]Entry{"registry.example.com": auth("p")}, "registry.example.com:5000/acme/os", "", false},
	{"host and port", map[string]Entry{"registry.example.com:5000": auth("p")}, "registry.example.com:5000/acme/os", "registry.example.com:5000", true},

	// normalizeAuthFileKey: keys written as URLs are reduced to their host, only when nothing matched exactly.
	{"https URL with /v1/", map[string]Entry{"https://registry.example.com/v1/": auth("u")}, "registry.example.com/acme/os", "https://registry.example.com/v1/", true},
	{"http URL with a port and /v2/", map[string]Entry{"http://registry.example.com:5000/v2/": auth("u")}, "registry.example.com:5000/acme/os", "http://registry.example.com:5000/v2/", true},
	{"a URL's path is dropped, namespace included", map[string]Entry{"https://quay.io/other": auth("u")}, "quay.io/acme/os", "https://quay.io/other", true},
	{"a URL keeps its port", map[string]Entry{"https://quay.io:443/v1/": auth("u")}, "quay.io/acme/os", "", false},
	{"a URL keeps the case of its host", map[string]Entry{"https://Quay.io/v1/": auth("u")}, "quay.io/acme/os", "", false},
	{"only lower-case schemes are removed", map[string]Entry{"HTTPS://quay.io/v1/": auth("u")}, "quay.io/acme/os", "", false},
	{"a trailing slash without a scheme stays", map[string]Entry{"quay.io/": auth("u")}, "quay.io/acme/os", "", false},
	{"a trailing slash on a namespace stays", map[string]Entry{"quay.io/acme/": auth("u")}, "quay.io/acme/os", "", false},

	// normalizeRegistry: Docker Hub's three host names are one registry.
	{"Docker Hub as docker records it", map[string]Entry{"https://index.docker.io/v1/": auth("d")}, "docker.io/library/busybox", "https://index.docker.io/v1/", true},
	{"Docker Hub as index.docker.io", map[string]Entry{"index.docker.io": auth("d")}, "docker.io/acme/os", "index.docker.io", true},
	{"Docker Hub as registry-1.docker.io", map[string]Entry{"registry-1.docker.io": auth("d")}, "docker.io/acme/os", "registry-1.docker.io", true},
	{"Docker Hub namespace key", map[string]Entry{"docker.io/acme": auth("d")}, "docker.io/acme/os", "docker.io/acme", true},
	{"Docker Hub namespace under another host name", map[string]Entry{"index.docker.io/acme": auth("d")}, "docker.io/acme/os", "", false},
	{"docker.io/ with a trailing slash", map[string]Entry{"docker.io/": auth("d")}, "docker.io/acme/os", "", false},

	// decodeDockerAuth: only "auth" holds a credential.
	{"username and password without auth give nothing", map[string]Entry{"quay.io": {UserPassword: true}}, "quay.io/acme/os", "quay.io", false},
	{"auth without a colon gives nothing", map[string]Entry{"quay.io": {Auth: base64.StdEncoding.EncodeToString([]byte("token-only"))}}, "quay.io/acme/os", "quay.io", false},
	{"other registries only", map[string]Entry{"registry.redhat.io": auth("r")}, "quay.io/acme/os", "", false},
}

func multiPath() map[string]Entry {
	return map[string]Entry{
		"my-registry.local/foo/bar/image": auth("image"),
		"my-registry.local/foo":           auth("foo"),
		"my-registry.local":               auth("host"),
	}
}

func TestLookup(t *testing.T) {
	for _, tc := range lookupCases {
		t.Run(tc.name, func(t *testing.T) {
			m := Lookup(tc.entries, tc.repo)
			if m.Key != tc.key || m.OK != tc.ok {
				t.Fatalf("Lookup(%s) = key %q ok %v (%s); want key %q ok %v", tc.repo, m.Key, m.OK, m.Problem, tc.key, tc.ok)
			}
			if m.OK {
				want := tc.entries[tc.key]
				if got := base64.StdEncoding.EncodeToString([]byte(m.Credential.Username + ":" + m.Credential.Password)); got != want.Auth {
					t.Errorf("credential of %q not decoded from its auth", m.Key)
				}
			}
			if m.Key != "" && !m.OK && m.Problem == "" {
				t.Errorf("key %q matched without a credential, and no problem says why", m.Key)
			}
		})
	}
}

func TestLookupProblems(t *testing.T) {
	for _, tc := range []struct {
		entry   Entry
		problem string
		fails   bool
	}{
		{Entry{UserPassword: true}, `has "username" and "password" and no "auth", and buildah reads only "auth"`, false},
		{Entry{}, `it has no "auth"`, false},
		{Entry{Auth: "not base64!"}, "is not valid base64, which fails the whole pull or push", true},
		{Entry{Auth: base64.StdEncoding.EncodeToString([]byte("no-colon"))}, "does not decode to user:password", false},
	} {
		m := Lookup(map[string]Entry{"quay.io": tc.entry}, "quay.io/acme/os")
		if m.OK || !strings.Contains(m.Problem, tc.problem) || m.Fails != tc.fails {
			t.Errorf("%+v: got ok %v problem %q fails %v; want %q fails %v", tc.entry, m.OK, m.Problem, m.Fails, tc.problem, tc.fails)
		}
	}
}

func TestLookupSeveralURLKeysForOneHost(t *testing.T) {
	entries := map[string]Entry{"https://quay.io/v2/": auth("b"), "https://quay.io/v1/": auth("a"), "http://quay.io": auth("c")}
	m := Lookup(entries, "quay.io/acme/os")
	if m.Key != "http://quay.io" || !m.Normalized || !slices.Equal(m.Others, []string{"https://quay.io/v1/", "https://quay.io/v2/"}) {
		t.Errorf("got %+v", m)
	}
}

func TestLookupOrder(t *testing.T) {
	// containers-auth.json(5)'s own example.
	got := LookupOrder("my-registry.local/namespace/user/image")
	want := []string{"my-registry.local/namespace/user/image", "my-registry.local/namespace/user", "my-registry.local/namespace", "my-registry.local"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRepositoryName(t *testing.T) {
	for in, want := range map[string]string{
		"busybox":                           "docker.io/library/busybox",
		"acme/os:1":                         "docker.io/acme/os",
		"index.docker.io/acme/os":           "docker.io/acme/os",
		"quay.io/acme/os:latest":            "quay.io/acme/os",
		"localhost:5000/os@sha256:" + hex64: "localhost:5000/os",
	} {
		if got, err := RepositoryName(in); err != nil || got != want {
			t.Errorf("RepositoryName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := RepositoryName("quay.io/Acme/os"); err == nil {
		t.Error("an upper-case path parsed")
	}
	if got := NameFor("index.docker.io", "library/busybox"); got != "docker.io/library/busybox" {
		t.Errorf("NameFor Docker Hub = %q", got)
	}
	if got := NameFor("quay.io", "acme/os"); got != "quay.io/acme/os" {
		t.Errorf("NameFor quay.io = %q", got)
	}
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestExplain(t *testing.T) {
	for _, tc := range []struct {
		key, repo, reason string
	}{
		{"*.example.com", "registry.example.com/acme/os", "wildcard keys are a kubelet feature: buildah ignores them"},
		{"https://*.example.com/v1/", "registry.example.com/acme/os", "wildcard keys are a kubelet feature"},
		{"*.example.com", "a.b.example.com/acme/os", ""}, // not even the kubelet would use it
		{"*.example.com", "quay.io/acme/os", ""},
		{"quay.io/", "quay.io/acme/os", "the trailing slash: a key without http(s):// must equal quay.io exactly"},
		{"quay.io/acme/", "quay.io/acme/os", "must equal quay.io/acme exactly"},
		{"Quay.io", "quay.io/acme/os", "keys are case-sensitive: write the host as quay.io"},
		{"https://Quay.io/v1/", "quay.io/acme/os", "keys are case-sensitive"},
		{"quay.io:443", "quay.io/acme/os", "a port is part of the host: quay.io:443 is not quay.io"},
		{"registry.example.com", "registry.example.com:5000/acme/os", "registry.example.com is not registry.example.com:5000"},
		{"quay.io/acme", "quay.io/acme-other/os", "a namespace key covers quay.io/acme and the repositories under quay.io/acme/ only, not quay.io/acme-other"},
		{"quay.io/other", "quay.io/acme/os", "a namespace key covers quay.io/other and the repositories under it only"},
		{"HTTPS://quay.io/v1/", "quay.io/acme/os", `only a lower-case http:// or https:// prefix is removed from a key, so it stays "HTTPS://quay.io/v1/"`},
		{"index.docker.io/acme", "docker.io/acme/os", "Docker Hub keys with a path are matched exactly: write docker.io/acme"},
		{"registry.redhat.io", "quay.io/acme/os", ""},
		{"quay.io", "quay.io/acme/os", ""},             // matches
		{"https://quay.io/v2/", "quay.io/acme/os", ""}, // matches once normalised
	} {
		got := Explain([]string{tc.key}, tc.repo)
		switch {
		case tc.reason == "" && len(got) != 0:
			t.Errorf("Explain(%q, %s) = %+v, want nothing", tc.key, tc.repo, got)
		case tc.reason != "" && (len(got) != 1 || !strings.Contains(got[0].Reason, tc.reason)):
			t.Errorf("Explain(%q, %s) = %+v, want a reason containing %q", tc.key, tc.repo, got, tc.reason)
		}
	}
}

func TestShowKeyHidesURLCredentials(t *testing.T) {
	for key, want := range map[string]string{
		"https://robot:s3cret@quay.io/v2/?token=s3cret": "quay.io/v2",
		"robot:s3cret@registry.example.com":             "registry.example.com",
		"quay.io/acme":                                  "quay.io/acme",
		"quay.io/":                                      "quay.io/",
		strings.Repeat("a", 150):                        strings.Repeat("a", 100) + "...",
	} {
		if got := ShowKey(key); got != want {
			t.Errorf("ShowKey(%q) = %q, want %q", key, got, want)
		}
	}
	for _, m := range Explain([]string{"https://robot:s3cret@Quay.io/v1/", "robot:s3cret@quay.io:443"}, "quay.io/acme/os") {
		if strings.Contains(m.Reason, "s3cret") {
			t.Errorf("a reason quotes a credential: %q", m.Reason)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       map[string]Entry
		ok         bool
	}{
		{"auths layout", `{"auths":{"quay.io":{"auth":"YTpi"}},"credHelpers":{"x.io":"ecr-login"}}`, map[string]Entry{"quay.io": {Auth: "YTpi"}}, true},
		{"field names in any case", `{"Auths":{"quay.io":{"Auth":"YTpi","Username":"a","Password":"b"}}}`, map[string]Entry{"quay.io": {Auth: "YTpi", UserPassword: true}}, true},
		{"legacy layout", `{"quay.io":{"auth":"YTpi"},"credsStore":"desktop"}`, map[string]Entry{"quay.io": {Auth: "YTpi"}}, true},
		{"username only is not a pair", `{"auths":{"quay.io":{"username":"a"}}}`, map[string]Entry{"quay.io": {}}, true},
		{"not JSON", `{"auths":`, nil, false},
		{"auths not an object", `{"auths":[]}`, nil, false},
	} {
		got, ok := Parse([]byte(tc.data))
		if ok != tc.ok || len(got) != len(tc.want) {
			t.Errorf("%s: Parse = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
			continue
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: entry %q = %+v, want %+v", tc.name, k, got[k], v)
			}
		}
	}
}

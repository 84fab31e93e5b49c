package authfile

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Miss is a key that looks meant for a repository but that containers/image does not use for it, and why.
type Miss struct {
	Key    string // the key as written; show it with ShowKey
	Reason string // quotes no part of the key but what ShowKey would show
}

// Explain lists the keys that look meant for name but do not match it, each with the reason, sorted by key. Keys
// for other registries are not listed: they are simply for something else.
func Explain(keys []string, name string) []Miss {
	var out []Miss
	for _, key := range keys {
		if reason := whyNot(key, name); reason != "" {
			out = append(out, Miss{Key: key, Reason: reason})
		}
	}
	slices.SortFunc(out, func(a, b Miss) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// whyNot says why key, which does not match name, looks as if it should; "" when it does not look meant for it.
func whyNot(key, name string) string {
	host := hostOf(name)
	order := LookupOrder(name)
	if slices.Contains(order, key) || normalizeKey(key) == normalizeRegistry(host) {
		return "" // it matches
	}
	rest, scheme := cutScheme(key)
	keyHost, keyPath, _ := strings.Cut(rest, "/")
	keyHost = withoutUserinfo(keyHost)
	switch {
	case strings.Contains(keyHost, "*"):
		if globMatches(keyHost, host) {
			return "wildcard keys are a kubelet feature: buildah ignores them"
		}
		return ""
	case scheme != "" && scheme != "http://" && scheme != "https://":
		return fmt.Sprintf("only a lower-case http:// or https:// prefix is removed from a key, so it stays %q and never equals %s", ShowKey(key), host)
	case scheme == "" && strings.HasSuffix(key, "/") && slices.Contains(order, strings.TrimRight(key, "/")):
		return fmt.Sprintf("the trailing slash: a key without http(s):// must equal %s exactly", strings.TrimRight(key, "/"))
	case strings.EqualFold(keyHost, host) && keyHost != host:
		return fmt.Sprintf("keys are case-sensitive: write the host as %s", host)
	case keyHost != host && hostWithoutPort(keyHost) == hostWithoutPort(host) && hostWithoutPort(host) != "":
		return fmt.Sprintf("a port is part of the host: %s is not %s", keyHost, host)
	case scheme == "" && keyHost == host && keyPath != "":
		covers := strings.TrimRight(key, "/")
		if next, ok := strings.CutPrefix(name, covers); ok && next != "" && !strings.HasPrefix(next, "/") {
			return fmt.Sprintf("a namespace key covers %s and the repositories under %s/ only, not %s", covers, covers, parentWithin(name, len(covers)))
		}
		return fmt.Sprintf("a namespace key covers %s and the repositories under it only", covers)
	case scheme == "" && keyPath != "" && normalizeRegistry(keyHost) == normalizeRegistry(host):
		return fmt.Sprintf("Docker Hub keys with a path are matched exactly: write %s", order[len(order)-2])
	}
	return ""
}

// parentWithin returns the segment of name that holds byte offset i: the namespace or repository a prefix key
// reaches into.
func parentWithin(name string, i int) string {
	if j := strings.Index(name[i:], "/"); j >= 0 {
		return name[:i+j]
	}
	return name
}

// globMatches is the kubelet's reading of a wildcard key's host (pkg/credentialprovider keyring.go URLsMatch): as
// many dot-separated parts as the host, each matched as a glob. Ports are not compared.
func globMatches(pattern, host string) bool {
	ps, hs := strings.Split(hostWithoutPort(pattern), "."), strings.Split(hostWithoutPort(host), ".")
	if len(ps) != len(hs) {
		return false
	}
	for i := range ps {
		if ok, err := path.Match(ps[i], hs[i]); err != nil || !ok {
			return false
		}
	}
	return true
}

func cutScheme(key string) (rest, scheme string) {
	if i := strings.Index(key, "://"); i >= 0 && !strings.Contains(key[:i], "/") {
		return key[i+3:], key[:i+3]
	}
	return key, ""
}

func withoutUserinfo(host string) string {
	if i := strings.LastIndex(host, "@"); i >= 0 {
		return host[i+1:]
	}
	return host
}

func hostWithoutPort(host string) string {
	if i := strings.LastIndex(host, ":"); i >= 0 && !strings.Contains(host[i:], "]") {
		return host[:i]
	}
	return host
}

// ShowKey is how a key may appear in a message. Keys are free text, and some carry a URL with credentials in it
// (https://user:password@host/path?token=...): such a key is shown as its host and path only. Other keys are
// shown as written, up to 100 characters.
func ShowKey(key string) string {
	if strings.ContainsAny(key, "@?#") {
		rest, _ := cutScheme(key)
		rest, _, _ = strings.Cut(rest, "?")
		rest, _, _ = strings.Cut(rest, "#")
		host, p, _ := strings.Cut(rest, "/")
		host = withoutUserinfo(host)
		if p = strings.Trim(p, "/"); p != "" {
			return host + "/" + p
		}
		return host
	}
	if r := []rune(key); len(r) > 100 {
		return string(r[:100]) + "..."
	}
	return key
}

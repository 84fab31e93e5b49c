package validators

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/ocl-guard/ocl-guard/registry/authfile"
)

// authEntries is what containers/image reads of a secret's entries (package registry/authfile).
func authEntries(entries map[string]dockerAuthEntry) map[string]authfile.Entry {
	out := make(map[string]authfile.Entry, len(entries))
	for k, e := range entries {
		out[k] = authfile.Entry{Auth: e.Auth, UserPassword: e.Username != "" && e.Password != ""}
	}
	return out
}

// pushCredentials adds to f what is wrong with the push secret's entries for the push spec's repository (repoName,
// as containers/image names it): the build's push sends only what containers/image picks, so a key the kubelet
// would use (a wildcard, a string prefix) leaves the push without credentials. Messages name keys, never values.
func pushCredentials(f *Findings, secretName string, entries map[string]dockerAuthEntry, repoName string) {
	m := authfile.Lookup(authEntries(entries), repoName)
	switch {
	case m.OK && len(m.Others) > 0:
		f.warn("%s: keys %s all stand for %s once reduced to their host, and buildah uses whichever it reads first; keep one",
			pushSecretPath, quotedKeys(append([]string{m.Key}, m.Others...)), hostOfName(repoName))
	case m.OK:
	case m.Fails:
		f.add(field.Invalid(pushSecretPath, secretName, fmt.Sprintf(
			"the push secret's entry %q is the one buildah uses for %s (renderedImagePushSpec), and %s: "+
				"recreate the secret with 'oc create secret docker-registry'", authfile.ShowKey(m.Key), repoName, m.Problem)))
	case m.Key != "":
		f.add(field.Invalid(pushSecretPath, secretName, fmt.Sprintf(
			"the push secret's entry %q is the one buildah uses for %s (renderedImagePushSpec), but %s, so the push goes out "+
				"without credentials%s: put base64 of user:password into its \"auth\" ('oc create secret docker-registry' writes it)",
			authfile.ShowKey(m.Key), repoName, m.Problem, shadowed(entries, m.Key, repoName))))
	default:
		f.add(field.Invalid(pushSecretPath, secretName, noPushCredentials(entries, repoName)))
	}
}

// noPushCredentials explains a push secret without a key for repoName: what buildah tries, why the keys that look
// meant for it miss, and the fix.
func noPushCredentials(entries map[string]dockerAuthEntry, repoName string) string {
	var keys []string
	for k := range entries {
		keys = append(keys, k)
	}
	var why strings.Builder
	for _, miss := range authfile.Explain(keys, repoName) {
		fmt.Fprintf(&why, "; key %q: %s", authfile.ShowKey(miss.Key), miss.Reason)
	}
	order := authfile.LookupOrder(repoName)
	return fmt.Sprintf("push secret holds no credentials buildah uses for %s (from renderedImagePushSpec), so the push goes out "+
		"without any%s. buildah tries the keys %s exactly, in that order, then keys written as URLs reduced to their host; "+
		"the secret has entries for: %s. Add an entry for %s (or %s)",
		repoName, why.String(), strings.Join(order, ", "), shownKeys(keys), order[len(order)-1], order[0])
}

// shadowed says when a less specific key holds a credential that buildah never reaches, because the key it stopped
// at holds none.
func shadowed(entries map[string]dockerAuthEntry, matched, repoName string) string {
	after := false
	for _, key := range authfile.LookupOrder(repoName) {
		if key == matched {
			after = true
			continue
		}
		if e, ok := entries[key]; after && ok && e.hasCredential() {
			return fmt.Sprintf(" (buildah stops at the first key that matches and never reads %q)", authfile.ShowKey(key))
		}
	}
	return ""
}

// shownKeys lists keys as ShowKey shows them, sorted and without repeats.
func shownKeys(keys []string) string {
	shown := make([]string, len(keys))
	for i, k := range keys {
		shown[i] = authfile.ShowKey(k)
	}
	slices.Sort(shown)
	return strings.Join(slices.Compact(shown), ", ")
}

func quotedKeys(keys []string) string {
	shown := make([]string, len(keys))
	for i, k := range keys {
		shown[i] = fmt.Sprintf("%q", authfile.ShowKey(k))
	}
	return strings.Join(shown, ", ")
}

func hostOfName(name string) string {
	host, _, _ := strings.Cut(name, "/")
	return host
}

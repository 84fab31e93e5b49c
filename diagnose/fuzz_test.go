package diagnose

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzClassifyBuildLog feeds arbitrary build logs (as the pod log and as the termination message) through the
// classifier and the build rules: nothing panics, the answer is a listed reason with a bounded, scrubbed, one-line
// message and bounded evidence; and the same text read as a node's reason gives a rollout reason.
func FuzzClassifyBuildLog(f *testing.F) {
	for _, tc := range realWorldCases {
		f.Add(tc.msg)
	}
	for _, seed := range []string{
		log64K()[:2048],
		"STEP 2/2: RUN x\nboom\nsubprocess exited with status 9\n",
		"Error: pushing image \"a\" to \"docker://a\": writing blob: errors:\ndenied: x\nerror parsing HTTP 401 response body: unexpected end of JSON input: \"\"",
		"failed to update OS to q.io/a@sha256:1: error running rpm-ostree rebase: manifest unknown",
		"STEP 1/1: FROM a\n\x1b[31mError: creating build container: unauthorized\r\n",
	} {
		f.Add(seed)
	}
	reasons := map[Reason]bool{}
	for _, r := range Reasons() {
		reasons[r] = true
	}
	f.Fuzz(func(t *testing.T, log string) {
		scanLog(log)
		s := failedSnapshot(log, layoutInit)
		s.Log = log
		d := DiagnoseBuild(s)
		if !reasons[d.Reason] || d.Severity == "" {
			t.Fatalf("reason %q severity %q is not a listed reason", d.Reason, d.Severity)
		}
		if len(d.Message) > MaxMessageBytes || strings.ContainsAny(d.Message, "\r\n") {
			t.Fatalf("message of %d bytes or not one line: %q", len(d.Message), d.Message)
		}
		if len(d.Evidence) > MaxEvidenceBytes || !utf8.ValidString(d.Evidence) {
			t.Fatalf("evidence of %d bytes, valid UTF-8 %v", len(d.Evidence), utf8.ValidString(d.Evidence))
		}
		var nc nodeClassifier
		if r := nc.classify(log, target); poolChain.rankOf(r) == len(poolChain.rules) {
			t.Fatalf("node reason classified as %q, which no rollout rule reports", r)
		}
	})
}

// credentialShapes are the shapes secretPatterns handle, each with %s where the value stands.
var credentialShapes = []string{
	"Authorization: Bearer %s",
	"authorization: Basic %s",
	"Proxy-Authorization: Negotiate %s",
	`"Authorization":["Bearer %s"]`,
	`X-Registry-Auth: %s`,
	`{"auths":{"quay.io":{"auth":"%s"}}}`,
	`{\"password\":\"%s\"}`,
	`{"identitytoken":"%s"}`,
	"password=%s",
	"REGISTRY_TOKEN=%s",
	`PASSWORD="%s"`,
	"api_key='%s'",
	"--password %s",
	"--creds=robot:%s",
	"--registry-token %s",
	"-u admin:%s",
	"--user admin:%s",
	"https://robot:%s@registry.example.com/v2/",
	"bearer %s",
}

// FuzzScrubCredential puts a marked credential, in each shape secretPatterns handle, between arbitrary text: it never
// comes out of cleanEvidence or cleanMessage, whatever surrounds it, and what comes out is bounded.
func FuzzScrubCredential(f *testing.F) {
	f.Add("Error: pushing image", "hunter2hunter2", "more text", uint8(0))
	f.Add("\x1b[", "abcdefgh", "", uint8(8))
	f.Add("--password", "s3cr3tValue", "\r\n", uint8(18))
	f.Add("Authorization:", "tok", "x", uint8(12))
	f.Add(strings.Repeat("é", 300), "Zz", strings.Repeat("b", 900), uint8(5))
	f.Fuzz(func(t *testing.T, prefix, value, suffix string, shape uint8) {
		secret := markedSecret(value)
		if strings.Contains(prefix, secret) || strings.Contains(suffix, secret) {
			t.Skip("the surrounding text holds the secret itself")
		}
		in := prefix + " " + strings.Replace(credentialShapes[int(shape)%len(credentialShapes)], "%s", secret, 1) + " " + suffix
		ev, msg := cleanEvidence(in), cleanMessage(in)
		if strings.Contains(ev, secret) || strings.Contains(msg, secret) {
			t.Fatalf("credential %q kept:\nin:       %q\nevidence: %q\nmessage:  %q", secret, in, ev, msg)
		}
		if len(ev) > MaxEvidenceBytes || !utf8.ValidString(ev) || len(msg) > MaxMessageBytes {
			t.Fatalf("unbounded: evidence %d bytes (valid UTF-8 %v), message %d bytes", len(ev), utf8.ValidString(ev), len(msg))
		}
	})
}

// markedSecret makes a credential value from the fuzzer's bytes: letters and digits only (every shape takes them
// whole), marked with "QZX" so that no key, no "<redacted>" and no ordinary word contains it, and at least 8 long
// (bare bearer tokens are).
func markedSecret(value string) string {
	var b strings.Builder
	b.WriteString("QZX")
	for _, c := range []byte(value) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		}
	}
	for b.Len() < 8 {
		b.WriteByte('7')
	}
	return b.String()
}

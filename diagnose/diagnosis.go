// Package diagnose holds the pure diagnosis rules of ocl-guard's checker: from a snapshot of a MachineOSBuild (with
// its Job, pods and log) or of a MachineConfigPool (with its MachineOSConfig, latest build and nodes) to one
// Diagnosis. The package reads no cluster, no clock and no environment: everything comes in the snapshot, so the
// same snapshot always gives the same answer.
//
// Each diagnosis is a row of a ranked table, one generic chain (chain.go) for builds (buildChain), rollouts
// (poolChain) and MachineOSConfigs (configChain): the first row that finds something decides, and each row carries
// its reason and severity. Error text is classified one line (or one message) at a time by the classifier's one
// ranked table (causeTable in causes.go), following the precedence node > pod > Containerfile > entitlement >
// short name/rate limit > package/repo > auth > network > RUN step, with the line's context (is it the output of a
// RUN step? is the build pulling or pushing?) deciding what a word like "unauthorized" means.
package diagnose

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Diagnosis is what the checker writes as annotations and an Event.
type Diagnosis struct {
	// Reason is the stable code; "" means healthy / nothing to say.
	Reason   Reason
	Severity Severity
	// Message is one line: it names the object (MachineOSBuild, pool, node) and the fix.
	Message string
	// Evidence is the matched log line, node reason or pod status message: trimmed, at most MaxEvidenceBytes,
	// with credentials removed. It may span a few lines.
	Evidence string
}

// Healthy reports whether the diagnosis has nothing to say.
func (d Diagnosis) Healthy() bool { return d.Reason == "" }

// MaxEvidenceBytes bounds Diagnosis.Evidence.
const MaxEvidenceBytes = 512

// MaxMessageBytes bounds Diagnosis.Message.
const MaxMessageBytes = 1024

func newDiagnosis(r Reason, sev Severity, msg, evidence string) Diagnosis {
	if sev == "" {
		sev = DefaultSeverity(r)
	}
	return Diagnosis{Reason: r, Severity: sev, Message: cleanMessage(msg), Evidence: cleanEvidence(evidence)}
}

// Credentials that may show up in logs and error text. Each pattern's group "v" is the value to remove; the key
// around it stays, so that the evidence still says what was there.
var secretPatterns = []*regexp.Regexp{
	// HTTP auth headers, also in Go's %q / JSON-escaped form: Authorization: Bearer xyz, "Authorization":["Basic xyz"].
	regexp.MustCompile(`(?i)\b(?:(?:proxy-)?authorization|x-registry-auth)\\*"?\s*[:=]\s*\[?\s*\\*"?\s*(?P<v>(?:(?:basic|bearer|negotiate|token)\s+)?[^\s"',\\\]]+)`),
	// "auth":"...", "password":"...", "identitytoken":"..." in (possibly escaped) JSON, e.g. a logged auth file.
	regexp.MustCompile(`(?i)\\*"(?:auth|password|passwd|identitytoken|registrytoken|token|access_token|refresh_token|secret)\\*"\s*:\s*\\*"(?P<v>[^"\\]*)`),
	// password=..., token=..., secret=... (URLs, env dumps, command lines).
	regexp.MustCompile(`(?i)\b(?:[a-z0-9_-]*(?:password|passwd|token|secret|apikey|api_key|access_key)|pwd|pass)\s*=\s*(?P<v>"[^"]*"|'[^']*'|[^\s&;,"']+)`),
	// Command-line flags: --password x, --creds user:pass, --registry-token x, -p x after login.
	regexp.MustCompile(`(?i)--(?:password|passwd|creds|registry-token|token)(?:=|\s+)(?P<v>\S+)`),
	// curl -u user:pass, --user user:pass.
	regexp.MustCompile(`(?:^|\s)(?:-u|--user)\s+(?P<v>[^\s:]+:\S+)`),
	// URL user info: https://user:pass@host.
	regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://(?P<v>[^/\s:@]+:[^/\s@]+)@`),
	// Bare basic/bearer credentials.
	regexp.MustCompile(`(?i)\b(?:basic|bearer)\s+(?P<v>[a-z0-9._~+/-]{8,}=*)`),
}

const redacted = "<redacted>"

// scrub removes anything that looks like a credential. Every pattern reads the text as it came, and the values any
// of them finds are all removed: run one after another, a pattern could take another's key as its own value
// ("--password Authorization: Bearer x" would lose "Authorization:" and keep x). FuzzScrubCredential checks it.
func scrub(s string) string {
	var spans [][2]int
	for _, re := range secretPatterns {
		v := re.SubexpIndex("v")
		// A match's value may hold another key ("Authorization: X-Registry-Auth: x"), so the next search starts
		// where the value starts, not where the match ends.
		for at := 0; at < len(s); {
			m := re.FindStringSubmatchIndex(s[at:])
			if m == nil {
				break
			}
			next := at + m[1]
			if m[2*v] >= 0 {
				spans = append(spans, [2]int{at + m[2*v], at + m[2*v+1]})
				next = at + max(m[2*v], m[0]+1)
			}
			at = max(next, at+1)
		}
	}
	if len(spans) == 0 {
		return s
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return cmp.Or(a[0]-b[0], a[1]-b[1]) })
	var b strings.Builder
	at := 0 // s[:at] is written
	for i := 0; i < len(spans); {
		start, end := spans[i][0], spans[i][1]
		for i++; i < len(spans) && spans[i][0] <= end; i++ {
			end = max(end, spans[i][1])
		}
		start = max(start, at)
		b.WriteString(s[at:start])
		b.WriteString(redacted)
		at = max(end, at)
	}
	b.WriteString(s[at:])
	return b.String()
}

var ansiRe = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// cleanEvidence scrubs, trims and bounds evidence text. Secrets are removed before truncation, so a cut never
// leaves half a credential behind.
func cleanEvidence(s string) string {
	if s == "" {
		return ""
	}
	// Scrubbed before and after the escape sequences and carriage returns go: a credential written in one piece
	// and one that only their removal joins.
	s = scrub(s)
	if plain := strings.ReplaceAll(ansiRe.ReplaceAllString(s, ""), "\r", ""); plain != s {
		s = scrub(plain)
	}
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	return truncateMiddle(s, MaxEvidenceBytes)
}

// cleanMessage makes msg one scrubbed line of at most MaxMessageBytes.
func cleanMessage(s string) string {
	return truncateMiddle(oneLine(scrub(s)), MaxMessageBytes)
}

// oneLine collapses whitespace runs that contain line breaks into one space.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return strings.TrimSpace(s)
	}
	return strings.Join(strings.Fields(s), " ")
}

const ellipsis = "…"

// truncateMiddle bounds s to max bytes keeping its head and its tail (the tail of an error line holds the cause,
// the head says what was being done), cut at rune boundaries.
func truncateMiddle(s string, max int) string {
	if len(s) <= max {
		return s
	}
	room := max - len(ellipsis)
	headLen := room * 3 / 10
	tailLen := room - headLen
	head := s[:headLen]
	for len(head) > 0 && !utf8.RuneStart(s[len(head)]) {
		head = head[:len(head)-1]
	}
	tailStart := len(s) - tailLen
	for tailStart < len(s) && !utf8.RuneStart(s[tailStart]) {
		tailStart++
	}
	return head + ellipsis + s[tailStart:]
}

// short bounds a fragment quoted inside a message.
func short(s string, max int) string {
	s = oneLine(s)
	if len(s) <= max {
		return s
	}
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// humanDuration renders d rounded to minutes (seconds under a minute): "2h5m", "17m", "40s".
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d/time.Second))
	}
	d = d.Round(time.Minute)
	h := int(d / time.Hour)
	m := int((d % time.Hour) / time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	default:
		return fmt.Sprintf("%dh%dm", h, m)
	}
}

// registryHost returns the registry host of an image reference (docker.io for bare names).
func registryHost(ref string) string {
	ref = strings.TrimPrefix(ref, "docker://")
	i := strings.IndexByte(ref, '/')
	if i < 0 {
		return "docker.io"
	}
	h := ref[:i]
	if strings.ContainsAny(h, ".:") || h == "localhost" {
		return h
	}
	return "docker.io"
}

// plural returns "1 node" / "3 nodes".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

package app

import (
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/ocl-guard/ocl-guard/findings"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/rest"
)

// WholeWarnings returns a copy of cfg whose clients see each admission warning whole.
//
// The webhook splits a long warning into lines of at most findings.MaxWarningLength characters, each starting
// with "[rule-id] ", because the API server shortens longer ones on their way to `oc apply`. client-go hands a
// response's warnings to its warning handler one at a time (k8s.io/client-go rest/warnings.go handleWarnings), and
// controller-runtime's default handler logs each as its own log line (sigs.k8s.io/controller-runtime
// pkg/log/warning_handler.go), so one warning became several unrelated-looking lines in the checker's log, e.g.
// when it writes annotations on a MachineOSConfig. A handler sees no end of a response, so the lines are joined
// where all of them are together: in the response's Warning headers, before client-go parses them.
func WholeWarnings(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return wholeWarnings{next: rt} })
	return cfg
}

type wholeWarnings struct{ next http.RoundTripper }

func (w wholeWarnings) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(req)
	if err != nil || resp == nil || len(resp.Header.Values("Warning")) == 0 {
		return resp, err
	}
	parsed, errs := utilnet.ParseWarningHeaders(resp.Header.Values("Warning"))
	if len(errs) > 0 || len(parsed) < 2 {
		return resp, nil // left to client-go as they came
	}
	texts := make([]string, len(parsed))
	for i, p := range parsed {
		texts[i] = p.Text
	}
	joined, first := joinWarnings(texts)
	if len(joined) == len(parsed) {
		return resp, nil
	}
	// Each joined warning keeps the code and agent of its first line (the API server relays every admission
	// warning as 299 "-").
	headers := make([]string, len(joined))
	for i, text := range joined {
		if headers[i], err = utilnet.NewWarningHeader(parsed[first[i]].Code, parsed[first[i]].Agent, text); err != nil {
			return resp, nil
		}
	}
	resp.Header["Warning"] = headers
	return resp, nil
}

var rulePrefix = regexp.MustCompile(`^\[[^\]\s]+\] `)

// JoinWarnings undoes the webhook's wrapping (validators.Verdict.Warnings): a line continues the one before when
// both start with the same "[rule-id] " and the line before was full, i.e. the wrapper would have put the next
// line's first word on it had it fitted. A line longer than MaxWarningLength was never wrapped and is left alone,
// which also makes joining twice harmless. Two separate warnings of one rule stay apart unless the first one's last
// line happens to be full.
func JoinWarnings(lines []string) []string {
	out, _ := joinWarnings(lines)
	return out
}

// joinWarnings is JoinWarnings that also says where each warning starts in lines.
func joinWarnings(lines []string) (out []string, first []int) {
	for i, line := range lines {
		if i > 0 && continues(lines[i-1], line) {
			out[len(out)-1] = joinLine(out[len(out)-1], lines[i-1], line)
			continue
		}
		out, first = append(out, line), append(first, i)
	}
	return out, first
}

func continues(previous, line string) bool {
	prefix := rulePrefix.FindString(previous)
	if prefix == "" || !strings.HasPrefix(line, prefix) || utf8.RuneCountInString(previous) > findings.MaxWarningLength {
		return false
	}
	rest := strings.Fields(strings.TrimPrefix(line, prefix))
	if len(rest) == 0 {
		return false
	}
	return utf8.RuneCountInString(previous)+1+utf8.RuneCountInString(rest[0]) > findings.MaxWarningLength
}

// joinLine appends line's text to joined. The wrapper cuts a word longer than a line (a digested image reference,
// say) into pieces that fill whole lines; such a piece (a line of one word, exactly full) continues without a
// space. A word of exactly a line's length looks the same and is glued to the next word: rarer, and harmless.
func joinLine(joined, previous, line string) string {
	prefix := rulePrefix.FindString(line)
	text := strings.TrimPrefix(line, prefix)
	body := strings.TrimPrefix(previous, prefix)
	if utf8.RuneCountInString(previous) == findings.MaxWarningLength && !strings.ContainsAny(body, " \t") {
		return joined + text
	}
	return joined + " " + text
}

package diagnose

import (
	"bytes"
	"regexp"
	"strings"
)

// lowerASCII appends the ASCII-lowercased s to dst[:0]. Offsets in the result equal offsets in s.
func lowerASCII(dst []byte, s string) []byte {
	dst = dst[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// segKind is the kind of build step the lines of a log segment belong to.
type segKind uint8

const (
	segNone  segKind = iota // no step header seen (start of a log, or a truncated tail)
	segRun                  // after "STEP n/m: RUN ...": the lines are the command's output
	segFrom                 // after "STEP n/m: FROM ...": the build is pulling
	segOther                // after any other step header, COMMIT or "--> <id>"
	segPush                 // after "+ buildah push": the build is pushing
)

// pick is one candidate line.
type pick struct {
	cls   class
	line  string
	image string // the image a hidden pull failure was pulling
}

// better reports whether c (ranked by buildRank) should replace p. Ties go to the later line, which is the
// outermost, most complete error.
func (p pick) better(c class) bool {
	r := buildRank(c)
	return r > 0 && r >= buildRank(p.cls)
}

// scanResult is what a build log says.
type scanResult struct {
	cls      class
	evidence string
	step     string // text of the failing RUN step, original case, when known
	exit     string // its exit status, when known
	dir      direction
	image    string // the image a pull failure was pulling, when the log names it
	// runContext is set when the result comes from the output of a RUN step (package, repo, step failure).
	runContext bool
}

func (r scanResult) rank() int { return buildRank(r.cls) }

// segment accumulates what the lines since the last step boundary say. Only the last segment of a log decides:
// once a later step starts, nothing before it was fatal.
type segment struct {
	kind       segKind
	full       pick   // best line read as build output
	runOut     pick   // best package/repo/disk/lint line read as the output of a RUN command
	runFail    string // the `building at STEP "RUN ...": exit status N` line
	headerStep string // the RUN text of the step header
	subExit    string // from "subprocess exited with status N"
	tail       [3]string
	tailN      int
	carryLine  string // a line ending in "errors:" whose continuation lines hold the registry error codes
	carryDir   direction
	carryDeny  bool   // a continuation line said "denied"
	unentitled string // subscription-manager's "not registered" line
	hiddenPull string // the last debug "Error pulling candidate" line
}

func (s *segment) reset(kind segKind) { *s = segment{kind: kind} }

func (s *segment) hint() direction {
	switch s.kind {
	case segFrom:
		return dirPull
	case segPush:
		return dirPush
	}
	return dirNone
}

// remember keeps the last few output lines (for a failed RUN step's evidence).
func (s *segment) remember(line string) {
	if s.tailN < len(s.tail) {
		s.tail[s.tailN] = line
		s.tailN++
		return
	}
	copy(s.tail[:], s.tail[1:])
	s.tail[len(s.tail)-1] = line
}

var (
	runExitRe  = regexp.MustCompile(`(?i)building at STEP "(RUN\b.*)":\s*(?:(?:error )?while running runtime: )?exit status (\d+)`)
	subExitRe  = regexp.MustCompile(`(?i)subprocess exited with status (\d+)`)
	stepTextRe = regexp.MustCompile(`(?i)^STEP \d+(?:/\d+)?: (.*)$`)
)

// scanLog classifies a build log line by line and returns the cause the last segment supports.
func scanLog(text string) scanResult {
	var (
		seg segment
		buf = make([]byte, 0, 256)
		t   lineText
	)
	for len(text) > 0 {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if line[0] == '+' { // set -x trace of the build script or of a RUN command: commands, not errors
			if strings.Contains(line, "buildah push") || strings.Contains(line, "podman push") {
				seg.reset(segPush)
			}
			continue
		}
		buf = lowerASCII(buf, line)
		t = lineText{l: buf, lits: lex.scan(buf), hint: seg.hint()}
		if !seg.boundary(&t, line) {
			seg.consume(&t, line)
		}
	}
	return seg.result()
}

// boundary handles debug lines and step boundaries (a step header, COMMIT, "--> <id>"); it reports whether the line
// was one of those.
func (s *segment) boundary(t *lineText, line string) bool {
	l := t.l
	if t.has(litDebug) {
		if t.has(litPullCandidate) {
			s.hiddenPull = line
		}
		return true
	}
	if m := stepHeader(l); m != nil {
		switch string(m[1]) {
		case "run":
			s.reset(segRun)
			if sm := stepTextRe.FindStringSubmatch(line); sm != nil {
				s.headerStep = sm[1]
			}
		case "from":
			s.reset(segFrom)
		default:
			s.reset(segOther)
		}
		return true
	}
	if bytes.HasPrefix(l, []byte("commit")) && (len(l) == 6 || l[6] == ' ') || bytes.HasPrefix(l, []byte("--> ")) {
		s.reset(segOther)
		return true
	}
	return false
}

// consume reads one line of output within the current segment.
func (s *segment) consume(t *lineText, line string) {
	l := t.l
	// Continuation of a multi-line registry error.
	if s.carryLine != "" {
		if registryCodeRe.Match(l) {
			s.continuation(t, line)
			return
		}
		s.carryLine = ""
	}
	if t.has(litCopyFromMissing) {
		s.copyFrom(line)
		return
	}
	if notEntitled.Match(t) {
		s.unentitled = line
	}
	if s.stepFailure(t, line) {
		return
	}
	if l[0] == '<' { // the HTML body of a proxy's error page (pulp/pulp-operator#330): the line before it is the error
		s.remember(line)
		return
	}
	c := classifyText(t)
	switch c {
	case clsPackage, clsRepo, clsEntitlement, clsGpgKey, clsConflict, clsLint, clsBuildDisk:
		if s.runOut.better(c) {
			s.runOut = pick{cls: c, line: line}
		}
	}
	if s.full.better(c) {
		s.full = pick{cls: c, line: line}
	}
	s.remember(line)
	if bytes.HasSuffix(l, []byte("errors:")) {
		s.carryLine, s.carryDir, s.carryDeny = line, lineDirection(l), false
		if s.carryDir == dirNone {
			s.carryDir = s.hint()
		}
	}
}

// stepFailure handles buildah's `building at STEP "...": <cause>` (the quoted step is user text: only what follows
// it is classified) and "subprocess exited with status N"; it reports whether the line was one of those.
func (s *segment) stepFailure(t *lineText, line string) bool {
	if t.has(litBuildingAtStep) {
		l := t.l
		after := l[bytes.Index(l, lex.lits[litBuildingAtStep])+len(lex.lits[litBuildingAtStep]):]
		if bytes.HasPrefix(after, []byte("run")) && (len(after) == 3 || !isWordByte(after[3])) {
			s.runFail = line
			if s.kind == segNone || s.kind == segRun {
				return true
			}
		}
		if j := bytes.Index(after, []byte(`": `)); j >= 0 {
			if c := classifyText(newLineText(after[j+3:], s.hint())); s.full.better(c) {
				s.full = pick{cls: c, line: line}
			}
		}
		return true
	}
	if t.has(litSubprocessExited) {
		if m := subExitRe.FindStringSubmatch(line); m != nil {
			s.subExit = m[1]
		}
		return true
	}
	return false
}

func stepHeader(l []byte) [][]byte {
	if !bytes.HasPrefix(l, []byte("step ")) {
		return nil
	}
	return stepHeaderRe.FindSubmatch(l)
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// result resolves the last segment.
func (s *segment) result() scanResult {
	runFailed := s.runFail != "" || s.subExit != ""
	if s.kind == segRun || s.kind == segNone && runFailed {
		r := scanResult{runContext: true, step: s.headerStep, exit: s.subExit}
		if s.runFail != "" {
			if m := runExitRe.FindStringSubmatch(s.runFail); m != nil {
				r.step, r.exit = m[1], m[2]
			} else if st := runStepText(s.runFail); st != "" {
				r.step = st
			}
		}
		switch {
		case s.runOut.cls == clsPackage && s.unentitled != "":
			r.cls, r.evidence = clsEntitlement, s.unentitled+"\n"+s.runOut.line
		case s.runOut.cls != clsNone:
			r.cls, r.evidence = s.runOut.cls, s.runOut.line
		case runFailed:
			r.cls = clsRunStep
			var b strings.Builder
			for _, t := range s.tail[:s.tailN] {
				b.WriteString(t)
				b.WriteByte('\n')
			}
			if s.runFail != "" {
				b.WriteString(s.runFail)
			} else {
				b.WriteString("subprocess exited with status " + s.subExit)
			}
			r.evidence = b.String()
		}
		return r
	}
	if s.full.cls == clsNone {
		return scanResult{}
	}
	var buf [256]byte
	l := lowerASCII(buf[:0], s.full.line)
	dir := lineDirection(l)
	if dir == dirNone {
		dir = s.hint()
	}
	r := scanResult{cls: s.full.cls, evidence: s.full.line, dir: dir}
	if s.full.image != "" {
		r.image, r.dir = s.full.image, dirPull
	}
	return r
}

// continuation classifies a line of a multi-line registry error. After "denied", Docker Hub's empty-bodied 401
// ("error parsing HTTP 401 response body") does not turn the denial into refused credentials.
func (s *segment) continuation(t *lineText, line string) {
	l := t.l
	c := clsNone
	switch {
	case rateLimit.Match(t):
		c = clsRateLimit
	case registryQuota.Match(t):
		c = clsQuota
	case tooLarge.Match(t):
		c = clsTooLarge
	case s.carryDeny && bytes.HasPrefix(l, emptyBody401):
		return
	default:
		c = newLineText(l, s.carryDir).authClass()
	}
	if bytes.HasPrefix(l, []byte("denied")) {
		s.carryDeny = true
	}
	if c != clsNone && s.full.better(c) {
		s.full = pick{cls: c, line: s.carryLine + "\n" + line}
	}
}

// copyFrom handles buildah's "COPY --from=<x>: no stage or image found with that name": the cause is the pull error
// of the debug line before it, when there is one, else <x> names no stage.
func (s *segment) copyFrom(line string) {
	if s.hiddenPull == "" {
		if s.full.better(clsCopyFrom) {
			s.full = pick{cls: clsCopyFrom, line: line}
		}
		return
	}
	c := classifyText(newLineText(lowerASCII(nil, s.hiddenPull), dirPull))
	if buildRank(c) == 0 {
		c = clsCopyFrom
	}
	if s.full.better(c) {
		s.full = pick{cls: c, line: line + "\n" + s.hiddenPull, image: candidateImage(s.hiddenPull)}
	}
}

var candidateRe = regexp.MustCompile(`(?i)error pulling candidate (\S+?):? `)

// candidateImage is the image of an "Error pulling candidate <image>: <err>" line.
func candidateImage(line string) string {
	if m := candidateRe.FindStringSubmatch(line); m != nil {
		return strings.TrimSuffix(m[1], ":")
	}
	return ""
}

// runStepText extracts the quoted step of a `building at STEP "RUN ...": <cause>` line.
func runStepText(line string) string {
	i := strings.Index(strings.ToLower(line), `building at step "`)
	if i < 0 {
		return ""
	}
	rest := line[i+len(`building at step "`):]
	if j := strings.LastIndex(rest, `": `); j >= 0 {
		return rest[:j]
	}
	return strings.TrimSuffix(rest, `"`)
}

// lastLines returns the last n non-empty lines of text, skipping debug and set -x trace lines.
func lastLines(text string, n int) string {
	var picked []string
	for len(text) > 0 && len(picked) < n {
		var line string
		if i := strings.LastIndexByte(text, '\n'); i >= 0 {
			line, text = text[i+1:], text[:i]
		} else {
			line, text = text, ""
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.Contains(line, "level=debug") || line[0] == '+' {
			continue
		}
		picked = append(picked, line)
	}
	for i, j := 0, len(picked)-1; i < j; i, j = i+1, j-1 {
		picked[i], picked[j] = picked[j], picked[i]
	}
	return strings.Join(picked, "\n")
}

// Detail extraction for messages (original case).
var (
	packageNamesRe = regexp.MustCompile(`(?i)(?:No match for argument|Unable to find a match|Packages not found):\s*(.+)$|No package matches '([^']+)'|No matches for ["']([^"']+)["'] in repo`)
	repoIDRe       = regexp.MustCompile(`(?i)(?:for repo|cannot update repo|rpm-md repo) '([^']+)'|for repository "([^"]+)"|Couldn't resolve host name for (\S+)|Could not resolve host: ([^\]\s]+)|Curl error \(\d+\): [^\[]*? for (\S+)`)
	dockerRefRe    = regexp.MustCompile(`(?i)docker://([^\s"'\]]+)`)
	hostRes        = []*regexp.Regexp{
		regexp.MustCompile(`(?i)pinging container registry ([^\s:]+(?::\d+)?):`),
		regexp.MustCompile(`(?i)lookup ([^\s:]+\.[^\s:]+)(?: on |: )`),
		regexp.MustCompile(`(?i) in ([a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?)/`),
		regexp.MustCompile(`(?i)Get "https?://([^/"]+)/`),
	}
)

func firstGroup(m []string) string {
	for _, g := range m[1:] {
		if g != "" {
			return strings.TrimSpace(g)
		}
	}
	return ""
}

func packageNames(line string) string {
	if m := packageNamesRe.FindStringSubmatch(line); m != nil {
		return firstGroup(m)
	}
	return ""
}

func repoID(line string) string {
	if m := repoIDRe.FindStringSubmatch(line); m != nil {
		return firstGroup(m)
	}
	return ""
}

// hostInLine finds the registry host an error line talks about.
func hostInLine(line string) string {
	if m := dockerRefRe.FindStringSubmatch(line); m != nil {
		return registryHost(m[1])
	}
	for _, re := range hostRes {
		if m := re.FindStringSubmatch(line); m != nil {
			return m[1]
		}
	}
	return ""
}

// pullCause summarises why an image could not be pulled, for messages.
func pullCause(msg string) string {
	t := newLineText(lowerASCII(nil, msg), dirNone)
	switch {
	case rateLimit.Match(t):
		return "rate limited"
	case authRefused.Match(t) || denied.Match(t):
		return "credentials refused"
	case notFound.Match(t) || bytes.Contains(t.l, []byte("not found")):
		return "image not found"
	case nodeNet.Match(t) || bytes.Contains(t.l, []byte("registry is unavailable")):
		return "registry unreachable"
	}
	return ""
}

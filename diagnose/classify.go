package diagnose

import (
	"bytes"
	"regexp"
	"strings"
)

// class is what one line or message says, before it is turned into a Reason.
type class uint8

const (
	clsNone class = iota
	clsRunStep
	clsNetwork
	clsBaseAuth
	clsBaseNotFound
	clsPushAuth
	clsPushDenied
	clsPackage
	clsRepo
	clsContainerfile
	clsEntitlement  // RHEL content without the cluster's entitlement
	clsShortName    // an unqualified image name buildah cannot resolve without a prompt
	clsRateLimit    // the registry throttles pulls (HTTP 429 toomanyrequests)
	clsCopyFrom     // COPY --from names no stage, and no image could be pulled
	clsPod          // a kubelet/CRI line that is not an image pull failure
	clsPodImagePull // ErrImagePull, ImagePullBackOff, "Failed to pull image"
	clsNode         // a machine-config-daemon / rpm-ostree line with no recognised cause
	clsNodeUnreachable
	clsNodeDisk
	clsNodeNotFound
	clsNodeAuth
	clsNodeNoCause // the 2025-07 → 2026-08 wrapper that dropped the cause
	clsCount       // number of classes
)

// buildRank orders the classes that matter in a build log; the highest wins. Node and pod lines have no rank in a
// build log: the build pod does not run the node's tools, and pod status is read from the pod, not from its log.
func buildRank(c class) int {
	switch c {
	case clsContainerfile:
		return 60
	case clsEntitlement: // without entitlements RHEL repositories are missing, so their packages are "not found"
		return 58
	case clsShortName, clsRateLimit: // refused pulls follow from them
		return 45
	case clsCopyFrom:
		return 35
	case clsRepo: // a repository that cannot be reached also makes its packages "not found"
		return 55
	case clsPackage:
		return 50
	case clsBaseAuth, clsBaseNotFound, clsPushAuth, clsPushDenied:
		return 40
	case clsNetwork:
		return 30
	case clsRunStep:
		return 20
	}
	return 0
}

// direction says whether a line was written while pulling (the base image) or pushing (the built image).
type direction uint8

const (
	dirNone direction = iota
	dirPull
	dirPush
)

// matcher is a regexp guarded by literals, at least one of which every match contains: most log lines contain
// none, and bytes.Index is far cheaper than running the regexp. A nil re means the literals are the whole pattern.
type matcher struct {
	lits [][]byte
	re   *regexp.Regexp
}

func newMatcher(re string, lits ...string) matcher {
	m := matcher{}
	for _, l := range lits {
		m.lits = append(m.lits, []byte(l))
	}
	if re != "" {
		m.re = regexp.MustCompile(re)
	}
	return m
}

// index returns the index of the earliest literal in b, or -1 (for literal-only matchers).
func (m matcher) index(b []byte) int {
	at := -1
	for _, l := range m.lits {
		if i := bytes.Index(b, l); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	return at
}

func (m matcher) Match(b []byte) bool {
	hit := false
	for _, l := range m.lits {
		if bytes.Contains(b, l) {
			hit = true
			break
		}
	}
	if !hit {
		return false
	}
	return m.re == nil || m.re.Match(b)
}

// All patterns match lowercased text (ASCII lowering keeps byte offsets, so indexes map back to the original).
// The regexps are those of failure-signatures.md, adapted to Go's RE2 (no lookahead: the exclusions of the
// document's negative lookaheads are done by the order of the checks in classifyText).
var (
	// NODE anchor of section 7.
	nodeAnchor = newMatcher("", "failed to update os to", "failed to update os from local storage", "rpm-ostree rebase",
		"ostree-unverified-registry", "ostree-unverified-image", "creating importer", "skopeo proxy method", "failed to invoke method openimage")
	// POD anchor and image-pull shapes of section 8.
	podAnchor = newMatcher("", "rpc error: code =", "back-off pulling image", "failed to pull image", "errimagepull", "imagepullbackoff", "because the registry is unavailable")
	podPull   = newMatcher(`\b(?:errimagepull|imagepullbackoff|registryunavailable)\b|back-off pulling image|failed to pull image "|because the registry is unavailable`,
		"errimagepull", "imagepullbackoff", "registryunavailable", "back-off pulling image", "failed to pull image", "because the registry is unavailable")

	nodeNoCause = newMatcher(`failed to update os to \S+ after retries: timed out waiting for the condition\s*$`, "after retries: timed out waiting for the condition")
	nodeDisk    = newMatcher(`no space left on device|min-free-space-(?:percent|size)[^\n]*would be exceeded`, "no space left on device", "min-free-space-")
	nodeNet     = newMatcher("", "pinging container registry", "dial tcp", "no such host", "i/o timeout", "connection refused", "no route to host",
		"network is unreachable", "x509: ", "tls: failed to verify", "server gave http response to https client", "tls handshake timeout")

	// Section 6.
	containerfile = newMatcher(`unknown (?:dockerfile )?instruction|containerfile validation failed|dockerfile parse error|parsing (?:main|additional) dockerfile|must be of the form: name=value|can't find = in|as a json array|unterminated heredoc|requires (?:at least (?:one|two) arguments?|exactly one argument)|must contain at least one from instruction|instruction must use key=value form`,
		"instruction", "containerfile validation failed", "dockerfile", "name=value", "can't find = in", "as a json array", "unterminated heredoc", "requires ")
	// Section 5.
	packageNotFound = newMatcher(`no match for argument: |unable to find a match: |no package matches '[^']+'|packages not found: |no matches for ["'][^"']+["'] in repo`,
		"no match for argument: ", "unable to find a match: ", "no package matches '", "packages not found: ", "no matches for ")
	repoUnreachable = newMatcher(`curl error \(\d+\): |could not resolve host|couldn't resolve host name|failed to download metadata (?:for repo|\()|cannot download repomd\.xml|all mirrors were tried|cannot update repo '`,
		"curl error (", "resolve host", "failed to download metadata", "cannot download repomd.xml", "all mirrors were tried", "cannot update repo '")
	// Sections 1 and 2: credentials refused, access denied, image missing.
	authRefused = newMatcher(`unauthorized|authentication required|not authorized|invalid username/password|\b401\b`,
		"unauthorized", "authentication required", "not authorized", "invalid username/password", "401")
	authStrong = newMatcher(`authentication required|invalid username/password|\b401\b`, "authentication required", "invalid username/password", "401")
	denied     = newMatcher(`(?:^|[:\n] ?)denied:|access to the (?:requested )?resource is denied|\b403\b|forbidden`, "denied", "403", "forbidden")
	notFound   = newMatcher("", "manifest unknown", "name unknown", "repository name not known")
	// Section 3.
	network = newMatcher(`pinging container registry|dial tcp[^\n]*?(?:no such host|i/o timeout|connection refused|no route to host|network is unreachable)|lookup \S+(?: on \S+)?: (?:no such host|server misbehaving|i/o timeout)|x509: |tls: failed to verify certificate|server gave http response to https client|tls handshake timeout|client\.timeout exceeded|received unexpected http status: 50[234]`,
		"pinging container registry", "dial tcp", "lookup ", "x509: ", "tls: failed to verify certificate", "server gave http response to https client", "tls handshake timeout", "client.timeout exceeded", "received unexpected http status: 50")
	// RHEL content without entitlements: dnf prints "There are no enabled repositories in ..." (dnf4) or "There are
	// no enabled repos." (yum), e.g. opendatahub-io/notebooks#2408, ot4i/ace-docker#49.
	noEnabledRepos = newMatcher("", "there are no enabled repos")
	// subscription-manager's plugin prints this on every dnf run of an unentitled build, also on a successful one
	// (devfile/developer-images#249), so it only explains a package that is then not found.
	notEntitled = newMatcher("", "not registered with an entitlement server", "not registered to red hat subscription management")
	// c/image shortnames: knative/client#1308 "error creating build container: short-name resolution enforced but
	// cannot prompt without a TTY".
	shortName = newMatcher("", "short-name resolution enforced but cannot prompt without a tty", "did not resolve to an alias and no unqualified-search registries are defined")
	// Docker Hub's throttle: "toomanyrequests: You have reached your pull rate limit" (kata-containers/tests#3832).
	rateLimit = newMatcher(`toomanyrequests|429 too many requests|you have reached your pull rate limit`, "toomanyrequests", "429 too many requests", "pull rate limit")
	// buildah: "Error: COPY --from=<image>: no stage or image found with that name" (containers/podman#14350,
	// containers/buildah#4573); the pull error it hides is only logged at debug level by c/common libimage
	// (pull.go: "Error pulling candidate %s: %v"), and the MCO runs buildah with --log-level=DEBUG.
	copyFromMissing = []byte("no stage or image found with that name")
	pullCandidate   = []byte("error pulling candidate ")
	// Docker Hub answers a push without write access with "denied: requested access to the resource is denied" and
	// then a 401 with an empty body, which c/image reports on the next line as "error parsing HTTP 401 response body:
	// unexpected end of JSON input" (containers/image#1293): the denial is the cause, the 401 is noise.
	emptyBody401 = []byte("error parsing http 401 response body")
	// Continuation lines of the old multi-line registry error ("errors:\ndenied: ...\nunauthorized: ...").
	registryCodeRe = regexp.MustCompile(`^(?:denied|unauthorized|manifest unknown|name unknown|forbidden|toomanyrequests|error parsing http 40[13] response body)\b`)
	stepHeaderRe   = regexp.MustCompile(`^step \d+(?:/\d+)?: ([a-z]+)`)
)

var (
	pullWords = [][]byte{[]byte("creating build container"), []byte("initializing source"), []byte("unable to copy from source"), []byte("reading manifest"), []byte("trying to pull"), []byte("pulling image")}
	pushWords = [][]byte{[]byte("pushing image"), []byte("writing blob"), []byte("initiating layer upload"), []byte("trying to reuse blob"), []byte("checking whether a blob"), []byte("uploading manifest"), []byte("uploading layer"), []byte("writing manifest"), []byte("initializing destination")}
)

// lineDirection returns the direction named by the outermost (leftmost) wrapper of the line.
func lineDirection(l []byte) direction {
	best, dir := len(l)+1, dirNone
	for _, w := range pullWords {
		if i := bytes.Index(l, w); i >= 0 && i < best {
			best, dir = i, dirPull
		}
	}
	for _, w := range pushWords {
		if i := bytes.Index(l, w); i >= 0 && i < best {
			best, dir = i, dirPush
		}
	}
	return dir
}

// classifyText classifies one lowercased line or message. hint is the direction known from the line's place in
// the log, used when the line itself names no pull or push wrapper.
func classifyText(l []byte, hint direction) class {
	if at := nodeAnchor.index(l); at >= 0 {
		return nodeClass(l, at)
	}
	if podAnchor.Match(l) {
		if podPull.Match(l) {
			return clsPodImagePull
		}
		return clsPod
	}
	if containerfile.Match(l) {
		return clsContainerfile
	}
	if noEnabledRepos.Match(l) {
		return clsEntitlement
	}
	if shortName.Match(l) {
		return clsShortName
	}
	if rateLimit.Match(l) {
		return clsRateLimit
	}
	if repoUnreachable.Match(l) {
		return clsRepo
	}
	if packageNotFound.Match(l) {
		return clsPackage
	}
	if c := authClass(l, hint); c != clsNone {
		return c
	}
	if network.Match(l) {
		return clsNetwork
	}
	if bytes.Contains(l, []byte(`building at step "run`)) || bytes.Contains(l, []byte("subprocess exited with status")) {
		return clsRunStep
	}
	return clsNone
}

// nodeClass classifies a line that carries a NODE anchor at index at; the cause words must follow the anchor.
func nodeClass(l []byte, at int) class {
	if nodeNoCause.Match(l) {
		return clsNodeNoCause
	}
	rest := l[at:]
	switch {
	case authRefused.Match(rest) || denied.Match(rest):
		return clsNodeAuth
	case notFound.Match(rest):
		return clsNodeNotFound
	case nodeDisk.Match(rest):
		return clsNodeDisk
	case nodeNet.Match(rest):
		return clsNodeUnreachable
	}
	return clsNode
}

// authClass tells base-pull from push failures by the line's outermost wrapper, or by hint when there is none.
func authClass(l []byte, hint direction) class {
	refused := authRefused.Match(l)
	isDenied := denied.Match(l)
	missing := !refused && !isDenied && notFound.Match(l)
	if !refused && !isDenied && !missing {
		return clsNone
	}
	dir := lineDirection(l)
	if dir == dirNone {
		dir = hint
	}
	switch dir {
	case dirPull:
		if missing {
			return clsBaseNotFound
		}
		return clsBaseAuth
	case dirPush:
		switch {
		case missing:
			return clsNone
		case authStrong.Match(l):
			return clsPushAuth
		case isDenied:
			return clsPushDenied
		default:
			return clsPushAuth
		}
	}
	return clsNone
}

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
	runOut     pick   // best package/repo line read as the output of a RUN command
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
	runExitRe   = regexp.MustCompile(`(?i)building at STEP "(RUN\b.*)":\s*(?:(?:error )?while running runtime: )?exit status (\d+)`)
	subExitRe   = regexp.MustCompile(`(?i)subprocess exited with status (\d+)`)
	stepTextRe  = regexp.MustCompile(`(?i)^STEP \d+(?:/\d+)?: (.*)$`)
	buildAtStep = []byte(`building at step "`)
)

// scanLog classifies a build log line by line and returns the cause the last segment supports.
func scanLog(text string) scanResult {
	var (
		seg segment
		buf = make([]byte, 0, 256)
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
		if !seg.boundary(buf, line) {
			seg.consume(buf, line)
		}
	}
	return seg.result()
}

// boundary handles debug lines and step boundaries (a step header, COMMIT, "--> <id>"); it reports whether the line
// was one of those.
func (s *segment) boundary(l []byte, line string) bool {
	if bytes.Contains(l, []byte("level=debug")) {
		if bytes.Contains(l, pullCandidate) {
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
func (s *segment) consume(l []byte, line string) {
	// Continuation of a multi-line registry error.
	if s.carryLine != "" {
		if registryCodeRe.Match(l) {
			s.continuation(l, line)
			return
		}
		s.carryLine = ""
	}
	if bytes.Contains(l, copyFromMissing) {
		s.copyFrom(line)
		return
	}
	if notEntitled.Match(l) {
		s.unentitled = line
	}
	if s.stepFailure(l, line) {
		return
	}
	c := classifyText(l, s.hint())
	switch c {
	case clsPackage, clsRepo, clsEntitlement:
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
func (s *segment) stepFailure(l []byte, line string) bool {
	if i := bytes.Index(l, buildAtStep); i >= 0 {
		after := l[i+len(buildAtStep):]
		if bytes.HasPrefix(after, []byte("run")) && (len(after) == 3 || !isWordByte(after[3])) {
			s.runFail = line
			if s.kind == segNone || s.kind == segRun {
				return true
			}
		}
		if j := bytes.Index(after, []byte(`": `)); j >= 0 {
			if c := classifyText(after[j+3:], s.hint()); s.full.better(c) {
				s.full = pick{cls: c, line: line}
			}
		}
		return true
	}
	if bytes.Contains(l, []byte("subprocess exited with status")) {
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
func (s *segment) continuation(l []byte, line string) {
	c := clsNone
	switch {
	case rateLimit.Match(l):
		c = clsRateLimit
	case s.carryDeny && bytes.HasPrefix(l, emptyBody401):
		return
	default:
		c = authClass(l, s.carryDir)
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
	l := lowerASCII(nil, s.hiddenPull)
	c := classifyText(l, dirPull)
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
	l := lowerASCII(nil, msg)
	switch {
	case rateLimit.Match(l):
		return "rate limited"
	case authRefused.Match(l) || denied.Match(l):
		return "credentials refused"
	case notFound.Match(l) || bytes.Contains(l, []byte("not found")):
		return "image not found"
	case nodeNet.Match(l) || bytes.Contains(l, []byte("registry is unavailable")):
		return "registry unreachable"
	}
	return ""
}

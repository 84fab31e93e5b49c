package diagnose

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Every sample shape of failure-signatures.md, one line at a time, with the class it must get. hint is the
// direction the line's place in the log gives.
func TestClassifyText(t *testing.T) {
	cases := []struct {
		line string
		hint direction
		want class
	}{
		// 1. base pull refused
		{`Error: creating build container: internal error: unable to copy from source docker://quay.io/a/b:1: initializing source docker://quay.io/a/b:1: reading manifest 1 in quay.io/a/b: unauthorized: access to the requested resource is not authorized`, dirNone, clsBaseAuth},
		{`Error: creating build container: unable to copy from source docker://quay.io/a/b:1: initializing source docker://quay.io/a/b:1: unable to retrieve auth token: invalid username/password: unauthorized: bad robot`, dirNone, clsBaseAuth},
		{`Error: creating build container: unable to copy from source docker://r.example.com/a/b:1: initializing source docker://r.example.com/a/b:1: Requesting bearer token: received unexpected HTTP status: 403 Forbidden`, dirNone, clsBaseAuth},
		{`error creating build container: Error initializing source docker://r.example.com/a/b:1: Error reading manifest 1 in r.example.com/a/b: invalid status code from registry 403 (Forbidden)`, dirNone, clsBaseAuth},
		{`Error: creating build container: unable to copy from source docker://quay.io/a/b:9: initializing source docker://quay.io/a/b:9: reading manifest 9 in quay.io/a/b: manifest unknown`, dirNone, clsBaseNotFound},
		// 2. push refused / denied
		{`Error: pushing image "r.example.com/a:x" to "docker://r.example.com/a:x": writing blob: initiating layer upload to /v2/a/blobs/uploads/ in r.example.com: unauthorized: authentication required`, dirNone, clsPushAuth},
		{`Error: writing blob: initiating layer upload to /v2/a/blobs/uploads/ in r.example.com: unauthorized: access to the requested resource is not authorized`, dirNone, clsPushAuth},
		{`Error: trying to reuse blob sha256:abc at destination: checking whether a blob sha256:abc exists in r.example.com/a: unauthorized: authentication required`, dirNone, clsPushAuth},
		{`Error: pushing image "a" to "docker://a": writing manifest: uploading manifest x to r.example.com/a: denied: requested access to the resource is denied`, dirNone, clsPushDenied},
		{`Error: pushing image "a" to "docker://a": writing blob: initiating layer upload to /v2/a/blobs/uploads/ in r.example.com: received unexpected HTTP status: 403 Forbidden`, dirNone, clsPushDenied},
		{`Error: pushing image "a" to "docker://a": initializing destination: unable to retrieve auth token: invalid username/password: unauthorized: x`, dirNone, clsPushAuth},
		{`Error: writing blob: storing blob to file "/var/tmp/x": open /var/tmp/x: permission denied`, dirPush, clsNone},
		{`Error: unauthorized: authentication required`, dirPush, clsPushAuth},
		{`Error: unauthorized: authentication required`, dirPull, clsBaseAuth},
		{`Error: unauthorized: authentication required`, dirNone, clsNone},
		// 3. network
		{`Error: creating build container: initializing source docker://quay.io/a:1: pinging container registry quay.io: Get "https://quay.io/v2/": dial tcp: lookup quay.io on 172.30.0.10:53: no such host`, dirNone, clsNetwork},
		{`Error: pushing image "a" to "docker://a": trying to reuse blob sha256:a at destination: pinging container registry r.example.com: Get "https://r.example.com/v2/": dial tcp 10.0.0.5:443: i/o timeout`, dirNone, clsNetwork},
		{`Get "https://r.example.com/v2/": dial tcp 10.0.0.5:443: connect: connection refused`, dirNone, clsNetwork},
		{`x509: certificate signed by unknown authority`, dirNone, clsNetwork},
		{`tls: failed to verify certificate: x509: certificate has expired or is not yet valid`, dirNone, clsNetwork},
		{`http: server gave HTTP response to HTTPS client`, dirNone, clsNetwork},
		{`net/http: TLS handshake timeout`, dirNone, clsNetwork},
		{`Get "https://r.example.com/v2/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, dirNone, clsNetwork},
		{`writing blob: received unexpected HTTP status: 503 Service Unavailable`, dirNone, clsNetwork},
		// 4. RUN step
		{`Error: building at STEP "RUN false": exit status 1`, dirNone, clsRunStep},
		{`subprocess exited with status 2`, dirNone, clsRunStep},
		// 5. package / repo
		{`No match for argument: tmuxx`, dirNone, clsPackage},
		{`Error: Unable to find a match: tmuxx htopp`, dirNone, clsPackage},
		{`error: No package matches 'kernel-devel'`, dirNone, clsPackage},
		{`error: Packages not found: a, b`, dirNone, clsPackage},
		{`No matches for 'foo' in repo 'rhel-9-baseos'`, dirNone, clsPackage},
		{`Curl error (6): Couldn't resolve host name for http://repo/x/repodata/repomd.xml [Could not resolve host: repo]`, dirNone, clsRepo},
		{`Error: Failed to download metadata for repo 'x': Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried`, dirNone, clsRepo},
		{`Failed to download metadata (baseurl: "https://repo/x/") for repository "x"`, dirNone, clsRepo},
		{`error: Updating rpm-md repo 'x': cannot update repo 'x': Cannot download repomd.xml`, dirNone, clsRepo},
		{`Curl error (22): The requested URL returned error: 403 Forbidden for https://cdn.redhat.com/x/repomd.xml`, dirNone, clsRepo},
		// 6. Containerfile
		{`Containerfile validation failed: unknown Dockerfile instruction: RUNN`, dirNone, clsContainerfile},
		{`Containerfile validation failed: Containerfile must contain at least one FROM instruction`, dirNone, clsContainerfile},
		{`Containerfile validation failed: line 3: ENV instruction must use key=value form`, dirNone, clsContainerfile},
		{`Error: parsing main Dockerfile: /tmp/c/Containerfile: Error parsing "[a" as a JSON array`, dirNone, clsContainerfile},
		{`Error: parsing main Dockerfile: /tmp/c/Containerfile: unterminated heredoc`, dirNone, clsContainerfile},
		{`Error: parsing main Dockerfile: /tmp/c/Containerfile: COPY requires at least two arguments`, dirNone, clsContainerfile},
		{`dockerfile parse error on line 2: unknown instruction: RUNN (did you mean RUN?)`, dirNone, clsContainerfile},
		// 7. node side
		{`failed to update OS to q.io/a@sha256:1: error running rpm-ostree rebase --experimental ostree-unverified-registry:q.io/a@sha256:1: error: Creating importer: failed to invoke method OpenImage: failed to invoke method OpenImage: reading manifest sha256:1 in q.io/a: unauthorized: x: exit status 1`, dirNone, clsNodeAuth},
		{`failed to update OS to q.io/a@sha256:1 : error running rpm-ostree rebase --experimental ostree-unverified-registry:q.io/a@sha256:1: error: remote error: Failed to invoke skopeo proxy method OpenImage: remote error: Requesting bearer token: invalid status code from registry 403 (Forbidden)`, dirNone, clsNodeAuth},
		{`failed to update OS to q.io/a@sha256:1: error running rpm-ostree rebase: ...: manifest unknown`, dirNone, clsNodeNotFound},
		{`failed to update OS to q.io/a@sha256:1: error running rpm-ostree rebase: ...: Writing content object: min-free-space-percent '3%' would be exceeded, at least 4 MB requested`, dirNone, clsNodeDisk},
		{`failed to update OS to q.io/a@sha256:1 after retries: error running rpm-ostree rebase: ...: dial tcp: lookup q.io: no such host: exit status 1: timed out waiting for the condition`, dirNone, clsNodeUnreachable},
		{`Failed to update OS to q.io/a@sha256:1 after retries: timed out waiting for the condition`, dirNone, clsNodeNoCause},
		{`failed to update OS to q.io/a@sha256:1 after retries: timed out waiting for the condition`, dirNone, clsNodeNoCause},
		{`failed to update OS from local storage: q.io/a@sha256:1: exit status 1`, dirNone, clsNode},
		// 8. pod
		{`Back-off pulling image "q.io/a@sha256:1": ErrImagePull: rpc error: code = Unknown desc = reading manifest sha256:1 in q.io/a: unauthorized: x`, dirNone, clsPodImagePull},
		{`Failed to pull image "q.io/a@sha256:1": rpc error: code = Unknown desc = pinging container registry q.io: dial tcp: i/o timeout`, dirNone, clsPodImagePull},
		{`image pull failed for q.io/a because the registry is unavailable`, dirNone, clsPodImagePull},
		{`rpc error: code = DeadlineExceeded desc = context deadline exceeded`, dirNone, clsPod},
		// precedence: node > pod > Containerfile > package > auth > network > RUN
		{`failed to update OS to q.io/a: rpc error: code = Unknown desc = unauthorized`, dirNone, clsNodeAuth},
		{`No match for argument: unauthorized-tools`, dirNone, clsPackage},
		{`Curl error (60): SSL certificate problem: x509: certificate signed by unknown authority`, dirNone, clsRepo},
		// nothing
		{`Installing: perl-Error-1:0.17029-7.el9.noarch`, dirNone, clsNone},
		{`Copying blob sha256:7e49dc6156b0`, dirPush, clsNone},
	}
	for _, tc := range cases {
		if got := classifyLine(tc.line, tc.hint); got != tc.want {
			t.Errorf("%q (hint %d): class %d, want %d", tc.line, tc.hint, got, tc.want)
		}
	}
}

func TestScanLogContext(t *testing.T) {
	cases := []struct {
		name string
		log  string
		want class
		step string
		exit string
	}{
		{"set -x trace lines are never errors", "+ echo 'Error: creating build container: initializing source docker://q.io/a: unauthorized'\n", clsNone, "", ""},
		{"debug lines are never errors", `time="x" level=debug msg="pushing image: writing blob: unauthorized: x"` + "\n", clsNone, "", ""},
		{"a later step makes earlier trouble irrelevant", "STEP 1/2: FROM q.io/a\nFailed, retrying in 1s ... (1/3). Error: initializing source docker://q.io/a: pinging container registry q.io: dial tcp 1.2.3.4:443: i/o timeout\nSTEP 2/2: LABEL a=b\n--> 123\n", clsNone, "", ""},
		{"STEP header without total (old buildah)", "STEP 2: RUN dnf -y install foo\nNo match for argument: foo\nerror building at STEP \"RUN dnf -y install foo\": exit status 1", clsPackage, "RUN dnf -y install foo", "1"},
		{"RUN step text with quotes and colons", `STEP 2/2: RUN sh -c "echo a: b"` + "\n" + `Error: building at STEP "RUN sh -c "echo a: b"": exit status 7`, clsRunStep, `RUN sh -c "echo a: b"`, "7"},
		{"RUN failure without exit status", `STEP 2/2: RUN x` + "\n" + `Error: building at STEP "RUN x": while running runtime: OCI runtime error: crun: executable file not found`, clsRunStep, "RUN x", ""},
		{"subprocess line alone", "STEP 2/2: RUN x\nboom\nsubprocess exited with status 9\n", clsRunStep, "RUN x", "9"},
		{"running RUN step with repo trouble (stuck build)", "STEP 2/2: RUN dnf install -y a\nCurl error (28): Timeout was reached for https://r/repodata/repomd.xml\n", clsRepo, "RUN dnf install -y a", ""},
		// The build context holds only the Containerfile, machineconfig/ and the CA bundle: BuildContextMissing.
		{"COPY failure is classified on its cause", `STEP 2/3: COPY x /y` + "\n" + `Error: building at STEP "COPY x /y": checking on sources under "/tmp/c": copier: stat: "/x": no such file or directory`, clsContextMissing, "", ""},
		{"CRLF and indentation", "STEP 2/2: RUN a\r\n   No match for argument: a\r\n\r\nError: building at STEP \"RUN a\": exit status 1\r\n", clsPackage, "RUN a", "1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := scanLog(tc.log)
			if r.cls != tc.want || r.step != tc.step || r.exit != tc.exit {
				t.Errorf("got class %d step %q exit %q; want %d %q %q (evidence %q)", r.cls, r.step, r.exit, tc.want, tc.step, tc.exit, r.evidence)
			}
		})
	}
}

func TestScrub(t *testing.T) {
	cases := []struct{ in, secret string }{
		{`Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJ4In0.c2ln`, "eyJhbGci"},
		{`authorization: Basic dXNlcjpwYXNzd29yZA==`, "dXNlcjpwYXNzd29yZA"},
		{`"Authorization":["Bearer abcdef0123456789"]`, "abcdef0123456789"},
		{`{"auths":{"quay.io":{"auth":"cm9ib3Q6c2VjcmV0","email":""}}}`, "cm9ib3Q6c2VjcmV0"},
		{`{\"auths\":{\"quay.io\":{\"auth\":\"cm9ib3Q6c2VjcmV0\"}}}`, "cm9ib3Q6c2VjcmV0"},
		{`{"username":"robot","password":"hunter2"}`, "hunter2"},
		{`{"identitytoken":"tok-123456"}`, "tok-123456"},
		{`password=hunter2 user=x`, "hunter2"},
		{`PASSWORD="hunter 2"`, "hunter 2"},
		{`https://robot:s3cr3t@registry.example.com/v2/`, "s3cr3t"},
		{`podman login --password hunter2 quay.io`, "hunter2"},
		{`skopeo copy --creds robot:hunter2 docker://a docker://b`, "hunter2"},
		{`curl -u admin:hunter2 https://x`, "hunter2"},
		{`X-Registry-Auth: eyJ1c2VybmFtZSI6InJvYm90In0=`, "eyJ1c2VybmFtZSI6InJvYm90In0"},
		{`?access_token=abc.def.ghi&x=1`, "abc.def.ghi"},
	}
	for _, tc := range cases {
		got := cleanEvidence(tc.in)
		if strings.Contains(got, tc.secret) {
			t.Errorf("scrub(%q) = %q still holds %q", tc.in, got, tc.secret)
		}
		if !strings.Contains(got, "<redacted>") {
			t.Errorf("scrub(%q) = %q has no marker", tc.in, got)
		}
	}
	// Ordinary error text is left alone.
	for _, s := range []string{
		`unable to retrieve auth token: invalid username/password: unauthorized: x`,
		`reading manifest sha256:aaaa in quay.io/acme/os: unauthorized: authentication required`,
		`Requesting bearer token: received unexpected HTTP status: 403 Forbidden`,
	} {
		if got := cleanEvidence(s); got != s {
			t.Errorf("scrub changed %q to %q", s, got)
		}
	}
	// A secret straddling the truncation point is removed before the cut.
	long := strings.Repeat("a", 140) + `"auth":"` + strings.Repeat("Z", 2000) + `"` + strings.Repeat("b", 400)
	if got := cleanEvidence(long); strings.Contains(got, "ZZZ") || len(got) > MaxEvidenceBytes {
		t.Errorf("truncated secret leaked: %q", got)
	}
	// Messages are scrubbed too (they quote RUN steps).
	if got := cleanMessage("step RUN curl -u admin:hunter2 https://x\nnext"); strings.Contains(got, "hunter2") || strings.Contains(got, "\n") {
		t.Errorf("message %q", got)
	}
}

func TestTruncateMiddle(t *testing.T) {
	s := strings.Repeat("é", 400) + "TAIL"
	got := truncateMiddle(s, MaxEvidenceBytes)
	if len(got) > MaxEvidenceBytes || !utf8.ValidString(got) || !strings.HasSuffix(got, "TAIL") || !strings.Contains(got, "…") {
		t.Errorf("len %d valid %v: %q", len(got), utf8.ValidString(got), got)
	}
	if got := truncateMiddle("short", 10); got != "short" {
		t.Errorf("%q", got)
	}
	if got := cleanEvidence("\x1b[31mred\x1b[0m line\r\n"); got != "red line" {
		t.Errorf("%q", got)
	}
}

func TestHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"quay.io/a/b:1": "quay.io", "registry:5000/a": "registry:5000", "localhost/a": "localhost",
		"acme/base": "docker.io", "ubuntu": "docker.io", "docker://quay.io/x": "quay.io",
	} {
		if got := registryHost(in); got != want {
			t.Errorf("registryHost(%q) = %q, want %q", in, got, want)
		}
	}
	for d, want := range map[int]string{30: "30s", 90: "2m", 3600: "1h", 3 * 3600: "3h", 2*3600 + 5*60: "2h5m"} {
		if got := humanDuration(secondsDur(d)); got != want {
			t.Errorf("humanDuration(%ds) = %q, want %q", d, got, want)
		}
	}
	if got := imageKey(target); got != "aaaabbbbcccc" {
		t.Errorf("imageKey = %q", got)
	}
	if a, b := imageKey("q.io/a:1"), imageKey("q.io/a:2"); a == b || len(a) != 16 {
		t.Errorf("imageKey tags %q %q", a, b)
	}
	if got := repoOf("r.example.com:5000/ocl/os:latest"); got != "r.example.com:5000/ocl/os" {
		t.Errorf("repoOf = %q", got)
	}
	if got := len(Reasons()); got != 42 {
		t.Errorf("%d reasons", got)
	}
	seen := map[Reason]bool{}
	for _, r := range Reasons() {
		if seen[r] || DefaultSeverity(r) == "" {
			t.Errorf("reason %q duplicated or without severity", r)
		}
		seen[r] = true
	}
}

func secondsDur(s int) time.Duration { return time.Duration(s) * time.Second }

// classifyLine classifies one line of a build log as scanLog does.
func classifyLine(line string, hint direction) class {
	return classifyText(newLineText(lowerASCII(nil, line), hint))
}

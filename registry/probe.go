package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// routineUnknownSuffix ends the Push detail when push was not verified by design rather than because something
// went wrong; see PushUnverifiedByDesign.
const routineUnknownSuffix = "not verified without the write probe"

// PushUnverifiedByDesign reports whether r's push verdict is Unknown only because the registry's answer cannot say
// (Basic auth, an opaque token, or no auth at all) and the write probe is off: the normal case, not worth a warning.
func PushUnverifiedByDesign(r Result) bool {
	return r.Push == StatusUnknown && strings.HasSuffix(r.PushDetail, routineUnknownSuffix)
}

// outcome is a Result plus what the cache needs to know about it.
type outcome struct {
	Result
	transient bool // an Unknown caused by the network or the registry misbehaving, worth retrying soon
}

// probeRun is one probe of one repository with one set of credentials, within ctx's deadline.
type probeRun struct {
	p    *Prober
	ctx  context.Context
	repo name.Repository
	auth authn.Authenticator
	// why says why auth is anonymous when a Secret was given (it holds nothing the build's tools would send).
	why string

	host, path string // registry host[:port] and repository path, for details
	scheme     string // "https", or "http" when the ping fell back for an insecure host
}

func (r *probeRun) run() outcome {
	r.host, r.path = r.repo.RegistryStr(), r.repo.RepositoryStr()
	challenge, err := transport.Ping(r.ctx, r.repo.Registry, r.p.rt)
	if err != nil {
		return r.unreachable(err)
	}
	r.scheme = "https"
	if challenge.Insecure {
		r.scheme = "http"
	}
	out := outcome{Result: Result{Reachable: StatusOK}}
	var v verdict
	switch strings.ToLower(challenge.Scheme) {
	case "":
		out.ReachableDetail = fmt.Sprintf("%s answers /v2/ over %s without credentials", r.host, strings.ToUpper(r.scheme))
		v = r.checkOpenRegistry()
	case "basic":
		out.ReachableDetail = fmt.Sprintf("%s answers /v2/ over %s (Basic auth)", r.host, strings.ToUpper(r.scheme))
		v = r.checkBasic(challenge)
	case "bearer":
		out.ReachableDetail = fmt.Sprintf("%s answers /v2/ over %s (token auth)", r.host, strings.ToUpper(r.scheme))
		v = r.checkBearer(challenge)
	default:
		out.ReachableDetail = fmt.Sprintf("%s answers /v2/ over %s", r.host, strings.ToUpper(r.scheme))
		v = verdict{status: StatusUnknown, detail: fmt.Sprintf("%s asks for %q auth, which ocl-guard cannot check", r.host, challenge.Scheme)}
	}
	out.Push, out.PushDetail, out.CredentialsRefused, out.transient = v.status, v.detail, v.credentialsRefused, v.transient
	return out
}

// unreachable turns a failed ping into a Result.
func (r *probeRun) unreachable(err error) outcome {
	out := outcome{Result: Result{Push: StatusSkipped, PushDetail: "not checked: the registry API did not answer"}}
	var terr *transport.Error
	if errors.As(err, &terr) {
		out.Reachable, out.ReachableDetail = r.pingStatus(terr.StatusCode)
		out.transient = out.Reachable == StatusUnknown
		return out
	}
	f := classify(err)
	out.Reachable, out.transient = f.status, f.status == StatusUnknown
	switch {
	case f.refused != nil:
		out.ReachableDetail = f.class
	case f.timedOut:
		out.ReachableDetail = fmt.Sprintf("could not reach %s within %s", r.host, formatBudget(r.p.opts.Budget))
	default:
		out.ReachableDetail = fmt.Sprintf("cannot reach registry %s: %s", r.host, f.class)
	}
	return out
}

func (r *probeRun) pingStatus(code int) (Status, string) {
	switch {
	case code == http.StatusNotFound:
		return StatusFailed, fmt.Sprintf("%s answered /v2/ with HTTP 404: it does not serve the registry API there", r.host)
	case code == http.StatusTooManyRequests || code >= 500:
		return StatusUnknown, fmt.Sprintf("%s answered /v2/ with HTTP %d; try again later", r.host, code)
	}
	return StatusFailed, fmt.Sprintf("%s answered /v2/ with HTTP %d instead of 200 or 401", r.host, code)
}

// verdict is the push half of a Result.
type verdict struct {
	status             Status
	detail             string
	credentialsRefused bool
	transient          bool
}

func (r *probeRun) noCredentials() verdict {
	if r.why != "" {
		return verdict{status: StatusSkipped, detail: "not checked: " + r.why}
	}
	return verdict{status: StatusSkipped, detail: fmt.Sprintf("not checked: the push secret holds no credentials for %s", r.host)}
}

// who names the credentials a request carried, for details: theirs when the Secret had some (ours is the wording
// for them), anonymous ones with the reason there were no others.
func (r *probeRun) who(ours string) string {
	switch {
	case r.auth != authn.Anonymous:
		return ours
	case r.why != "":
		return "anonymous requests (" + r.why + ")"
	}
	return "anonymous requests"
}

func (r *probeRun) notVerified(proven string) verdict {
	if r.p.opts.WriteProbe {
		return r.writeProbe(r.withAuth(nil))
	}
	return verdict{status: StatusUnknown, detail: proven + "; push right on " + r.path + " " + routineUnknownSuffix}
}

// networkTrouble turns an error after a successful ping into an Unknown push verdict.
func (r *probeRun) networkTrouble(step string, err error) verdict {
	f := classify(err)
	detail := fmt.Sprintf("%s at %s failed: %s", step, r.host, f.class)
	if f.timedOut {
		detail = fmt.Sprintf("%s at %s did not finish within %s", step, r.host, formatBudget(r.p.opts.Budget))
	}
	if f.refused != nil {
		detail = fmt.Sprintf("%s at %s: %s", step, r.host, f.class)
	}
	return verdict{status: StatusUnknown, detail: detail, transient: true}
}

// checkOpenRegistry: /v2/ needs no credentials, which says nothing about push (many registries allow anonymous
// reads and demand credentials only to write).
func (r *probeRun) checkOpenRegistry() verdict {
	return r.notVerified(fmt.Sprintf("%s requires no credentials for /v2/", r.host))
}

// checkBasic sends the credentials on GET /v2/: 200 means accepted, 401 refused. Basic auth has no scope, so this
// is all it can prove without the write probe.
func (r *probeRun) checkBasic(challenge *transport.Challenge) verdict {
	if r.auth == authn.Anonymous {
		return r.noCredentials()
	}
	rt := r.withAuth(challenge)
	code, _, err := r.do(rt, http.MethodGet, r.url("/v2/"), noRedirects)
	if err != nil {
		return r.networkTrouble("checking credentials", err)
	}
	switch code {
	case http.StatusOK:
		if r.p.opts.WriteProbe {
			return r.writeProbe(rt)
		}
		return verdict{status: StatusUnknown, detail: fmt.Sprintf(
			"credentials accepted by %s (HTTP 200 on /v2/); push right on %s %s", r.host, r.path, routineUnknownSuffix)}
	case http.StatusUnauthorized:
		return verdict{status: StatusFailed, credentialsRefused: true, detail: fmt.Sprintf(
			"%s refused the push secret's credentials (HTTP 401 on /v2/)", r.host)}
	case http.StatusForbidden:
		return verdict{status: StatusFailed, detail: fmt.Sprintf("%s forbids these credentials any access (HTTP 403 on /v2/)", r.host)}
	}
	if isRedirect(code) {
		// A login page or a proxy elsewhere may answer 200 to anything: only the registry's own 200 counts.
		return verdict{status: StatusUnknown, transient: true, detail: fmt.Sprintf(
			"%s answered /v2/ with the push secret's credentials by a redirect (HTTP %d), which does not show they are accepted", r.host, code)}
	}
	return verdict{status: StatusUnknown, transient: true, detail: fmt.Sprintf(
		"%s answered /v2/ with HTTP %d to the push secret's credentials", r.host, code)}
}

// checkBearer asks the token service for push,pull on the repository, checks that the registry accepts the token,
// and reads the grant from the token when it is a JWT.
func (r *probeRun) checkBearer(challenge *transport.Challenge) verdict {
	if r.auth == authn.Anonymous {
		return r.noCredentials()
	}
	cfg, err := authn.Authorization(r.ctx, r.auth)
	if err != nil {
		return verdict{status: StatusUnknown, detail: fmt.Sprintf("could not read the push secret's credentials for %s", r.host)}
	}
	token := cfg.RegistryToken // a pre-issued registry token is used as is, the way the build's tools use it
	if token == "" {
		tok, err := transport.Exchange(r.ctx, r.repo.Registry, r.auth, r.p.rt, []string{r.repo.Scope(transport.PushScope)}, challenge)
		if err != nil {
			return r.exchangeFailed(err)
		}
		token = tok.Token
		if token == "" {
			token = tok.AccessToken
		}
	}
	rt, err := transport.FromToken(r.repo.Registry, r.auth, r.p.rt, challenge, &transport.Token{Token: token})
	if err != nil {
		return verdict{status: StatusUnknown, detail: fmt.Sprintf("%s's token challenge cannot be used: it names no realm", r.host)}
	}
	code, _, err := r.do(rt, http.MethodGet, r.url("/v2/"), noRedirects)
	switch {
	case err != nil:
		return r.networkTrouble("checking the token", err)
	case isRedirect(code):
		return verdict{status: StatusUnknown, transient: true, detail: fmt.Sprintf(
			"%s answered /v2/ with the token by a redirect (HTTP %d), which does not show the token is accepted", r.host, code)}
	case code == http.StatusUnauthorized:
		return verdict{status: StatusFailed, detail: fmt.Sprintf(
			"%s refused the token its own token service issued (HTTP 401 on /v2/)", r.host)}
	}

	if r.p.opts.WriteProbe {
		return r.writeProbe(rt) // when enabled, the registry's answer to a write decides, whatever the token says
	}
	switch tokenGrant(token, r.path) {
	case grantPull:
		return verdict{status: StatusFailed, detail: fmt.Sprintf("credentials for %s grant pull but not push on %s", r.host, r.path)}
	case grantNone:
		return verdict{status: StatusFailed, detail: fmt.Sprintf("credentials for %s grant no access to %s", r.host, r.path)}
	case grantPush:
		return verdict{status: StatusOK, detail: fmt.Sprintf("the token service of %s granted push on %s", r.host, r.path)}
	}
	return verdict{status: StatusUnknown, detail: fmt.Sprintf(
		"credentials accepted by the token service of %s, but its token is opaque; push right on %s %s", r.host, r.path, routineUnknownSuffix)}
}

func (r *probeRun) exchangeFailed(err error) verdict {
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch terr.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return verdict{status: StatusFailed, credentialsRefused: true, detail: fmt.Sprintf(
				"the token service of %s refused the push secret's credentials (HTTP %d)", r.host, terr.StatusCode)}
		}
		return verdict{status: StatusUnknown, transient: true, detail: fmt.Sprintf(
			"the token service of %s answered HTTP %d", r.host, terr.StatusCode)}
	}
	if strings.Contains(err.Error(), "invalid realm") {
		// go-containerregistry refuses realms on another host that are private IP literals or use plain HTTP.
		return verdict{status: StatusUnknown, detail: fmt.Sprintf(
			"the token realm of %s was refused: it must use HTTPS and a host name or public address", r.host)}
	}
	return r.networkTrouble("getting a token", err)
}

// writeProbe starts a blob upload and cancels it, as remote.CheckPushPermission does. rt carries the credentials.
func (r *probeRun) writeProbe(rt http.RoundTripper) verdict {
	code, loc, err := r.do(rt, http.MethodPost, r.url("/v2/"+r.path+"/blobs/uploads/"), followRedirects)
	if err != nil {
		return r.networkTrouble("starting a test upload", err)
	}
	switch code {
	case http.StatusAccepted, http.StatusCreated:
		r.cancelUpload(rt, loc)
		return verdict{status: StatusOK, detail: fmt.Sprintf(
			"%s accepted a test blob upload to %s (HTTP %d; cancelled at once)", r.host, r.path, code)}
	case http.StatusUnauthorized, http.StatusForbidden:
		return verdict{status: StatusFailed, detail: fmt.Sprintf(
			"%s refused a test blob upload to %s (HTTP %d): the push secret's credentials cannot push there", r.host, r.path, code)}
	}
	return verdict{status: StatusUnknown, transient: true, detail: fmt.Sprintf(
		"%s answered a test blob upload to %s with HTTP %d", r.host, r.path, code)}
}

// cancelUpload deletes the upload session, best effort, and only on the registry itself: an upload location on
// another host is left to the registry's purging rather than sent a credential-bearing request.
func (r *probeRun) cancelUpload(rt http.RoundTripper, loc *url.URL) {
	if loc == nil || loc.Host != r.host {
		return
	}
	_, _, _ = r.do(rt, http.MethodDelete, loc.String(), noRedirects)
}

// withAuth returns a transport that adds the credentials to requests for the registry host. challenge nil means
// the registry sent none (open /v2/), where the credentials are still offered, as a push would offer them.
func (r *probeRun) withAuth(challenge *transport.Challenge) http.RoundTripper {
	if challenge == nil {
		challenge = &transport.Challenge{Scheme: "basic", Insecure: r.scheme == "http"}
	}
	rt, err := transport.FromToken(r.repo.Registry, r.auth, r.p.rt, challenge, &transport.Token{})
	if err != nil { // only bearer challenges can fail, and callers pass basic ones
		return r.p.rt
	}
	return rt
}

func (r *probeRun) url(path string) string {
	return (&url.URL{Scheme: r.scheme, Host: r.host, Path: path}).String()
}

// Whether do follows redirects: a check of credentials must see the registry's own answer.
const (
	followRedirects = true
	noRedirects     = false
)

func isRedirect(code int) bool { return code >= 300 && code < 400 }

// do sends one request and returns its status and, for uploads, the resolved Location.
func (r *probeRun) do(rt http.RoundTripper, method, target string, follow bool) (int, *url.URL, error) {
	req, err := http.NewRequestWithContext(r.ctx, method, target, nil)
	if err != nil {
		return 0, nil, err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Transport: rt, CheckRedirect: checkRedirect}
	if !follow {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body) // capped by policyTransport; draining lets the connection be reused
	var loc *url.URL
	if l := resp.Header.Get("Location"); l != "" {
		if u, err := url.Parse(l); err == nil {
			loc = resp.Request.URL.ResolveReference(u)
		}
	}
	return resp.StatusCode, loc, nil
}

package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	corev1 "k8s.io/api/core/v1"
)

// manifestMediaTypes are what a build's tools accept for an image: a HEAD without them gets a 404 or a converted
// schema-1 manifest from some registries.
var manifestMediaTypes = strings.Join([]string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}, ", ")

// ProbePullWithSecret checks that image ("host[:port]/path/name:tag" or "...@sha256:...") exists and that the
// Secret's credentials for its host may pull it, the way a build pulls its FROM images and a node its OS image: a
// token with pull scope (token-auth registries) and a HEAD of the manifest. No layer is downloaded. The result is
// cached and shared like a push probe's, keyed by the reference and the Secret's UID and resourceVersion. A nil
// Secret pulls anonymously.
func (p *Prober) ProbePullWithSecret(ctx context.Context, image string, secret *corev1.Secret) Result {
	ref, err := name.ParseReference(image, name.WeakValidation)
	if err == nil && p.opts.insecure(ref.Context().RegistryStr()) {
		ref, err = name.ParseReference(image, name.WeakValidation, name.Insecure)
	}
	if err != nil {
		return pullSkipped(fmt.Sprintf("not probed: image %q does not parse (%v)", image, err))
	}
	question := "pull " + ref.Context().RepositoryStr() + referenceSuffix(ref)
	return p.probeWithSecret(ctx, ref.Context(), question, secret, pullSkipped, func(r probeRun) outcome {
		return (&pullRun{probeRun: r, ref: ref}).run()
	})
}

// ProbeDeleteWithSecret asks the token service of repository's registry for delete on it, with the Secret's
// credentials, and reads the grant: the MCO deletes the images of deleted MachineOSBuilds with the push secret.
// Only a token that lists its grants can say; Basic auth, open registries and opaque tokens give Unknown.
func (p *Prober) ProbeDeleteWithSecret(ctx context.Context, repository string, secret *corev1.Secret) Result {
	repo, err := p.parseRepository(repository)
	if err != nil {
		return deleteUnknown(fmt.Sprintf("not probed: repository %q does not parse (%v)", repository, err))
	}
	return p.probeWithSecret(ctx, repo, "delete "+repo.RepositoryStr(), secret, deleteUnknown, func(r probeRun) outcome {
		return (&deleteRun{probeRun: r}).run()
	})
}

func referenceSuffix(ref name.Reference) string {
	if d, ok := ref.(name.Digest); ok {
		return "@" + d.DigestStr()
	}
	return ":" + ref.Identifier()
}

func pullSkipped(detail string) Result {
	return Result{Reachable: StatusSkipped, ReachableDetail: detail, Push: StatusSkipped, Pull: StatusSkipped, PullDetail: detail}
}

func deleteUnknown(detail string) Result {
	return Result{Reachable: StatusSkipped, Push: StatusSkipped, Delete: StatusUnknown, DeleteDetail: detail}
}

// pullRun is one pull probe of one image with one set of credentials.
type pullRun struct {
	probeRun
	ref name.Reference
}

func (r *pullRun) run() outcome {
	r.host, r.path = r.repo.RegistryStr(), r.repo.RepositoryStr()
	rt, out, ok := r.authenticate(transport.PullScope)
	if !ok {
		return out
	}
	req, err := http.NewRequestWithContext(r.ctx, http.MethodHead, r.url("/v2/"+r.path+"/manifests/"+r.ref.Identifier()), nil)
	if err != nil {
		return r.pullVerdict(out, StatusUnknown, fmt.Sprintf("could not build the request for %s", r.ref))
	}
	req.Header.Set("Accept", manifestMediaTypes)
	resp, err := (&http.Client{Transport: rt, CheckRedirect: checkRedirect}).Do(req)
	if err != nil {
		out.transient = true
		return r.pullVerdict(out, StatusUnknown, fmt.Sprintf("reading the manifest of %s at %s failed: %s", r.ref, r.host, classify(err).class))
	}
	_ = resp.Body.Close()
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		return r.pullVerdict(out, StatusOK, fmt.Sprintf("%s exists and may be pulled", r.ref))
	case code == http.StatusNotFound:
		out.NotFound = true
		return r.pullVerdict(out, StatusFailed, fmt.Sprintf("%s does not exist: %s has no manifest %s in %s", r.ref, r.host, r.ref.Identifier(), r.path))
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		out.CredentialsRefused = true
		return r.pullVerdict(out, StatusFailed, fmt.Sprintf("%s refused to let %s pull %s (HTTP %d)", r.host, r.who("these credentials"), r.ref, code))
	default:
		out.transient = true
		return r.pullVerdict(out, StatusUnknown, fmt.Sprintf("%s answered HTTP %d for the manifest of %s", r.host, code, r.ref))
	}
}

func (r *pullRun) pullVerdict(out outcome, s Status, detail string) outcome {
	out.Pull, out.PullDetail = s, detail
	return out
}

// authenticate pings the registry and returns a transport carrying credentials for scope: a token for token-auth
// registries (anonymous credentials get an anonymous token), Basic credentials otherwise. When ok is false, out
// holds the verdict already reached (unreachable, or credentials refused).
func (r *pullRun) authenticate(action string) (http.RoundTripper, outcome, bool) {
	challenge, err := transport.Ping(r.ctx, r.repo.Registry, r.p.rt)
	if err != nil {
		out := r.unreachable(err)
		return nil, r.pullVerdict(out, StatusSkipped, "not checked: the registry API did not answer"), false
	}
	r.scheme = "https"
	if challenge.Insecure {
		r.scheme = "http"
	}
	out := outcome{Result: Result{Reachable: StatusOK, ReachableDetail: fmt.Sprintf("%s answers /v2/", r.host), Push: StatusSkipped}}
	if !strings.EqualFold(challenge.Scheme, "bearer") {
		return r.withAuth(nil), out, true
	}
	tok, err := transport.Exchange(r.ctx, r.repo.Registry, r.auth, r.p.rt, []string{r.repo.Scope(action)}, challenge)
	if err != nil {
		return nil, r.tokenRefused(out, err), false
	}
	token := tok.Token
	if token == "" {
		token = tok.AccessToken
	}
	rt, err := transport.FromToken(r.repo.Registry, r.auth, r.p.rt, challenge, &transport.Token{Token: token})
	if err != nil {
		return nil, r.pullVerdict(out, StatusUnknown, fmt.Sprintf("%s's token challenge cannot be used: it names no realm", r.host)), false
	}
	return rt, out, true
}

func (r *pullRun) tokenRefused(out outcome, err error) outcome {
	var terr *transport.Error
	if errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden) {
		out.CredentialsRefused = true
		return r.pullVerdict(out, StatusFailed, fmt.Sprintf("the token service of %s refused %s for %s (HTTP %d)", r.host, r.who("the credentials"), r.ref, terr.StatusCode))
	}
	out.transient = true
	return r.pullVerdict(out, StatusUnknown, fmt.Sprintf("getting a pull token for %s from %s failed: %s", r.ref, r.host, classify(err).class))
}

// deleteRun asks for a delete token and reads its grant.
type deleteRun struct{ probeRun }

func (r *deleteRun) run() outcome {
	r.host, r.path = r.repo.RegistryStr(), r.repo.RepositoryStr()
	out := outcome{Result: Result{Reachable: StatusSkipped, Push: StatusSkipped}}
	challenge, err := transport.Ping(r.ctx, r.repo.Registry, r.p.rt)
	if err != nil {
		out.transient = true
		return r.verdict(out, StatusUnknown, fmt.Sprintf("%s did not answer /v2/", r.host))
	}
	if !strings.EqualFold(challenge.Scheme, "bearer") || r.auth == authn.Anonymous {
		return r.verdict(out, StatusUnknown, fmt.Sprintf("%s does not use token auth with these credentials, so no grant tells the delete right", r.host))
	}
	tok, err := transport.Exchange(r.ctx, r.repo.Registry, r.auth, r.p.rt, []string{r.repo.Scope("delete")}, challenge)
	if err != nil {
		out.transient = true
		return r.verdict(out, StatusUnknown, fmt.Sprintf("the token service of %s gave no delete token: %s", r.host, classify(err).class))
	}
	token := tok.Token
	if token == "" {
		token = tok.AccessToken
	}
	actions, ok := tokenActions(token, r.path)
	switch {
	case !ok:
		return r.verdict(out, StatusUnknown, fmt.Sprintf("the token of %s is opaque; the delete right on %s is not known", r.host, r.path))
	case slices.Contains(actions, "delete") || slices.Contains(actions, "*"):
		return r.verdict(out, StatusOK, fmt.Sprintf("the token service of %s granted delete on %s", r.host, r.path))
	}
	return r.verdict(out, StatusFailed, fmt.Sprintf("the token service of %s grants no delete on %s to the push secret's credentials", r.host, r.path))
}

func (r *deleteRun) verdict(out outcome, s Status, detail string) outcome {
	out.Delete, out.DeleteDetail = s, detail
	return out
}

package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	corev1 "k8s.io/api/core/v1"
)

// ProbeRepositoryWithSecret tells whether repository ("host[:port]/path/name") exists, with the credentials the
// Secret holds for it (picked as the build's tools pick them): a token with pull scope (token-auth registries), then
// GET /v2/<name>/tags/list?n=1. Registries that do not create repositories on push, such as Amazon ECR, refuse a
// push to a missing one. The answer is in Pull: OK when the repository exists and the credentials may read it,
// Failed with NotFound when the registry answers NAME_UNKNOWN, Failed with CredentialsRefused when it refuses the
// credentials (which says nothing about the repository), Unknown otherwise. Cached and shared like the other
// probes.
func (p *Prober) ProbeRepositoryWithSecret(ctx context.Context, repository string, secret *corev1.Secret) Result {
	repo, err := p.parseRepository(repository)
	if err != nil {
		return pullSkipped(fmt.Sprintf("not probed: repository %q does not parse (%v)", repository, err))
	}
	return p.probeWithSecret(ctx, repo, "exists "+repo.RepositoryStr(), secret, pullSkipped, func(r probeRun) outcome {
		return (&existsRun{pullRun{probeRun: r}}).run()
	})
}

// existsRun is one repository existence probe.
type existsRun struct{ pullRun }

func (r *existsRun) run() outcome {
	r.host, r.path = r.repo.RegistryStr(), r.repo.RepositoryStr()
	r.ref = repositoryRef{r.repo} // pullRun's details name the repository itself
	rt, out, ok := r.authenticate(transport.PullScope)
	if !ok {
		return out
	}
	target := r.url("/v2/" + r.path + "/tags/list")
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, target+"?"+url.Values{"n": {"1"}}.Encode(), nil)
	if err != nil {
		return r.pullVerdict(out, StatusUnknown, fmt.Sprintf("could not build the request for %s", r.path))
	}
	resp, err := (&http.Client{Transport: rt, CheckRedirect: checkRedirect}).Do(req)
	if err != nil {
		out.transient = true
		return r.pullVerdict(out, StatusUnknown, fmt.Sprintf("listing the tags of %s at %s failed: %s", r.path, r.host, classify(err).class))
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	a := classifyRepositoryAnswer(resp.StatusCode, body)
	out.NotFound, out.CredentialsRefused, out.transient = a.notFound, a.refused, a.status == StatusUnknown
	detail := fmt.Sprintf("%s %s (HTTP %d on the tag list of %s)", r.host, a.says, resp.StatusCode, r.path)
	if a.refused {
		detail = fmt.Sprintf("%s refused to let %s list the tags of %s (HTTP %d), so whether it exists is not known",
			r.host, r.who("these credentials"), r.path, resp.StatusCode)
	}
	return r.pullVerdict(out, a.status, detail)
}

// repositoryRef is a repository standing where a pull probe names an image.
type repositoryRef struct{ name.Repository }

func (r repositoryRef) Context() name.Repository { return r.Repository }
func (r repositoryRef) Identifier() string       { return "" }

// repositoryAnswer is what a registry's answer to GET /v2/<name>/tags/list says about the repository.
type repositoryAnswer struct {
	status   Status
	notFound bool   // the registry says the repository does not exist
	refused  bool   // the registry refused the credentials: existence unknown
	says     string // for the detail, after the host
}

// classifyRepositoryAnswer reads a tag list answer. Only the registry API's own error code NAME_UNKNOWN ("repository
// name not known to registry"; Amazon ECR: "The repository with name '...' does not exist in the registry with id
// '...'") means the repository does not exist: a bare 404 may come from a proxy or an API elsewhere
// (distribution's docs/spec/api.md, "Listing Image Tags" and the error codes).
func classifyRepositoryAnswer(code int, body []byte) repositoryAnswer {
	switch {
	case code == http.StatusOK:
		return repositoryAnswer{status: StatusOK, says: "has the repository"}
	case code == http.StatusNotFound && hasErrorCode(body, "NAME_UNKNOWN"):
		return repositoryAnswer{status: StatusFailed, notFound: true, says: "has no such repository (NAME_UNKNOWN)"}
	case code == http.StatusNotFound:
		return repositoryAnswer{status: StatusUnknown, says: "answered 404 without the registry API's NAME_UNKNOWN"}
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		if hasErrorCode(body, "NAME_UNKNOWN") {
			return repositoryAnswer{status: StatusFailed, notFound: true, says: "has no such repository (NAME_UNKNOWN)"}
		}
		return repositoryAnswer{status: StatusFailed, refused: true}
	}
	return repositoryAnswer{status: StatusUnknown, says: "gave no answer about the repository"}
}

// hasErrorCode reports whether a registry API error body lists code: {"errors":[{"code":"NAME_UNKNOWN",...}]}.
func hasErrorCode(body []byte, code string) bool {
	var errs struct {
		Errors []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &errs) != nil {
		return false
	}
	for _, e := range errs.Errors {
		if e.Code == code {
			return true
		}
	}
	return false
}

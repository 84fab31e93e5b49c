package registry

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

const (
	maxRedirects = 3
	maxBodyBytes = 1 << 20 // ping, token and error bodies are small; anything larger is not a registry talking
)

var (
	errTooManyRedirects = fmt.Errorf("stopped after %d redirects", maxRedirects)
	errPlainHTTP        = errors.New("plain HTTP refused")
)

// newHTTPTransport builds the prober's own transport: no proxy and no ambient credentials (so no service-account
// token can leak), every connection through the safe dialer, and timeouts no longer than the budget.
func newHTTPTransport(dialer *safeDialer, opts Options) *http.Transport {
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    opts.Budget,
		ResponseHeaderTimeout:  opts.Budget,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           16,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
	}
}

// policyTransport enforces what http.Client options cannot, because go-containerregistry builds its own clients for
// the ping and the token exchange: plain HTTP only for insecure hosts, at most maxRedirects redirects, and bounded
// response bodies.
type policyTransport struct {
	inner    http.RoundTripper
	insecure func(host string) bool
}

func (t *policyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !t.insecure(req.URL.Host) {
		return nil, fmt.Errorf("%w to %s: add the host to insecureHosts if it serves only HTTP", errPlainHTTP, req.URL.Host)
	}
	if redirectDepth(req) > maxRedirects {
		return nil, errTooManyRedirects
	}
	resp, err := t.inner.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{Reader: io.LimitReader(resp.Body, maxBodyBytes), Closer: resp.Body}
	return resp, nil
}

// redirectDepth counts how many redirects led to req: http.Client links each redirected request to the response
// that caused it.
func redirectDepth(req *http.Request) int {
	n := 0
	for r := req.Response; r != nil && r.Request != nil; r = r.Request.Response {
		n++
	}
	return n
}

type cappedBody struct {
	io.Reader
	io.Closer
}

// checkRedirect is the redirect policy of the prober's own http.Clients.
func checkRedirect(_ *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return errTooManyRedirects
	}
	return nil
}

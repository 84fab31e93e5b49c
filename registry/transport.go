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
	maxRedirects           = 3
	maxResponseHeaderBytes = 64 << 10
	maxBodyBytes           = 1 << 20 // ping, token and error bodies are small; anything larger is not a registry talking
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
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
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
		if redirectDepth(req) > 0 {
			return nil, &redirectHopError{host: req.URL.Host, err: err}
		}
		return nil, err
	}
	resp.Body = &cappedBody{Reader: resp.Body, Closer: resp.Body, left: maxBodyBytes}
	return resp, nil
}

// redirectHopError marks a failure of a request the registry redirected to, so the message says it was a
// redirect: "refused to connect to 169.254.169.254" alone reads as if the push spec named that address.
type redirectHopError struct {
	host string
	err  error
}

func (e *redirectHopError) Error() string { return "redirected to " + e.host + ": " + e.err.Error() }
func (e *redirectHopError) Unwrap() error { return e.err }

// redirectDepth counts how many redirects led to req: http.Client links each redirected request to the response
// that caused it.
func redirectDepth(req *http.Request) int {
	n := 0
	for r := req.Response; r != nil && r.Request != nil; r = r.Request.Response {
		n++
	}
	return n
}

// errBodyTooLarge ends a response body longer than maxBodyBytes: a clear error rather than a truncated body that
// fails to parse as JSON somewhere inside go-containerregistry.
var errBodyTooLarge = fmt.Errorf("response body over %d bytes", maxBodyBytes)

type cappedBody struct {
	io.Reader
	io.Closer
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		if n, _ := b.Reader.Read(make([]byte, 1)); n > 0 {
			return 0, errBodyTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.Reader.Read(p)
	b.left -= int64(n)
	return n, err
}

// checkRedirect is the redirect policy of the prober's own http.Clients.
func checkRedirect(_ *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return errTooManyRedirects
	}
	return nil
}

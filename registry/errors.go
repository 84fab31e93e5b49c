package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// failure is an error reduced to what may be shown: a status and a class that names no URL, header or credential.
type failure struct {
	status   Status // Failed when the error means the build would fail too, Unknown when it may pass
	class    string // e.g. "connection refused", "x509: certificate signed by unknown authority"
	timedOut bool
	refused  *AddressRefusedError
}

// classify maps a transport error to a failure. Checks run from the most to the least specific, because the ping
// may return several errors at once (HTTPS and the refused HTTP fallback) and each check looks through all of them.
func classify(err error) failure {
	f := classifyCause(err)
	var hop *redirectHopError
	if errors.As(err, &hop) {
		f.class = "redirected to " + hop.host + ": " + f.class
	}
	return f
}

// Unexported errors matched by their text: net/http's for response headers over MaxResponseHeaderBytes, and
// go-containerregistry's internal/limit for token answers over its 64 KiB cap.
const (
	errHeadersTooLarge = "server response headers exceeded"
	errGGCRBodyLimit   = "byte limit"
)

func classifyCause(err error) failure {
	var (
		refused    *AddressRefusedError
		dnsErr     *net.DNSError
		unknownCA  x509.UnknownAuthorityError
		hostname   x509.HostnameError
		invalid    x509.CertificateInvalidError
		recordHdr  tls.RecordHeaderError
		alert      tls.AlertError
		netTimeout interface{ Timeout() bool }
	)
	switch {
	case errors.As(err, &refused):
		return failure{status: StatusFailed, class: refused.Error(), refused: refused}
	case errors.Is(err, errTooManyRedirects):
		return failure{status: StatusFailed, class: fmt.Sprintf("more than %d redirects", maxRedirects)}
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return failure{status: StatusFailed, class: "no such host"}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netTimeout) && netTimeout.Timeout()):
		return failure{status: StatusUnknown, class: "timeout", timedOut: true}
	case errors.Is(err, context.Canceled):
		return failure{status: StatusUnknown, class: "cancelled", timedOut: true}
	case errors.As(err, &dnsErr):
		return failure{status: StatusUnknown, class: "DNS lookup failed"}
	case errors.As(err, &unknownCA):
		return failure{status: StatusFailed, class: "x509: certificate signed by unknown authority"}
	case errors.As(err, &hostname):
		return failure{status: StatusFailed, class: "x509: certificate is not valid for this host name"}
	case errors.As(err, &invalid):
		return failure{status: StatusFailed, class: certInvalidClass(invalid.Reason)}
	case errors.Is(err, http.ErrSchemeMismatch):
		return failure{status: StatusFailed, class: "server answered HTTPS with plain HTTP (list it in insecureHosts if intended)"}
	case errors.As(err, &recordHdr):
		return failure{status: StatusFailed, class: "tls: server did not answer with TLS (plain HTTP? list it in insecureHosts)"}
	case errors.As(err, &alert):
		return failure{status: StatusFailed, class: "tls: handshake refused by the server (" + alert.Error() + ")"}
	case errors.Is(err, syscall.ECONNREFUSED):
		return failure{status: StatusFailed, class: "connection refused"}
	case errors.Is(err, syscall.EHOSTUNREACH):
		return failure{status: StatusFailed, class: "no route to host"}
	case errors.Is(err, syscall.ENETUNREACH):
		return failure{status: StatusFailed, class: "network is unreachable"}
	case errors.Is(err, syscall.ECONNRESET):
		return failure{status: StatusUnknown, class: "connection reset by peer"}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return failure{status: StatusUnknown, class: "connection closed by the server"}
	case errors.Is(err, errBodyTooLarge) || strings.Contains(err.Error(), errGGCRBodyLimit):
		return failure{status: StatusFailed, class: "the server sent an oversized response body, larger than any registry API or token answer needs"}
	case strings.Contains(err.Error(), errHeadersTooLarge):
		return failure{status: StatusFailed, class: fmt.Sprintf("the server sent response headers over %d bytes", maxResponseHeaderBytes)}
	case errors.Is(err, errPlainHTTP):
		return failure{status: StatusFailed, class: "plain HTTP refused (list the host in insecureHosts if it serves only HTTP)"}
	}
	return failure{status: StatusUnknown, class: fmt.Sprintf("unexpected error (%T)", innermost(err))}
}

func certInvalidClass(r x509.InvalidReason) string {
	switch r {
	case x509.Expired:
		return "x509: certificate has expired or is not yet valid"
	case x509.NotAuthorizedToSign:
		return "x509: certificate is not authorized to sign other certificates"
	case x509.IncompatibleUsage:
		return "x509: certificate specifies an incompatible key usage"
	}
	return "x509: certificate is not valid"
}

func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

func formatBudget(d time.Duration) string {
	return d.Round(time.Millisecond).String()
}

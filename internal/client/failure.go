package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
)

// Failure classifies an exchange that got no (complete) HTTP response. The judgement decides on
// the kind, never on error text: error strings differ between Go versions, platforms and
// servers, and a verdict must not hang on their wording.
type Failure string

const (
	// NotSent: the harness could not make the call at all (no such client certificate, a
	// request that would not build, a TLS version this client cannot offer).
	NotSent Failure = "not-sent"
	// Canceled: the run was interrupted or reached its deadline while the call was in flight.
	Canceled Failure = "canceled"
	// DNS: the target's host name did not resolve.
	DNS Failure = "dns"
	// ConnRefused: nothing listens at the target's address.
	ConnRefused Failure = "connection-refused"
	// ServerCertUntrusted: the harness could not verify the target's server certificate against
	// the configured roots. This is our side's failure, never the bank's refusal.
	ServerCertUntrusted Failure = "server-cert-untrusted"
	// TLSAlert: the target ended the handshake with a TLS alert (a bad or missing client
	// certificate, a protocol version it will not speak).
	TLSAlert Failure = "tls-alert"
	// HandshakeReset: the connection was reset or closed while the TLS handshake was in progress,
	// or, under TLS 1.3, after the target asked for a client certificate and before any HTTP
	// byte (TLS 1.3 clients finish their side of the handshake before the server has checked the
	// certificate, and Go servers often answer a missing certificate by closing).
	HandshakeReset Failure = "handshake-reset"
	// Reset: the connection was reset or closed after the handshake had completed.
	Reset Failure = "reset"
	// Timeout: the target did not answer in time.
	Timeout Failure = "timeout"
	// Protocol: the target answered with something that is not HTTP/1.1 (a bad status line,
	// HTTP/2 frames on an HTTP/1.1 connection, a malformed header).
	Protocol Failure = "protocol-error"
	// TooLarge: the response headers exceeded the client's limit.
	TooLarge Failure = "too-large"
	// Other: a failure none of the above describes; judged as no proof either way.
	Other Failure = "other"
)

// HarnessSide reports whether the failure lies on our side (or the user's setup) rather than in
// anything the target did. Such an exchange proves nothing about the target.
func (f Failure) HarnessSide() bool {
	switch f {
	case NotSent, Canceled, ServerCertUntrusted:
		return true
	}
	return false
}

// NoAnswer reports whether the target gave no answer at all: unreachable, silent or gone.
func (f Failure) NoAnswer() bool {
	switch f {
	case DNS, ConnRefused, Timeout, Other:
		return true
	}
	return false
}

// Describe says in a few words what the kind means, for reasons and reports.
func (f Failure) Describe() string {
	switch f {
	case NotSent:
		return "the harness could not send the request"
	case Canceled:
		return "the run was interrupted while the call was in flight"
	case DNS:
		return "the target's host name did not resolve"
	case ConnRefused:
		return "the connection was refused"
	case ServerCertUntrusted:
		return "the harness could not verify the target's server certificate"
	case TLSAlert:
		return "the target refused the TLS handshake with an alert"
	case HandshakeReset:
		return "the target closed the connection during the TLS handshake"
	case Reset:
		return "the target closed the connection after the TLS handshake"
	case Timeout:
		return "the target did not answer in time"
	case Protocol:
		return "the target's answer was not valid HTTP"
	case TooLarge:
		return "the target's response headers exceeded the client's limit"
	}
	return "the call failed"
}

// connState is what a trace saw of one connection: whether the handshake completed, at which
// version, and whether the server asked for a client certificate.
type connState struct {
	mu            sync.Mutex
	handshakeDone bool
	version       uint16
	certRequested bool
	firstByte     bool
}

// classify turns a transport error into its kind, given what the trace saw.
func classify(ctx context.Context, err error, st *connState) Failure {
	if err == nil {
		return ""
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	// Per-call timeouts come from the http.Client, never from ctx: a done ctx is the run's own
	// interrupt or deadline.
	if ctx.Err() != nil {
		return Canceled
	}
	var (
		verifyErr *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		dnsErr    *net.DNSError
		recHdr    tls.RecordHeaderError
		ne        net.Error
	)
	switch {
	case errors.As(err, &verifyErr), errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalid):
		return ServerCertUntrusted
	case IsRemoteAlert(err):
		return TLSAlert
	case strings.Contains(err.Error(), "tls: no supported versions"), strings.Contains(err.Error(), "tls: no cipher suite supported"):
		// Our own configuration offered nothing the Go client can speak: nothing was tested.
		return NotSent
	case errors.As(err, &dnsErr):
		return DNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return ConnRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return Timeout
	case strings.Contains(err.Error(), "server response headers exceeded"):
		return TooLarge
	case errors.As(err, &recHdr):
		// Not TLS at all where TLS was expected (a plain-HTTP port): a protocol error of the target.
		return Protocol
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), strings.Contains(err.Error(), "server closed idle connection"):
		if !st.handshakeDone {
			return HandshakeReset
		}
		if st.version == tls.VersionTLS13 && st.certRequested && !st.firstByte {
			return HandshakeReset
		}
		return Reset
	case st.handshakeDone && isProtocolError(err):
		return Protocol
	}
	return Other
}

// isProtocolError recognises net/http's complaints about a malformed response. net/http does not
// export these errors as types, so their (stable, documented-in-source) prefixes are matched.
func isProtocolError(err error) bool {
	s := err.Error()
	for _, p := range []string{"malformed HTTP", "bogus", "invalid", "unexpected", "http: server gave HTTP response",
		"HTTP/1.x transport connection broken", "missing"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// IsRemoteAlert reports a TLS alert sent by the peer. crypto/tls returns those as a net.OpError
// with Op "remote error" around its unexported alert type (tls.AlertError is only for QUIC).
func IsRemoteAlert(err error) bool {
	var op *net.OpError
	var alert tls.AlertError
	return (errors.As(err, &op) && op.Op == "remote error") || errors.As(err, &alert)
}

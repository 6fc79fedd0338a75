// Package client makes the HTTP calls of a run over mutual TLS and records each one as an
// Exchange. Secrets are removed when the exchange is recorded, not later, so no report or
// console line can see them.
package client

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"time"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/request"
)

// MaxBody caps how much of a response body is read and kept; a hostile target cannot exhaust
// memory, and the cap is stated in the evidence.
const MaxBody = 256 << 10

// Client sends prepared requests with the client certificate each one asks for.
type Client struct {
	clients map[request.Cert]*http.Client
	timeout time.Duration
	limit   *limiter
}

// Options configure a Client.
type Options struct {
	// Roots verifies the target's server certificate; nil uses the system roots.
	Roots *x509.CertPool
	// Transport is the TPP's transport certificate; Untrusted one the target must refuse.
	Transport tls.Certificate
	Untrusted *tls.Certificate
	// Timeout bounds each call, from dial to the last body byte.
	Timeout time.Duration
	// Rate, when above 0, bounds the calls of the client to that many a second, for a bank that
	// throttles; a call waits for its turn (or for the run to end) before it is sent.
	Rate float64
}

// New builds a Client with one HTTP client per certificate choice.
func New(o Options) *Client {
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Second
	}
	// TLS 1.2 is the lowest version Open Banking allows; only the legacy probe below offers less.
	mk := func(certs []tls.Certificate) *http.Client {
		return &http.Client{
			Timeout: o.Timeout,
			Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: o.Roots, MinVersion: tls.VersionTLS12,
					GetClientCertificate: offer(certs, false)},
				DisableKeepAlives: true,
				// The body is recorded as sent: never ask for compression, never decode it on
				// the fly (which also dropped Content-Encoding from the record).
				DisableCompression:     true,
				MaxResponseHeaderBytes: MaxResponseHeaderBytes,
				TLSHandshakeTimeout:    o.Timeout,
				DialContext:            (&net.Dialer{Timeout: o.Timeout}).DialContext,
			},
			// A redirect from a registration endpoint is itself a finding; never follow it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	// The transport-certificate client keeps its connections alive between calls: the cases it
	// sends test the registration, not the handshake, and a handshake per call was a third of a
	// run's CPU. Each connection remembers what its own handshake saw (see keepAlive), so an
	// exchange on a reused connection records the same version and certificate request. The
	// probe clients (no, untrusted, forged, legacy certificate) test the handshake itself and
	// make a fresh one every call. No client keeps TLS session tickets, so no handshake is ever
	// a resumption.
	c := &Client{clients: map[request.Cert]*http.Client{
		request.CertTransport: keepAlive(mk([]tls.Certificate{o.Transport}), o.Timeout),
		request.CertNone:      mk(nil),
	}, timeout: o.Timeout, limit: newLimiter(o.Rate)}
	// A probe certificate is presented whatever CAs the server names: Go's client otherwise
	// offers only a certificate from a named CA, and the probe would silently become "no
	// certificate".
	probe := func(cert tls.Certificate) *http.Client {
		hc := mk(nil)
		hc.Transport.(*http.Transport).TLSClientConfig.GetClientCertificate = offer([]tls.Certificate{cert}, true)
		return hc
	}
	if o.Untrusted != nil {
		c.clients[request.CertUntrusted] = probe(*o.Untrusted)
	}
	if forged, err := forgeSubject(o.Transport); err == nil {
		c.clients[request.CertForged] = probe(forged)
	}
	// The legacy probe offers every suite those versions can use, insecure ones included, so a
	// server that still speaks them is not missed for want of a common suite.
	legacy := mk([]tls.Certificate{o.Transport})
	lc := legacy.Transport.(*http.Transport).TLSClientConfig
	lc.MinVersion, lc.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		for _, v := range cs.SupportedVersions {
			if v == tls.VersionTLS10 || v == tls.VersionTLS11 {
				lc.CipherSuites = append(lc.CipherSuites, cs.ID)
				break
			}
		}
	}
	c.clients[request.CertLegacyTLS] = legacy
	return c
}

// offer returns the client-certificate callback of a client. It notes on the handshake's
// context that the server asked for a certificate, which the judgement needs to tell a refusal
// from a server that never asked. It then offers what Go's client would from certs (the first
// one the server's named CAs accept), or, with always, the first one whatever the server names.
func offer(certs []tls.Certificate, always bool) func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		if st, ok := cri.Context().Value(stateKey{}).(*connState); ok {
			st.mu.Lock()
			st.certRequested = true
			st.mu.Unlock()
		}
		for i := range certs {
			if always || cri.SupportsCertificate(&certs[i]) == nil {
				return &certs[i], nil
			}
		}
		return &tls.Certificate{}, nil
	}
}

type stateKey struct{}

// forgeSubject makes a self-signed certificate with the transport certificate's subject and a
// fresh key.
func forgeSubject(transport tls.Certificate) (tls.Certificate, error) {
	if len(transport.Certificate) == 0 {
		return tls.Certificate{}, errors.New("no transport certificate")
	}
	leaf, err := x509.ParseCertificate(transport.Certificate[0])
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      leaf.Subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// Exchange is one recorded call: what was sent and what came back, with secrets removed.
type Exchange struct {
	Request  RecordedRequest   `json:"request"`
	Response *RecordedResponse `json:"response,omitempty"`
	// Error is the transport failure when no response arrived (refused, TLS alert, timeout),
	// or the failure to read the body of one that did.
	Error string `json:"error,omitempty"`
	// Failure classifies Error; the judgement decides on it, never on Error's text.
	Failure Failure `json:"failure,omitempty"`
	// CertRequested records that the target asked for a client certificate during the handshake.
	CertRequested bool `json:"cert_requested,omitempty"`
	// TLSVersion is the negotiated version when the handshake completed on our side ("TLS 1.3").
	TLSVersion string `json:"tls_version,omitempty"`
	// secrets are the credentials the target's answer carried (an access token), kept for the
	// steps after it and never recorded.
	secrets  map[string]string
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
}

// RecordedRequest is the request side of an Exchange.
type RecordedRequest struct {
	Method string      `json:"method"`
	URL    string      `json:"url"`
	Header http.Header `json:"header"`
	Cert   string      `json:"client_cert"`
	// Body is the body as sent: a JWT (signatures are evidence and are kept) or raw bytes.
	Body      string      `json:"body"`
	JWTHeader jose.Header `json:"jwt_header,omitempty"`
	JWTClaims jose.Claims `json:"jwt_claims,omitempty"`
	SSAHeader jose.Header `json:"ssa_header,omitempty"`
	SSAClaims jose.Claims `json:"ssa_claims,omitempty"`
}

// RecordedResponse is the response side of an Exchange, within the recording caps.
type RecordedResponse struct {
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	// HeaderNote says what of the headers the caps left out; empty when nothing.
	HeaderNote string `json:"header_note,omitempty"`
	// ContentEncoding is the body's Content-Encoding as sent; Decoded says the recorded body is
	// its decoding (see BodyNote).
	ContentEncoding string `json:"content_encoding,omitempty"`
	Decoded         bool   `json:"decoded,omitempty"`
	// Body is the recorded body (redacted, decoded), which the judgement reads; it is encoded
	// as "body" when it is text (see Text), and BodyBase64 is an excerpt of it when it is not.
	Body       []byte `json:"-"`
	BodyBase64 string `json:"body_base64,omitempty"`
	// BodyBytes and BodySHA256 describe the bytes as received (at most MaxBody).
	BodyBytes  int    `json:"body_bytes"`
	BodySHA256 string `json:"body_sha256"`
	// BodyNote says how the body was recorded when it was not kept as plain text.
	BodyNote string `json:"body_note,omitempty"`
	// Truncated: the target sent more than MaxBody and only the first bytes were read.
	Truncated bool `json:"truncated,omitempty"`
	// Trimmed, when set, says what the run's evidence budget removed from this record.
	Trimmed string `json:"trimmed,omitempty"`
}

// Text returns the body as text, or "" when it was recorded as binary.
func (r *RecordedResponse) Text() string {
	if r.BodyBase64 != "" {
		return ""
	}
	return string(r.Body)
}

// MarshalJSON writes the record with the body as text under "body". The body is held once, as
// bytes, and turned into text only while it is written: a hostile target's body would
// otherwise be kept twice for every exchange of a run.
func (r *RecordedResponse) MarshalJSON() ([]byte, error) {
	type plain RecordedResponse
	return json.Marshal(struct {
		*plain
		Body string `json:"body"`
	}{(*plain)(r), r.Text()})
}

// ContentType returns the response media type without parameters, lower-cased.
func (r *RecordedResponse) ContentType() string {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// Do sends p and records the exchange. It never returns an error: a failed call is an Exchange
// with Error set, which the judgement weighs like any other observation.
func (c *Client) Do(ctx context.Context, p *request.Prepared) *Exchange {
	if err := c.limit.wait(ctx); err != nil {
		return &Exchange{Started: time.Now(), Request: recordRequest(p), Failure: Canceled,
			Error: "not sent: the run ended while the call waited for its turn under --rate (" + err.Error() + ")"}
	}
	ex := &Exchange{Started: time.Now(), Request: recordRequest(p)}
	defer func() { ex.Duration = time.Since(ex.Started) }()
	hc, ok := c.clients[p.Cert]
	if !ok {
		ex.Error, ex.Failure = fmt.Sprintf("no client certificate of kind %q is configured", p.Cert), NotSent
		return ex
	}
	st := &connState{}
	ctx = context.WithValue(httptrace.WithClientTrace(ctx, st.trace()), stateKey{}, st)
	req, err := http.NewRequestWithContext(ctx, p.Method, p.URL, bytes.NewReader(p.Body))
	if err != nil {
		ex.Error, ex.Failure = "build request: "+err.Error(), NotSent
		return ex
	}
	req.Header = p.Header.Clone()
	resp, err := hc.Do(req)
	defer st.record(ex)
	if err != nil {
		ex.Error, ex.Failure = describe(err), classify(ctx, err, st)
		return ex
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	rr := &RecordedResponse{Status: resp.StatusCode}
	rr.Header, rr.HeaderNote = capHeader(RedactHeader(resp.Header))
	if len(body) > MaxBody {
		body, rr.Truncated = body[:MaxBody], true
	}
	if err != nil {
		ex.Error, ex.Failure = "read body: "+describe(err), classify(ctx, err, st)
	}
	ex.secrets = topLevelSecrets(body)
	recordBody(rr, body)
	ex.Response = rr
	return ex
}

// Secret returns a credential the target's answer carried as a top-level JSON member (e.g.
// "access_token"), which the record itself holds only as [REDACTED]; "" when there is none.
func (ex *Exchange) Secret(name string) string { return ex.secrets[name] }

// topLevelSecrets reads the credential members of a JSON object body.
func topLevelSecrets(body []byte) map[string]string {
	var m map[string]any
	if json.Unmarshal(bytes.TrimPrefix(body, bom), &m) != nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range m {
		if s, ok := v.(string); ok && secretName(k) {
			out[k] = s
		}
	}
	return out
}

func recordRequest(p *request.Prepared) RecordedRequest {
	r := RecordedRequest{Method: p.Method, URL: p.URL, Header: RedactHeader(p.Header), Cert: string(p.Cert), Body: string(p.Body)}
	if p.Token != "" {
		if h, c, err := jose.Decode(p.Token); err == nil {
			r.JWTHeader, r.JWTClaims = h, c
		}
	}
	if p.SSA != "" {
		if h, c, err := jose.Decode(p.SSA); err == nil {
			r.SSAHeader, r.SSAClaims = h, c
		}
	}
	return r
}

// trace records, for one call, what the judgement needs to know of its connection.
func (st *connState) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		TLSHandshakeDone: func(cs tls.ConnectionState, err error) {
			st.mu.Lock()
			defer st.mu.Unlock()
			if err == nil {
				st.handshakeDone, st.version = true, cs.Version
			}
		},
		GotConn: func(info httptrace.GotConnInfo) {
			// A connection of the keep-alive client carries what its handshake saw; a reused
			// one made no handshake for this call.
			if rec := handshakeOf(info.Conn); rec != nil {
				st.mu.Lock()
				defer st.mu.Unlock()
				st.handshakeDone, st.version = true, rec.version
				st.certRequested = st.certRequested || rec.certRequested.Load()
			}
		},
		GotFirstResponseByte: func() {
			st.mu.Lock()
			st.firstByte = true
			st.mu.Unlock()
		},
	}
}

// record copies what the trace saw into the exchange.
func (st *connState) record(ex *Exchange) {
	st.mu.Lock()
	defer st.mu.Unlock()
	ex.CertRequested = st.certRequested
	if st.handshakeDone {
		ex.TLSVersion = tls.VersionName(st.version)
	}
}

// describe turns a transport error into one line without Go's wrapping noise.
func describe(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout: " + err.Error()
	default:
		return err.Error()
	}
}

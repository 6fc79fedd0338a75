package refbank_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/jwkshost"
	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/refbank"
	"github.com/dcrconform/dcrconform/internal/request"
)

// Shared by every test and benchmark of the package: keys are made once (RSA generation is
// slow) and one JWKS host serves the TPP's public key set on loopback.
var (
	keys *pki.Set
	host *jwkshost.Host
)

const (
	testIss        = "dcrconformTPP0001"
	testClientName = "dcrconform test TPP"
	// shortJWKSTimeout bounds the bank's JWKS fetches in the blackhole tests so they end quickly;
	// every other bank gets a generous one so a slow -race run never turns a fetch into a timeout.
	shortJWKSTimeout = 300 * time.Millisecond
	jwksTimeout      = 10 * time.Second
)

var testRedirects = []string{"https://tpp.dcrconform.example/callback", "https://tpp.dcrconform.example/callback-2"}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	var err error
	keys, err = pki.Generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "generate keys:", err)
		return 2
	}
	doc, err := jose.PublicJWKS(jose.PublicKey{Key: &keys.Signing.Key.PublicKey, Kid: keys.Signing.Kid, Alg: "PS256", Use: "sig"},
		jose.PublicKey{Key: &keys.Signing.EC.PublicKey, Kid: keys.Signing.ECKid(), Alg: "ES256", Use: "sig"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "build JWKS:", err)
		return 2
	}
	host, err = jwkshost.Start("127.0.0.1:0", doc, keys.Server.TLSCertificate())
	if err != nil {
		fmt.Fprintln(os.Stderr, "start JWKS host:", err)
		return 2
	}
	defer host.Close()
	return m.Run()
}

// dialLog is a loopback-only dialer for the bank's JWKS fetches that records every address it
// is asked for. It never resolves names: only literal loopback IPs are dialled, so a test can
// never make the bank reach beyond this machine or ask a resolver anything.
type dialLog struct {
	mu    sync.Mutex
	addrs []string
}

func (d *dialLog) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, addr)
	d.mu.Unlock()
	return loopbackDial(ctx, network, addr)
}

func (d *dialLog) calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.addrs...)
}

func loopbackDial(ctx context.Context, network, addr string) (net.Conn, error) {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(h)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("test dialer: refusing non-loopback address %q", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// bankEnv is one running reference bank with the TPP identity and clients that talk to it.
type bankEnv struct {
	p     profile.Profile
	bank  *refbank.Server
	id    *request.Identity
	dials *dialLog

	clients map[request.Cert]*http.Client
}

type envOption func(*refbank.Config)

func withFaults(names ...string) envOption {
	return func(c *refbank.Config) {
		set, err := refbank.ParseFaults(names, c.Profile.Name)
		if err != nil {
			panic(err)
		}
		c.Faults = set
	}
}

func withJWKSTimeout(d time.Duration) envOption {
	return func(c *refbank.Config) { c.JWKSTimeout = d }
}

func audFor(p profile.Profile) string {
	if p.Name == profile.Default {
		return "revolut"
	}
	return "0015800000dcrASPSP"
}

// newEnv starts a bank for the named profile, wired as the harness wires the embedded bank:
// the test CA verifies client and JWKS certificates, the directory key signs SSAs.
func newEnv(tb testing.TB, profileName string, opts ...envOption) *bankEnv {
	tb.Helper()
	p := profile.MustGet(profileName)
	dials := &dialLog{}
	cfg := refbank.Config{
		Profile:     p,
		Addr:        "127.0.0.1:0",
		Cert:        keys.Server.TLSCertificate(),
		ClientCAs:   keys.CAPool(),
		JWKSRoots:   keys.CAPool(),
		Directory:   &keys.Directory.Key.PublicKey,
		Audiences:   []string{audFor(p)},
		JWKSTimeout: jwksTimeout,
		Dial:        dials.dial,
	}
	for _, o := range opts {
		o(&cfg)
	}
	bank, err := refbank.Start(cfg)
	if err != nil {
		tb.Fatalf("start bank: %v", err)
	}
	e := &bankEnv{p: p, bank: bank, dials: dials, clients: map[request.Cert]*http.Client{}}
	e.id = &request.Identity{
		Profile: p, Endpoint: bank.RegistrationURL(), Signing: keys.Signing, Foreign: keys.Foreign,
		Directory: &keys.Directory, SSAMode: request.SSASelfSigned, JWKSURL: host.URL(),
		Aud: audFor(p), Iss: testIss, SoftwareID: testIss, ClientName: testClientName,
		RedirectURIs: testRedirects, DN: pki.SubjectDN(keys.Transport.Cert),
		Scope: []string{"openid", "accounts", "payments"},
		Probes: request.Probes{ClosedPort: host.ClosedURL(), Blackhole: host.BlackholeURL(),
			NotFound: host.NotFoundURL(), HTML: host.HTMLURL(), Invalid: jwkshost.InvalidURL()},
	}
	if !p.SelfSignedSSA {
		e.id.SSAMode = request.SSADirectory
	}
	e.clients[request.CertTransport] = newClient(&tls.Config{RootCAs: keys.CAPool(),
		Certificates: []tls.Certificate{keys.Transport.TLSCertificate()}, MinVersion: tls.VersionTLS12})
	e.clients[request.CertNone] = newClient(&tls.Config{RootCAs: keys.CAPool(), MinVersion: tls.VersionTLS12})
	e.clients[request.CertUntrusted] = newClient(&tls.Config{RootCAs: keys.CAPool(),
		Certificates: []tls.Certificate{keys.Untrusted.TLSCertificate()}, MinVersion: tls.VersionTLS12})
	tb.Cleanup(func() {
		for _, c := range e.clients {
			c.CloseIdleConnections()
		}
		_ = bank.Close()
	})
	return e
}

func newClient(tc *tls.Config) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext:     loopbackDial,
			TLSClientConfig: tc,
		},
	}
}

// draft is the profile's happy-path request for the env's identity.
func (e *bankEnv) draft() *request.Draft { return request.NewDraft(e.id) }

// result is one answer from the bank.
type result struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
	err    error // transport failure (no HTTP answer)
}

func (r *result) String() string {
	if r.err != nil {
		return "transport error: " + r.err.Error()
	}
	return fmt.Sprintf("%d %s %s", r.status, r.header.Get("Content-Type"), truncate(string(r.body), 600))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// send delivers a prepared request over mTLS with the certificate it names.
func (e *bankEnv) send(tb testing.TB, p *request.Prepared) *result {
	tb.Helper()
	c, ok := e.clients[p.Cert]
	if !ok {
		tb.Fatalf("no client for cert %q", p.Cert)
	}
	req, err := http.NewRequest(p.Method, p.URL, bytes.NewReader(p.Body))
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	for k, vs := range p.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		return &result{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return &result{err: err}
	}
	r := &result{status: resp.StatusCode, header: resp.Header, body: body}
	if err := json.Unmarshal(body, &r.json); err != nil {
		r.json = nil
	}
	return r
}

// build signs a draft, failing the test on error.
func build(tb testing.TB, d *request.Draft) *request.Prepared {
	tb.Helper()
	p, err := d.Build()
	if err != nil {
		tb.Fatalf("build request: %v", err)
	}
	return p
}

// register builds the draft (after alter) and sends it.
func (e *bankEnv) register(tb testing.TB, alter func(*request.Draft)) (*request.Prepared, *result) {
	tb.Helper()
	d := e.draft()
	if alter != nil {
		alter(d)
	}
	p := build(tb, d)
	return p, e.send(tb, p)
}

// raw sends an arbitrary body with the transport certificate.
func (e *bankEnv) raw(tb testing.TB, method, contentType string, body []byte) *result {
	tb.Helper()
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return e.send(tb, &request.Prepared{Method: method, URL: e.bank.RegistrationURL(), Header: h, Body: body, Cert: request.CertTransport})
}

// setJWKSURL points the SSA at url under both claim names a directory SSA carries.
func setJWKSURL(d *request.Draft, p profile.Profile, url string) {
	d.SetSSAClaim(p.JWKSClaim, url)
	if _, ok := d.SSAClaims["org_jwks_endpoint"]; ok {
		d.SetSSAClaim("org_jwks_endpoint", url)
	}
}

// wantSuccess checks a registration was accepted with the profile's status and a JSON body.
func wantSuccess(tb testing.TB, p profile.Profile, r *result) {
	tb.Helper()
	if r.err != nil {
		tb.Fatalf("want %d, got %v", p.SuccessStatus, r)
	}
	if r.status != p.SuccessStatus {
		tb.Fatalf("want status %d, got %v", p.SuccessStatus, r)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Fatalf("want application/json, got %q", ct)
	}
	if r.json == nil {
		tb.Fatalf("body is not a JSON object: %s", r.body)
	}
}

// rejection is what an error answer must say.
type rejection struct {
	status int    // 0 means 400
	rfc    string // RFC 7591 error code the OBIE profiles answer with ("" skips the check)
	ob     string // OBIE ErrorCode Revolut answers with ("" skips the check)
	msg    string // substring of the error message ("" skips the check)
}

// wantRejected checks an error answer against the profile's error format and the expected codes.
func wantRejected(tb testing.TB, format profile.ErrorFormat, r *result, want rejection) {
	tb.Helper()
	status := want.status
	if status == 0 {
		status = http.StatusBadRequest
	}
	if r.err != nil {
		tb.Fatalf("want %d, got %v", status, r)
	}
	if r.status != status {
		tb.Fatalf("want status %d, got %v", status, r)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Fatalf("error body Content-Type: want application/json, got %q", ct)
	}
	if r.json == nil {
		tb.Fatalf("error body is not a JSON object: %s", r.body)
	}
	msg := checkErrorFormat(tb, format, status, r.json)
	switch format {
	case profile.RFC7591:
		code, _ := r.json["error"].(string)
		if status == http.StatusBadRequest && !contains(profile.RFC7591Codes, code) {
			tb.Errorf("error %q is not one of the RFC 7591 registration codes %v", code, profile.RFC7591Codes)
		}
		if want.rfc != "" && code != want.rfc {
			tb.Errorf("error: want %q, got %q (%s)", want.rfc, code, msg)
		}
	case profile.OBErrorResponse1:
		errs, _ := r.json["Errors"].([]any)
		first, _ := errs[0].(map[string]any)
		if code, _ := first["ErrorCode"].(string); want.ob != "" && code != want.ob {
			tb.Errorf("ErrorCode: want %q, got %q (%s)", want.ob, code, msg)
		}
	}
	if want.msg != "" && !strings.Contains(msg, want.msg) {
		tb.Errorf("message %q does not mention %q", msg, want.msg)
	}
}

// checkErrorFormat checks the body has exactly the shape of the format and returns its message.
func checkErrorFormat(tb testing.TB, format profile.ErrorFormat, status int, body map[string]any) string {
	tb.Helper()
	switch format {
	case profile.RFC7591:
		if len(body) != 2 {
			tb.Fatalf("RFC 7591 error body: want exactly error and error_description, got %v", body)
		}
		code, ok := body["error"].(string)
		if !ok || code == "" {
			tb.Fatalf("RFC 7591 error body: no error code: %v", body)
		}
		desc, ok := body["error_description"].(string)
		if !ok || desc == "" {
			tb.Fatalf("RFC 7591 error body: no error_description: %v", body)
		}
		return desc
	case profile.OBErrorResponse1:
		for _, k := range []string{"Code", "Id", "Message", "Errors"} {
			if _, ok := body[k]; !ok {
				tb.Fatalf("OBErrorResponse1: no %s in %v", k, body)
			}
		}
		if len(body) != 4 {
			tb.Fatalf("OBErrorResponse1: unexpected members in %v", body)
		}
		code, _ := body["Code"].(string)
		if !strings.HasPrefix(code, fmt.Sprint(status)) || len(code) > 40 {
			tb.Errorf("OBErrorResponse1 Code %q does not name status %d (or is over 40 characters)", code, status)
		}
		if id, _ := body["Id"].(string); id == "" || len(id) > 40 {
			tb.Errorf("OBErrorResponse1 Id %q is empty or over 40 characters", id)
		}
		if m, _ := body["Message"].(string); m == "" || len(m) > 500 {
			tb.Errorf("OBErrorResponse1 Message %q is empty or over 500 characters", m)
		}
		errs, ok := body["Errors"].([]any)
		if !ok || len(errs) == 0 {
			tb.Fatalf("OBErrorResponse1: Errors is not a non-empty array: %v", body)
		}
		first, ok := errs[0].(map[string]any)
		if !ok {
			tb.Fatalf("OBErrorResponse1: Errors[0] is not an object: %v", body)
		}
		ec, _ := first["ErrorCode"].(string)
		m, _ := first["Message"].(string)
		if !strings.HasPrefix(ec, "UK.OBIE.") || m == "" || len(m) > 500 {
			tb.Errorf("OBErrorResponse1: Errors[0] wants a UK.OBIE.* ErrorCode and a Message: %v", first)
		}
		return m
	}
	tb.Fatalf("unknown error format %q", format)
	return ""
}

// otherFormat is the error format of the other profile family.
func otherFormat(f profile.ErrorFormat) profile.ErrorFormat {
	if f == profile.RFC7591 {
		return profile.OBErrorResponse1
	}
	return profile.RFC7591
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

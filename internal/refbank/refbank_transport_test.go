package refbank_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/jwkshost"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/refbank"
	"github.com/dcrconform/dcrconform/internal/request"
)

// TestUnreachableJWKS points the SSA at JWKS URLs that cannot be fetched. The bank must answer
// 400 with Revolut's documented "Failed to fetch public key from <url>" (UK.OBIE.Field.Invalid).
func TestUnreachableJWKS(t *testing.T) {
	probes := []struct {
		name string
		url  string
		// dialled is the address the bank's Dial must have been asked for; "" means it must not
		// have been called at all (names under .invalid fail before any dial or lookup).
		dialled string
		reason  string // "" skips the check
	}{
		// No reason is checked for the closed port: another loopback listener of a parallel
		// test could in principle be given that port; the fetch fails either way.
		{"closed-port", host.ClosedURL(), hostOf(host.ClosedURL()), ""},
		{"invalid-name", jwkshost.InvalidURL(), "", "no such host"},
		{"invalid-name upper case with trailing dot", "https://JWKS.Example.INVALID./jwks", "", "no such host"},
		{"invalid-name bare TLD with port", "https://invalid:8443/jwks", "", "no such host"},
		{"blackhole", host.BlackholeURL(), hostOf(host.BlackholeURL()), "timed out"},
	}
	for _, name := range []string{"revolut", "obie-3.2"} {
		for _, pr := range probes {
			t.Run(name+"/"+pr.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, name, withJWKSTimeout(shortJWKSTimeout))
				_, r := e.register(t, func(d *request.Draft) { setJWKSURL(d, e.p, pr.url) })
				wantRejected(t, e.p.ErrorFormat, r, rejection{rfc: badMeta, ob: obFieldInvalid,
					msg: "Failed to fetch public key from " + pr.url})
				if msg := errorMessage(r); !strings.Contains(msg, pr.reason) {
					t.Errorf("message %q does not give the reason %q", msg, pr.reason)
				}
				calls := e.dials.calls()
				if pr.dialled == "" {
					if len(calls) != 0 {
						t.Errorf("the bank dialled %v for a name under .invalid; it must fail without dialling or resolving", calls)
					}
				} else if !contains(calls, pr.dialled) {
					t.Errorf("the injected Dial was not asked for %s (calls: %v)", pr.dialled, calls)
				}
				if n := e.bank.Clients(); n != 0 {
					t.Errorf("bank registered %d clients", n)
				}
			})
		}
	}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return u.Host
}

// errorMessage is the human message of an error body in either format.
func errorMessage(r *result) string {
	if d, ok := r.json["error_description"].(string); ok {
		return d
	}
	if errs, ok := r.json["Errors"].([]any); ok && len(errs) > 0 {
		if first, ok := errs[0].(map[string]any); ok {
			m, _ := first["Message"].(string)
			return m
		}
	}
	return ""
}

func TestClientCertificateRequired(t *testing.T) {
	for _, name := range []string{"revolut", "obie-3.2"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, name)
			for _, cert := range []request.Cert{request.CertNone, request.CertUntrusted} {
				_, r := e.register(t, func(d *request.Draft) { d.Cert = cert })
				if r.err == nil {
					t.Errorf("%s client certificate: want a failed TLS handshake, got %v", cert, r)
				}
			}
			if n := e.bank.Clients(); n != 0 {
				t.Errorf("bank registered %d clients without a trusted client certificate", n)
			}
			// The same bank still serves a trusted client.
			_, r := e.register(t, nil)
			wantSuccess(t, e.p, r)
		})
	}
}

// TestEnvelope covers the HTTP envelope: method, media type, body size and body shape.
func TestEnvelope(t *testing.T) {
	for _, name := range profile.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, name)
			p := e.p
			token := build(t, e.draft()).Body

			t.Run("content types", func(t *testing.T) {
				other := "application/jose"
				if p.MediaType == other {
					other = "application/jwt"
				}
				for _, ct := range []string{"text/plain", "application/json", other, "", "not a media type;;"} {
					r := e.raw(t, http.MethodPost, ct, token)
					wantRejected(t, p.ErrorFormat, r, rejection{status: http.StatusUnsupportedMediaType,
						ob: "UK.OBIE.Header.Invalid", msg: p.MediaType})
				}
			})
			t.Run("methods", func(t *testing.T) {
				for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch} {
					r := e.raw(t, m, p.MediaType, nil)
					wantRejected(t, p.ErrorFormat, r, rejection{status: http.StatusMethodNotAllowed, msg: m})
					if got := r.header.Get("Allow"); got != http.MethodPost {
						t.Errorf("%s: Allow: want POST, got %q", m, got)
					}
				}
			})
			t.Run("body over the limit", func(t *testing.T) {
				r := e.raw(t, http.MethodPost, p.MediaType, bytes.Repeat([]byte("a"), 64<<10+1))
				wantRejected(t, p.ErrorFormat, r, rejection{status: http.StatusRequestEntityTooLarge, msg: "65536"})
				// A body of exactly the limit is read and judged on its content.
				r = e.raw(t, http.MethodPost, p.MediaType, bytes.Repeat([]byte("a"), 64<<10))
				wantRejected(t, p.ErrorFormat, r, rejection{rfc: badMeta})
			})
			t.Run("empty body", func(t *testing.T) {
				for _, body := range []string{"", " \r\n\t "} {
					r := e.raw(t, http.MethodPost, p.MediaType, []byte(body))
					wantRejected(t, p.ErrorFormat, r, rejection{rfc: badMeta, ob: obFieldMissing, msg: "empty"})
				}
			})
			t.Run("garbage body", func(t *testing.T) {
				for _, body := range garbageBodies(t) {
					r := e.raw(t, http.MethodPost, p.MediaType, body)
					if r.err == nil && r.status >= 500 {
						t.Errorf("body %q: server error %v", truncate(string(body), 60), r)
						continue
					}
					wantRejected(t, p.ErrorFormat, r, rejection{})
				}
			})
			if n := e.bank.Clients(); n != 0 {
				t.Errorf("bank registered %d clients from broken envelopes", n)
			}
		})
	}
}

// garbageBodies are request bodies that are not a valid registration JWT, from noise to
// well-formed JWS shapes with nonsense inside.
func garbageBodies(t *testing.T) [][]byte {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	unsigned := func(h, c string) []byte { return []byte(b64(h) + "." + b64(c) + ".") }
	ssaNumber, err := jose.Unsigned(jose.Header{"alg": "none"}, jose.Claims{"software_statement": 42})
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{
		[]byte("garbage"),
		[]byte("a.b.c"),
		[]byte(".."),
		[]byte("...."),
		[]byte("e30.e30."),
		[]byte("e30.e30.e30.e30.e30"),
		[]byte("W10.e30.c2ln"), // header is an array
		[]byte("eyJhbGciOiJQUzI1NiJ9.bm90IGpzb24.c2ln"), // payload is not JSON
		[]byte("eyJhbGciOiJQUzI1NiJ9.e30"),              // two segments, alg not none
		[]byte(`{"iss":"dcrconformTPP0001"}`),
		{0x00, 0xff, 0xfe, 0x80, '.', 0x01, '.', 0x02},
		[]byte("héllo.wörld.✓"),
		unsigned(`{"alg":1}`, `{}`),
		unsigned(`{"alg":"PS256","kid":["x"]}`, `{}`),
		unsigned(`{"alg":"PS256","kid":"k"}`, `{"software_statement":"x.y.z"}`),
		unsigned(`{"alg":"none"}`, `{"software_statement":null}`),
		[]byte(ssaNumber),
		unsigned(`{"alg":"PS256","kid":"k"}`, `[]`),
		unsigned(`{"alg":"PS256","kid":"k"}`, `{"exp":1e400}`),
	}
}

// TestGarbageClaims signs well-formed requests whose claims have the wrong JSON types, to show
// type confusion gives 400, never 500.
func TestGarbageClaims(t *testing.T) {
	values := []any{nil, 42, 1.5, -1, true, "", "x", []any{}, []any{1, 2}, map[string]any{}, map[string]any{"a": []any{nil}}}
	for _, name := range []string{"revolut", "obie-3.1", "obie-3.2"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, name)
			claims := []string{"iss", "iat", "exp", "aud", "jti", "scope", "redirect_uris", "token_endpoint_auth_method",
				"application_type", "id_token_signed_response_alg", "request_object_signing_alg", "grant_types",
				"response_types", "software_id", e.p.DNClaim}
			for _, claim := range claims {
				for _, v := range values {
					_, r := e.register(t, func(d *request.Draft) { d.Claims[claim] = v })
					if r.err != nil || r.status >= 500 {
						t.Errorf("%s=%#v: want a 4xx (or success), got %v", claim, v, r)
					}
				}
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	e := newEnv(t, "revolut")
	r := e.send(t, &request.Prepared{Method: http.MethodGet, URL: e.bank.URL() + "/.well-known/openid-configuration",
		Header: http.Header{}, Cert: request.CertTransport})
	if r.err != nil || r.status != http.StatusOK || r.json == nil {
		t.Fatalf("discovery: %v", r)
	}
	if got := r.json["registration_endpoint"]; got != e.bank.RegistrationURL() {
		t.Errorf("registration_endpoint: want %q, got %v", e.bank.RegistrationURL(), got)
	}
	var methods []string
	if err := json.Unmarshal(mustJSON(t, r.json["token_endpoint_auth_methods_supported"]), &methods); err != nil || !contains(methods, "tls_client_auth") {
		t.Errorf("token_endpoint_auth_methods_supported: %v", r.json["token_endpoint_auth_methods_supported"])
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewValidatesConfig(t *testing.T) {
	p := profile.MustGet("revolut")
	if _, err := refbank.New(refbank.Config{ClientCAs: x509.NewCertPool()}); err == nil {
		t.Error("New accepted a config with no profile")
	}
	if _, err := refbank.New(refbank.Config{Profile: p}); err == nil {
		t.Error("New accepted a config with no client CA pool")
	}
	if _, err := refbank.New(refbank.Config{Profile: p, ClientCAs: x509.NewCertPool()}); err != nil {
		t.Errorf("New refused a minimal config: %v", err)
	}
	// Start reports a listen failure instead of serving nothing.
	e := newEnv(t, "revolut")
	busy := strings.TrimPrefix(e.bank.URL(), "https://")
	if _, _, err := net.SplitHostPort(busy); err != nil {
		t.Fatal(err)
	}
	if s, err := refbank.Start(refbank.Config{Profile: p, Addr: busy, ClientCAs: keys.CAPool(),
		Cert: keys.Server.TLSCertificate()}); err == nil {
		s.Close()
		t.Errorf("Start on the busy address %s succeeded", busy)
	}
}

// Discovery is also served over plain TLS with no client certificate asked, as banks with a
// separate mTLS host serve it and as the peer tool fetches it, and names the mTLS endpoints.
func TestDiscoveryWithoutClientCertificate(t *testing.T) {
	e := newEnv(t, "obie-3.2")
	u := e.bank.DiscoveryURL()
	if u == "" {
		t.Fatal("no discovery listener")
	}
	r := e.send(t, &request.Prepared{Method: http.MethodGet, URL: u, Header: http.Header{}, Cert: request.CertNone})
	if r.err != nil || r.status != http.StatusOK {
		t.Fatalf("discovery without a client certificate: %v", r)
	}
	if r.json["registration_endpoint"] != e.bank.RegistrationURL() || r.json["token_endpoint"] != e.bank.TokenURL() {
		t.Errorf("discovery names %v and %v", r.json["registration_endpoint"], r.json["token_endpoint"])
	}
	// The registration endpoint itself still refuses a caller without a certificate at TLS.
	if r := e.send(t, &request.Prepared{Method: http.MethodGet, URL: e.bank.RegistrationURL(), Header: http.Header{}, Cert: request.CertNone}); r.err == nil {
		t.Errorf("the mTLS host answered a caller without a certificate: %v", r)
	}
}

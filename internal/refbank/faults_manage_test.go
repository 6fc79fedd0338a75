package refbank_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/refbank"
	"github.com/dcrconform/dcrconform/internal/request"
)

// lifecycle helpers: register a client, get its token, call its management endpoint.

func (e *bankEnv) registerClient(t *testing.T) string {
	t.Helper()
	_, r := e.register(t, nil)
	wantSuccess(t, e.p, r)
	id, _ := r.json["client_id"].(string)
	if id == "" {
		t.Fatalf("no client_id in %v", r)
	}
	return id
}

func (e *bankEnv) token(t *testing.T, clientID string) (string, *result) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}}
	r := e.send(t, &request.Prepared{Method: http.MethodPost, URL: e.bank.TokenURL(), Cert: request.CertTransport,
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(form.Encode())})
	tok, _ := r.json["access_token"].(string)
	return tok, r
}

func (e *bankEnv) mustToken(t *testing.T, clientID string) string {
	t.Helper()
	tok, r := e.token(t, clientID)
	if tok == "" {
		t.Fatalf("no token: %v", r)
	}
	return tok
}

func (e *bankEnv) manage(t *testing.T, method, clientID, tok string, cert request.Cert, alter func(d *request.Draft)) *result {
	t.Helper()
	d := e.draft()
	if alter != nil {
		alter(d)
	}
	d.AsManagement(e.id, method, clientID, tok)
	d.Cert = cert
	return e.send(t, build(t, d))
}

func answered(want int) checkFunc {
	return func(t *testing.T, _ *bankEnv, _ *request.Prepared, r *result) {
		t.Helper()
		if r.err != nil || r.status != want {
			t.Fatalf("want %d, got %v", want, r)
		}
	}
}

// refusedCall is a call turned away: at TLS, or with a 4xx.
func refusedCall(t *testing.T, _ *bankEnv, _ *request.Prepared, r *result) {
	t.Helper()
	if r.err == nil && (r.status < 400 || r.status > 499) {
		t.Fatalf("want a refusal, got %v", r)
	}
}

func manageFaultCases() []faultCase {
	obie := []string{"obie-3.2"}
	withToken := func(do func(t *testing.T, e *bankEnv, id, tok string) *result) sendFunc {
		return func(t *testing.T, e *bankEnv) (*request.Prepared, *result) {
			id := e.registerClient(t)
			return nil, do(t, e, id, e.mustToken(t, id))
		}
	}
	get := func(t *testing.T, e *bankEnv, id, tok string) *result {
		return e.manage(t, http.MethodGet, id, tok, request.CertTransport, nil)
	}
	firstRedirect := func(d *request.Draft) { d.Claims["redirect_uris"] = []any{testRedirects[0]} }
	redirects := func(want int) checkFunc {
		return func(t *testing.T, _ *bankEnv, _ *request.Prepared, r *result) {
			t.Helper()
			arr, _ := r.json["redirect_uris"].([]any)
			if r.status != http.StatusOK || len(arr) != want {
				t.Fatalf("want 200 with %d redirect_uris, got %v", want, r)
			}
		}
	}
	return []faultCase{
		{fault: refbank.FaultNoToken, send: func(t *testing.T, e *bankEnv) (*request.Prepared, *result) {
			_, r := e.token(t, e.registerClient(t))
			return nil, r
		}, clean: answered(http.StatusOK), faulty: answered(http.StatusUnauthorized)},
		{fault: refbank.FaultGetWrongClient, send: withToken(get), clean: redirects(len(testRedirects)), faulty: redirects(1)},
		{fault: refbank.FaultGetNoAuth, send: withToken(func(t *testing.T, e *bankEnv, id, _ string) *result { return get(t, e, id, "") }),
			clean: answered(http.StatusUnauthorized), faulty: answered(http.StatusOK)},
		{fault: refbank.FaultAnyToken, send: withToken(func(t *testing.T, e *bankEnv, id, _ string) *result { return get(t, e, id, "never-issued") }),
			clean: answered(http.StatusUnauthorized), faulty: answered(http.StatusOK)},
		{fault: refbank.FaultOtherClient, send: withToken(func(t *testing.T, e *bankEnv, _, tok string) *result {
			return get(t, e, e.registerClient(t), tok)
		}), clean: answered(http.StatusForbidden), faulty: answered(http.StatusOK)},
		{fault: refbank.FaultUnknown404, profiles: obie, send: withToken(func(t *testing.T, e *bankEnv, id, tok string) *result {
			if r := get(t, e, "no-such-client", tok); r.status == http.StatusOK {
				t.Fatalf("an unknown client was served: %v", r)
			}
			return get(t, e, id, tok) // revoked by the clean bank, still valid at the faulty one
		}), clean: answered(http.StatusUnauthorized), faulty: answered(http.StatusOK)},
		{fault: refbank.FaultUnknown404, profiles: []string{profile.Default}, send: withToken(func(t *testing.T, e *bankEnv, _, tok string) *result {
			return get(t, e, "no-such-client", tok)
		}), clean: answered(http.StatusUnauthorized), faulty: answered(http.StatusNotFound)},
		{fault: refbank.FaultPutIgnored, send: withToken(func(t *testing.T, e *bankEnv, id, tok string) *result {
			if r := e.manage(t, http.MethodPut, id, tok, request.CertTransport, firstRedirect); r.status != http.StatusOK {
				t.Fatalf("PUT: %v", r)
			}
			return get(t, e, id, tok)
		}), clean: redirects(1), faulty: redirects(len(testRedirects))},
		{fault: refbank.FaultPutOutsideSSA, send: withToken(func(t *testing.T, e *bankEnv, id, tok string) *result {
			return e.manage(t, http.MethodPut, id, tok, request.CertTransport, func(d *request.Draft) {
				d.Claims["redirect_uris"] = []any{"https://elsewhere.example/cb"}
			})
		}), clean: answered(http.StatusBadRequest), faulty: answered(http.StatusOK)},
		{fault: refbank.FaultPutRevokes, send: withToken(func(t *testing.T, e *bankEnv, id, tok string) *result {
			e.manage(t, http.MethodPut, id, tok, request.CertTransport, firstRedirect)
			return get(t, e, id, tok)
		}), clean: answered(http.StatusOK), faulty: answered(http.StatusUnauthorized)},
		{fault: refbank.FaultDelete200, send: withToken(func(t *testing.T, e *bankEnv, id, tok string) *result {
			return e.manage(t, http.MethodDelete, id, tok, request.CertTransport, nil)
		}), clean: answered(http.StatusNoContent), faulty: answered(http.StatusOK)},
		{fault: refbank.FaultDeleteKeeps, send: withToken(func(t *testing.T, e *bankEnv, id, tok string) *result {
			e.manage(t, http.MethodDelete, id, tok, request.CertTransport, nil)
			return get(t, e, id, tok)
		}), clean: answered(http.StatusUnauthorized), faulty: answered(http.StatusOK)},
		{fault: refbank.FaultManageNoCert, send: withToken(func(t *testing.T, e *bankEnv, id, tok string) *result {
			return e.manage(t, http.MethodGet, id, tok, request.CertNone, nil)
		}), clean: refusedCall, faulty: answered(http.StatusOK)},
		{fault: refbank.FaultNoDelete404, opts: []envOption{func(c *refbank.Config) { c.NoDelete = true }},
			send: withToken(func(t *testing.T, e *bankEnv, id, tok string) *result {
				return e.manage(t, http.MethodDelete, id, tok, request.CertTransport, nil)
			}), clean: answered(http.StatusMethodNotAllowed), faulty: answered(http.StatusNotFound)},
		{fault: refbank.FaultHalfRFC7592, send: happy, clean: func(t *testing.T, e *bankEnv, _ *request.Prepared, r *result) {
			wantSuccess(t, e.p, r)
			if _, ok := r.json["registration_client_uri"]; ok {
				t.Error("registration_client_uri without registration_access_token")
			}
		}, faulty: func(t *testing.T, e *bankEnv, _ *request.Prepared, r *result) {
			wantSuccess(t, e.p, r)
			if _, ok := r.json["registration_client_uri"]; !ok {
				t.Error("no registration_client_uri")
			}
		}},
		{fault: refbank.FaultScopeDropsRequired, profiles: []string{profile.Default}, send: happy,
			clean: func(t *testing.T, e *bankEnv, _ *request.Prepared, r *result) {
				wantSuccess(t, e.p, r)
				if s, _ := r.json["scope"].(string); !strings.Contains(s, "openid") {
					t.Errorf("scope %q lacks openid", s)
				}
			}, faulty: func(t *testing.T, e *bankEnv, _ *request.Prepared, r *result) {
				wantSuccess(t, e.p, r)
				if s, _ := r.json["scope"].(string); strings.Contains(s, "openid") {
					t.Errorf("scope %q still holds openid", s)
				}
			}},
	}
}

package refbank_test

import (
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/request"
)

// revolutFields are the 14 members of Revolut's documented RegisterApplicationResponse.
var revolutFields = []string{"application_type", "client_id", "exp", "grant_types", "iat",
	"id_token_signed_response_alg", "iss", "org_jwks_endpoint", "redirect_uris", "request_object_signing_alg",
	"scope", "software_statement", "tls_client_auth_dn", "token_endpoint_auth_method"}

func TestHappyPath(t *testing.T) {
	for _, name := range profile.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, name)
			p := e.p
			prep, r := e.register(t, nil)
			wantSuccess(t, p, r)
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control: want no-store, got %q", got)
			}
			body := r.json
			if id, _ := body["client_id"].(string); id == "" {
				t.Errorf("client_id missing or empty: %v", body["client_id"])
			}
			if got, _ := body["software_statement"].(string); got != prep.SSA {
				t.Errorf("software_statement is not byte-equal to the one sent:\n got %q\nwant %q", got, prep.SSA)
			}
			sent := e.draft().Claims // same identity, same shape; fresh jti/iat do not matter below
			for _, claim := range []string{"redirect_uris", p.DNClaim, "id_token_signed_response_alg",
				"request_object_signing_alg", "token_endpoint_auth_method", "application_type", "scope", "iss"} {
				want := normalise(sent[claim])
				if got := body[claim]; !reflect.DeepEqual(got, want) {
					t.Errorf("%s: want %#v echoed, got %#v", claim, want, got)
				}
			}
			if dn, _ := body[p.DNClaim].(string); dn != e.id.DN {
				t.Errorf("%s: want %q, got %q", p.DNClaim, e.id.DN, dn)
			}
			if p.Name == profile.Default {
				var got []string
				for k := range body {
					got = append(got, k)
				}
				sort.Strings(got)
				if !reflect.DeepEqual(got, revolutFields) {
					t.Errorf("Revolut response members:\n got %v\nwant %v", got, revolutFields)
				}
				if gt, ok := body["grant_types"].([]any); !ok || len(gt) != 0 {
					t.Errorf("grant_types: want [], got %#v", body["grant_types"])
				}
				if got := body["org_jwks_endpoint"]; got != host.URL() {
					t.Errorf("org_jwks_endpoint: want %q, got %v", host.URL(), got)
				}
				if _, isString := body["scope"].(string); !isString {
					t.Errorf("Revolut documents scope as a string, got %#v", body["scope"])
				}
			} else {
				if got := body["software_id"]; got != testIss {
					t.Errorf("software_id: want %q, got %v", testIss, got)
				}
				_, issuedAt := body["client_id_issued_at"]
				if want := p.Name != "obie-3.1"; issuedAt != want {
					t.Errorf("client_id_issued_at present=%v, want %v", issuedAt, want)
				}
			}
			for _, k := range []string{"client_secret", "jti", "aud"} {
				if _, ok := body[k]; ok {
					t.Errorf("response carries %s", k)
				}
			}
			if n := e.bank.Clients(); n != 1 {
				t.Errorf("bank holds %d clients, want 1", n)
			}

			// A second, fresh registration gets its own client.
			_, r2 := e.register(t, nil)
			wantSuccess(t, p, r2)
			if r2.json["client_id"] == body["client_id"] {
				t.Errorf("two registrations got the same client_id %v", body["client_id"])
			}
			if n := e.bank.Clients(); n != 2 {
				t.Errorf("bank holds %d clients, want 2", n)
			}
		})
	}
}

// normalise turns a claim value into what it looks like after a JSON round trip.
func normalise(v any) any {
	switch x := v.(type) {
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case int64:
		return float64(x)
	}
	return v
}

// TestProfileVariantsAccepted covers requests that are valid under one profile's rules, so the
// bank's validation is shown to follow the profile rather than one fixed shape.
func TestProfileVariantsAccepted(t *testing.T) {
	cases := []struct {
		name    string
		applies func(profile.Profile) bool
		alter   func(*request.Draft, *bankEnv)
	}{
		{"revolut unsigned SSA", isRevolut, nil},
		{"revolut jti not a UUID", isRevolut, func(d *request.Draft, _ *bankEnv) { d.Claims["jti"] = "not-a-uuid" }},
		{"revolut no jti", isRevolut, func(d *request.Draft, _ *bankEnv) { delete(d.Claims, "jti") }},
		{"revolut scope as array", isRevolut, func(d *request.Draft, _ *bankEnv) {
			d.Claims["scope"] = []any{"openid", "accounts"}
		}},
		{"directory-signed SSA", anyProfile, func(d *request.Draft, e *bankEnv) {
			d.SSAAlg, d.SSAKey = "PS256", keys.Directory.Key
			d.SSAHeader = jose.Header{"alg": "PS256", "kid": keys.Directory.Kid, "typ": "JWT"}
			d.SSAClaims = request.DirectoryClaims(e.id, time.Now())
		}},
		{"obie scope without openid", isOBIE, func(d *request.Draft, e *bankEnv) {
			d.Claims["scope"] = e.p.EncodeScope([]string{"accounts", "payments"})
		}},
		{"obie ES256 in response algs", isOBIE, func(d *request.Draft, _ *bankEnv) {
			d.Claims["id_token_signed_response_alg"] = "ES256"
		}},
		{"content type with parameters", anyProfile, func(d *request.Draft, e *bankEnv) {
			d.ContentType = e.p.MediaType + "; charset=utf-8"
		}},
		{"DN with other spacing and case", anyProfile, func(d *request.Draft, e *bankEnv) {
			d.Claims[e.p.DNClaim] = strings.ReplaceAll(strings.ToUpper(e.id.DN), ",", ", ")
		}},
		{"mobile application", anyProfile, func(d *request.Draft, _ *bankEnv) { d.Claims["application_type"] = "mobile" }},
		{"subset of the SSA's redirect URIs", anyProfile, func(d *request.Draft, _ *bankEnv) {
			d.Claims["redirect_uris"] = []any{testRedirects[1]}
		}},
	}
	for _, name := range profile.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, name)
			for _, c := range cases {
				if !c.applies(e.p) {
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					_, r := e.register(t, func(d *request.Draft) {
						if c.alter != nil {
							c.alter(d, e)
						}
					})
					wantSuccess(t, e.p, r)
				})
			}
		})
	}
}

func isRevolut(p profile.Profile) bool { return p.Name == profile.Default }
func isOBIE(p profile.Profile) bool    { return p.Name != profile.Default }
func anyProfile(profile.Profile) bool  { return true }

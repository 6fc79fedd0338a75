package refbank_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/request"
)

// OBIE ErrorCodes and RFC 7591 codes the rules below expect.
const (
	obFieldInvalid     = "UK.OBIE.Field.Invalid"
	obFieldMissing     = "UK.OBIE.Field.Missing"
	obSignatureInvalid = "UK.OBIE.Signature.Invalid"
	obSignatureMissing = "UK.OBIE.Signature.Missing"

	badMeta     = profile.ErrInvalidClientMetadata
	badRedirect = profile.ErrInvalidRedirectURI
	badSSA      = profile.ErrInvalidSoftwareStatement
	unapproved  = profile.ErrUnapprovedSoftwareStatement
)

// rule is one rejection rule: a change to the happy-path request and what the bank must answer.
type rule struct {
	name    string
	applies func(profile.Profile) bool // nil: every profile
	alter   func(d *request.Draft, e *bankEnv)
	want    rejection
}

func rejectionRules() []rule {
	now := time.Now()
	tamperPayload := func(token string) (string, error) {
		_, c, err := jose.Decode(token)
		if err != nil {
			return "", err
		}
		c["application_type"] = "mobile" // still valid: only the signature can catch it
		return jose.ReplacePayload(token, c)
	}
	// redirect sends uri as the only redirect URI and lists it in the SSA too, so the rule under
	// test is the only one the request breaks.
	redirect := func(uri string) func(*request.Draft, *bankEnv) {
		return func(d *request.Draft, e *bankEnv) {
			d.Claims["redirect_uris"] = []any{uri}
			d.SetSSAClaim(e.p.RedirectClaim, []any{uri, testRedirects[0]})
		}
	}
	return []rule{
		// The request JWS.
		{name: "alg none request", alter: func(d *request.Draft, _ *bankEnv) {
			d.Alg, d.JWTHeader["alg"] = "none", "none"
		}, want: rejection{rfc: badMeta, ob: obSignatureInvalid, msg: `alg "none"`}},
		{name: "RS256 request", alter: func(d *request.Draft, _ *bankEnv) {
			d.Alg, d.JWTHeader["alg"] = "RS256", "RS256"
		}, want: rejection{rfc: badMeta, ob: obSignatureInvalid, msg: `alg "RS256"`}},
		{name: "HS256 request", alter: func(d *request.Draft, _ *bankEnv) {
			d.Alg, d.JWTHeader["alg"], d.Key = "HS256", "HS256", []byte("0123456789abcdef0123456789abcdef")
		}, want: rejection{rfc: badMeta, ob: obSignatureInvalid, msg: `alg "HS256"`}},
		{name: "tampered signature", alter: func(d *request.Draft, _ *bankEnv) {
			d.AfterSign = jose.TamperSignature
		}, want: rejection{rfc: badMeta, ob: obSignatureInvalid, msg: "signature does not verify"}},
		{name: "payload replaced", alter: func(d *request.Draft, _ *bankEnv) {
			d.AfterSign = tamperPayload
		}, want: rejection{rfc: badMeta, ob: obSignatureInvalid, msg: "signature does not verify"}},
		{name: "signed by a foreign key under the real kid", alter: func(d *request.Draft, _ *bankEnv) {
			d.Key = keys.Foreign.Key
		}, want: rejection{rfc: badMeta, ob: obSignatureInvalid, msg: "signature does not verify"}},
		{name: "unknown kid", alter: func(d *request.Draft, _ *bankEnv) {
			d.Key, d.JWTHeader["kid"] = keys.Foreign.Key, keys.Foreign.Kid
		}, want: rejection{rfc: badMeta, ob: obSignatureInvalid, msg: "kid is not in the key set"}},
		{name: "missing kid", alter: func(d *request.Draft, _ *bankEnv) {
			delete(d.JWTHeader, "kid")
		}, want: rejection{rfc: badMeta, ob: obSignatureMissing, msg: "no kid"}},
		{name: "crit header", alter: func(d *request.Draft, _ *bankEnv) {
			d.JWTHeader["crit"] = []string{"urn:example:unknown"}
			d.JWTHeader["urn:example:unknown"] = true
		}, want: rejection{rfc: badMeta, ob: obSignatureInvalid, msg: "crit"}},

		// Time claims.
		{name: "expired exp", alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["iat"], d.Claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "expired"}},
		{name: "missing exp", alter: func(d *request.Draft, _ *bankEnv) {
			delete(d.Claims, "exp")
		}, want: rejection{rfc: badMeta, ob: obFieldMissing, msg: "exp"}},
		{name: "exp not a number", alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["exp"] = "tomorrow"
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "exp"}},
		{name: "iat in future", alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["iat"] = now.Add(time.Hour).Unix()
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "iat is in the future"}},
		{name: "iat beyond any date", alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["iat"] = 1e19
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "iat"}},

		// Identity claims.
		{name: "aud wrong pattern", alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["aud"] = "https://bank.example/register"
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "aud does not match"}},
		{name: "aud of another bank", alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["aud"] = "otherbank"
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "aud does not identify this server"}},
		{name: "missing aud", alter: func(d *request.Draft, _ *bankEnv) {
			delete(d.Claims, "aud")
		}, want: rejection{rfc: badMeta, ob: obFieldMissing, msg: "aud"}},
		{name: "jti not UUID", applies: isOBIE, alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["jti"] = "not-a-uuid"
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "UUIDv4"}},
		{name: "missing jti", applies: isOBIE, alter: func(d *request.Draft, _ *bankEnv) {
			delete(d.Claims, "jti")
		}, want: rejection{rfc: badMeta, ob: obFieldMissing, msg: "jti"}},
		{name: "software_id mismatch", applies: isOBIE, alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["software_id"] = "someOtherSoftware"
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "software_id"}},
		{name: "iss is not the SSA's software_id", applies: isOBIE, alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["iss"] = "someOtherSoftware"
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "iss"}},

		// Redirect URIs.
		{name: "redirect URI not in SSA", alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["redirect_uris"] = []any{"https://tpp.dcrconform.example/elsewhere"}
		}, want: rejection{rfc: badRedirect, ob: obFieldInvalid, msg: "software statement"}},
		{name: "http redirect", alter: redirect("http://tpp.dcrconform.example/callback"),
			want: rejection{rfc: badRedirect, ob: obFieldInvalid, msg: "https"}},
		{name: "localhost redirect", alter: redirect("https://localhost/callback"),
			want: rejection{rfc: badRedirect, ob: obFieldInvalid, msg: "localhost"}},
		{name: "loopback IP redirect", alter: redirect("https://127.0.0.1/callback"),
			want: rejection{rfc: badRedirect, ob: obFieldInvalid, msg: "localhost"}},
		{name: "fragment", alter: redirect("https://tpp.dcrconform.example/callback#frag"),
			want: rejection{rfc: badRedirect, ob: obFieldInvalid, msg: "fragment"}},
		{name: "relative redirect", alter: redirect("/callback"),
			want: rejection{rfc: badRedirect, ob: obFieldInvalid, msg: "absolute"}},
		{name: "redirect_uris empty", alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["redirect_uris"] = []any{}
		}, want: rejection{rfc: badRedirect, ob: obFieldInvalid, msg: "redirect_uris"}},
		{name: "redirect_uris a string", alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["redirect_uris"] = testRedirects[0]
		}, want: rejection{rfc: badRedirect, ob: obFieldInvalid, msg: "redirect_uris"}},
		{name: "missing redirect_uris", alter: func(d *request.Draft, _ *bankEnv) {
			delete(d.Claims, "redirect_uris")
		}, want: rejection{rfc: badRedirect, ob: obFieldInvalid, msg: "redirect_uris"}},
		{name: "redirect URI over the length limit", applies: func(p profile.Profile) bool { return p.MaxRedirectURILen > 0 },
			alter: func(d *request.Draft, e *bankEnv) {
				long := "https://tpp.dcrconform.example/" + strings.Repeat("a", e.p.MaxRedirectURILen)
				redirect(long)(d, e)
			}, want: rejection{rfc: badRedirect, ob: obFieldInvalid, msg: "longer"}},

		// Client metadata.
		{name: "auth method private_key_jwt", alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["token_endpoint_auth_method"] = "private_key_jwt"
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "token_endpoint_auth_method"}},
		{name: "auth method client_secret_basic", alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["token_endpoint_auth_method"] = "client_secret_basic"
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "token_endpoint_auth_method"}},
		{name: "missing DN claim", alter: func(d *request.Draft, e *bankEnv) {
			delete(d.Claims, e.p.DNClaim)
		}, want: rejection{rfc: badMeta, ob: obFieldMissing, msg: "_dn"}},
		{name: "DN differing from cert", alter: func(d *request.Draft, e *bankEnv) {
			d.Claims[e.p.DNClaim] = "CN=someone-else,O=Other Ltd,C=GB"
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "does not match the transport certificate"}},
		{name: "DN over the length limit", applies: func(p profile.Profile) bool { return p.MaxDNLen > 0 },
			alter: func(d *request.Draft, e *bankEnv) {
				d.Claims[e.p.DNClaim] = e.id.DN + ",L=" + strings.Repeat("x", e.p.MaxDNLen)
			}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "longer"}},
		{name: "weak id_token_signed_response_alg RS256", alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["id_token_signed_response_alg"] = "RS256"
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "id_token_signed_response_alg"}},
		{name: "request_object_signing_alg none", alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["request_object_signing_alg"] = "none"
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "request_object_signing_alg"}},
		{name: "application_type desktop", alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["application_type"] = "desktop"
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "application_type"}},
		{name: "scope without openid", applies: func(p profile.Profile) bool { return p.ScopeRequiresOpenID },
			alter: func(d *request.Draft, e *bankEnv) {
				d.Claims["scope"] = e.p.EncodeScope([]string{"accounts", "payments"})
			}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "openid"}},
		{name: "unknown scope", alter: func(d *request.Draft, e *bankEnv) {
			d.Claims["scope"] = e.p.EncodeScope([]string{"openid", "accounts", "admin"})
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: `scope "admin"`}},
		{name: "scope of the wrong JSON type", applies: isOBIE, alter: func(d *request.Draft, e *bankEnv) {
			p := e.p
			p.ScopeArray = !p.ScopeArray
			d.Claims["scope"] = p.EncodeScope([]string{"openid", "accounts"})
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "JSON type"}},
		{name: "scope beyond the SSA's roles", applies: isOBIE, alter: func(d *request.Draft, e *bankEnv) {
			d.SetSSAClaim("software_roles", []any{"AISP"})
			d.Claims["scope"] = e.p.EncodeScope([]string{"openid", "payments"})
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "roles"}},
		{name: "unknown grant type", alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["grant_types"] = []any{"client_credentials", "password"}
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "password"}},
		{name: "unknown response type", applies: isOBIE, alter: func(d *request.Draft, _ *bankEnv) {
			d.Claims["response_types"] = []any{"token"}
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "token"}},

		// The software statement.
		{name: "missing software_statement", alter: func(d *request.Draft, _ *bankEnv) {
			d.OmitSSA = true
		}, want: rejection{rfc: badSSA, ob: obFieldMissing, msg: "software_statement"}},
		{name: "malformed SSA", alter: func(d *request.Draft, _ *bankEnv) {
			bad := "this-is-not-a-jwt"
			d.SSA = &bad
		}, want: rejection{rfc: badSSA, ob: obFieldInvalid, msg: "not a JWT"}},
		{name: "SSA not a string", alter: func(d *request.Draft, _ *bankEnv) {
			d.OmitSSA = true
			d.Claims["software_statement"] = map[string]any{"software_id": testIss}
		}, want: rejection{rfc: badSSA, ob: obFieldMissing, msg: "software_statement"}},
		{name: "SSA signed by wrong key", alter: func(d *request.Draft, e *bankEnv) {
			signSSA(d, e, keys.Foreign)
		}, want: rejection{rfc: badSSA, ob: obSignatureInvalid, msg: "software statement signature"}},
		{name: "SSA signed with a tampered signature", alter: func(d *request.Draft, e *bankEnv) {
			signSSA(d, e, keys.Directory)
			d.AfterSSA = jose.TamperSignature
		}, want: rejection{rfc: badSSA, ob: obSignatureInvalid, msg: "software statement signature"}},
		{name: "unsigned SSA", applies: func(p profile.Profile) bool { return !p.SelfSignedSSA },
			alter: func(d *request.Draft, _ *bankEnv) {
				d.SSAAlg, d.SSAHeader = "none", jose.Header{"alg": "none"}
			}, want: rejection{rfc: badSSA, ob: obSignatureInvalid, msg: "unsigned"}},
		{name: "SSA org_status Revoked", alter: func(d *request.Draft, _ *bankEnv) {
			d.SetSSAClaim("org_status", "Revoked")
		}, want: rejection{rfc: unapproved, ob: obFieldInvalid, msg: "Revoked"}},
		{name: "expired SSA", alter: func(d *request.Draft, _ *bankEnv) {
			d.SetSSAClaim("exp", now.Add(-time.Hour).Unix())
		}, want: rejection{rfc: badSSA, ob: obFieldInvalid, msg: "expired"}},
		{name: "SSA iat in future", alter: func(d *request.Draft, _ *bankEnv) {
			d.SetSSAClaim("iat", now.Add(time.Hour).Unix())
		}, want: rejection{rfc: badSSA, ob: obFieldInvalid, msg: "future"}},
		{name: "SSA issued too long ago", alter: func(d *request.Draft, _ *bankEnv) {
			d.SetSSAClaim("iat", now.Add(-30*24*time.Hour).Unix())
		}, want: rejection{rfc: badSSA, ob: obFieldInvalid, msg: "issued more than"}},
		{name: "SSA without a JWKS URL", alter: func(d *request.Draft, e *bankEnv) {
			delete(d.SSAClaims, e.p.JWKSClaim)
		}, want: rejection{rfc: badSSA, ob: obFieldMissing, msg: "jwks"}},
		{name: "JWKS URL over plain http", alter: func(d *request.Draft, e *bankEnv) {
			setJWKSURL(d, e.p, "http"+host.URL()[len("https"):])
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "not https"}},
		{name: "JWKS URL answers 404", alter: func(d *request.Draft, e *bankEnv) {
			setJWKSURL(d, e.p, host.NotFoundURL())
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "Failed to fetch public key from " + host.NotFoundURL()}},
		{name: "JWKS URL answers HTML", alter: func(d *request.Draft, e *bankEnv) {
			setJWKSURL(d, e.p, host.HTMLURL())
		}, want: rejection{rfc: badMeta, ob: obFieldInvalid, msg: "Failed to fetch public key from " + host.HTMLURL()}},
	}
}

// signSSA makes the draft's SSA a directory SSA of the identity, signed PS256 by key.
func signSSA(d *request.Draft, e *bankEnv, key pki.SigningKey) {
	d.SSA = nil
	d.SSAAlg, d.SSAKey = "PS256", key.Key
	d.SSAHeader = jose.Header{"alg": "PS256", "kid": key.Kid, "typ": "JWT"}
	d.SSAClaims = request.DirectoryClaims(e.id, time.Now())
}

// TestRejectionRules sends every rule's request to a clean bank of every profile and checks the
// status, the profile's error format and the codes.
func TestRejectionRules(t *testing.T) {
	rules := rejectionRules()
	for _, name := range profile.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, name)
			for _, rl := range rules {
				if rl.applies != nil && !rl.applies(e.p) {
					continue
				}
				t.Run(rl.name, func(t *testing.T) {
					_, r := e.register(t, func(d *request.Draft) { rl.alter(d, e) })
					wantRejected(t, e.p.ErrorFormat, r, rl.want)
				})
			}
			if n := e.bank.Clients(); n != 0 {
				t.Errorf("a rejected request registered a client: bank holds %d", n)
			}
		})
	}
}

// TestReplayedJTI sends the same signed request twice: the first registers, the second is a
// replay and must be rejected.
func TestReplayedJTI(t *testing.T) {
	for _, name := range profile.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, name)
			prep := build(t, e.draft())
			wantSuccess(t, e.p, e.send(t, prep))
			wantRejected(t, e.p.ErrorFormat, e.send(t, prep), rejection{rfc: badMeta, ob: obFieldInvalid, msg: "jti"})
			if n := e.bank.Clients(); n != 1 {
				t.Errorf("bank holds %d clients after a replay, want 1", n)
			}
		})
	}
}

package catalogue

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/judge"
	"github.com/dcrconform/dcrconform/internal/request"
)

// JWS-13 (JWKS over http or TLS < 1.2) is not here: the harness's JWKS host offers neither a
// plain-http nor a legacy-TLS endpoint (see Omitted).

// jwsCases probe the request JWS: its algorithm, signature, key and header.
func jwsCases() []*Case {
	return []*Case{
		{
			ID: "JWS-01", Title: "Unsigned (alg none) request JWT is rejected", Group: GroupJWS,
			Ref:    "FAPI 1 Advanced 8.6 (PS256/ES256 only); Revolut create-a-jwt (PS256)",
			Levels: All(MUST),
			Alter: func(d *request.Draft, _ *request.Identity) error {
				d.Alg = "none"
				d.JWTHeader["alg"] = "none"
				return nil
			},
			Expect: judge.Rejected{},
		},
		{
			ID: "JWS-02", Title: "HS256 request JWT keyed with the TPP's public key is rejected", Group: GroupJWS,
			Ref:    "FAPI 1 Advanced 8.6 (PS256/ES256 only); RFC 8725 3.1 (algorithm confusion)",
			Levels: All(MUST),
			// The classic confusion: a verifier that lets the header pick the algorithm ends up
			// using the public key's PEM text as an HMAC secret, which anyone can compute.
			Alter: func(d *request.Draft, id *request.Identity) error {
				der, err := x509.MarshalPKIXPublicKey(&id.Signing.Key.PublicKey)
				if err != nil {
					return err
				}
				d.Alg, d.JWTHeader["alg"] = "HS256", "HS256"
				d.Key = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
				return nil
			},
			Expect: judge.Rejected{},
		},
		{
			ID: "JWS-03", Title: "RS256 request JWT is rejected", Group: GroupJWS,
			Ref:    "FAPI 1 Advanced 8.6 (PS256/ES256 only); OBIE conformance-dcr DCR-004; Revolut create-a-jwt (PS256)",
			Levels: All(MUST),
			Alter: func(d *request.Draft, _ *request.Identity) error {
				d.Alg, d.JWTHeader["alg"] = "RS256", "RS256"
				return nil
			},
			Expect: judge.Rejected{},
		},
		{
			// FAPI 1 lets a TPP sign with PS256 or ES256, and OBIE constrains its algorithms by
			// FAPI, so an OBIE bank should verify an ES256 request against the EC key of the
			// TPP's key set. It is no MUST: FAPI obliges no server to support both. Revolut
			// documents PS256 as the only algorithm, so there the same request must be refused.
			ID: "JWS-04", Title: "ES256 request JWT signed by the TPP's EC key", Group: GroupJWS,
			Ref:    "FAPI 1 Advanced 8.6 (PS256 or ES256); OBIE DCR v3.1 (algs as constrained by FAPI-RW); Revolut create-a-jwt (PS256 only)",
			Levels: Per("revolut", MUST, "obie", SHOULD), Needs: []Capability{ECSigningKey},
			Alter: func(d *request.Draft, id *request.Identity) error {
				if id.Signing.EC == nil {
					return errors.New("the TPP's key set has no EC P-256 key to sign ES256 with")
				}
				d.Alg, d.JWTHeader["alg"] = "ES256", "ES256"
				d.JWTHeader["kid"], d.Key = id.Signing.ECKid(), id.Signing.EC
				return nil
			},
			Expect:   judge.Success{Checks: []judge.BodyCheck{judge.ClientID}},
			ExpectBy: map[string]judge.Expectation{"revolut": judge.Rejected{}},
		},
		{
			ID: "JWS-05", Title: "Request JWT with a bad signature is rejected", Group: GroupJWS,
			Ref:    "OB Directory SSA spec, request validation (RP signed by a key in the SSA's JWKS)",
			Levels: All(MUST),
			Alter:  tamperedSignature,
			Expect: judge.Rejected{},
		},
		{
			ID: "JWS-06", Title: "Request JWT altered after signing is rejected", Group: GroupJWS,
			Ref:    "OB Directory SSA spec, request validation (RP signed by a key in the SSA's JWKS)",
			Levels: All(MUST),
			// The altered claims are themselves valid, so only the signature can give it away.
			Alter: func(d *request.Draft, _ *request.Identity) error {
				d.AfterSign = func(token string) (string, error) {
					_, claims, err := jose.Decode(token)
					if err != nil {
						return "", err
					}
					claims["application_type"] = "mobile"
					if claims["application_type"] == d.Claims["application_type"] {
						claims["application_type"] = "web"
					}
					return jose.ReplacePayload(token, claims)
				}
				return nil
			},
			Expect: judge.Rejected{},
		},
		{
			ID: "JWS-07", Title: "Request JWT whose kid is not in the JWKS is rejected", Group: GroupJWS,
			Ref:    "OB Directory SSA spec, request validation; Revolut get-the-software-statement (kid in org_jwks_endpoint)",
			Levels: All(MUST),
			Alter: func(d *request.Draft, _ *request.Identity) error {
				d.JWTHeader["kid"] = "dcrconform-kid-in-no-jwks"
				return nil
			},
			Expect: judge.Rejected{},
		},
		{
			ID: "JWS-08", Title: "Request JWT without a kid is rejected", Group: GroupJWS,
			Ref:    "Revolut create-a-jwt (kid required); OB DCR v3.1 Of JWS & JWKS",
			Levels: Per("revolut", MUST, "obie", SHOULD),
			Alter: func(d *request.Draft, _ *request.Identity) error {
				delete(d.JWTHeader, "kid")
				return nil
			},
			Expect: judge.Rejected{},
		},
		{
			ID: "JWS-09", Title: "Request JWT signed by a key outside the JWKS is rejected", Group: GroupJWS,
			Ref:    "OB Directory SSA spec, request validation (proof of possession of a key in the SSA's JWKS)",
			Levels: All(MUST),
			// The header keeps the real kid: only the signature betrays the foreign key.
			Alter: func(d *request.Draft, id *request.Identity) error {
				if id.Foreign.Key == nil {
					return errors.New("no foreign signing key is available")
				}
				d.Key = id.Foreign.Key
				return nil
			},
			Expect: judge.Rejected{},
		},
		{
			ID: "JWS-10", Title: "Key embedded in the request JWT's header is not trusted", Group: GroupJWS,
			Ref:    "OB DCR v3.1 Of JWS & JWKS (key must not be embedded in the message); RFC 8725 3.10",
			Levels: All(MUST),
			// An attacker's key in the jwk header, and a signature that verifies with it: only a
			// bank that takes keys from the SSA's JWKS alone refuses it.
			Alter: func(d *request.Draft, id *request.Identity) error {
				if id.Foreign.Key == nil {
					return errors.New("no foreign signing key is available")
				}
				embedded, err := jose.PublicJWK(&id.Foreign.Key.PublicKey, id.Foreign.Kid)
				if err != nil {
					return err
				}
				d.Key = id.Foreign.Key
				d.JWTHeader["kid"] = id.Foreign.Kid
				d.JWTHeader["jwk"] = json.RawMessage(embedded)
				return nil
			},
			Expect: judge.Rejected{},
		},
		{
			ID: "JWS-11", Title: "Unreachable JWKS gives 400", Group: GroupJWS,
			Ref:    "Revolut register-application, 400 Unreachable JWKS (OBErrorResponse1)",
			Levels: All(MUST), Needs: []Capability{MintSSA},
			Variants: []Variant{
				{Name: "closed-port", Title: "connection refused", Needs: []Capability{LoopbackTarget},
					Alter: jwksURL(func(p request.Probes) string { return p.ClosedPort })},
				{Name: "invalid-name", Title: "host name under .invalid",
					Alter: jwksURL(func(p request.Probes) string { return p.Invalid })},
				{Name: "blackhole", Title: "server accepts and never answers", Needs: []Capability{LoopbackTarget},
					Alter: jwksURL(func(p request.Probes) string { return p.Blackhole })},
				{Name: "not-found", Title: "JWKS URL answers 404", Needs: []Capability{LoopbackTarget},
					Alter: jwksURL(func(p request.Probes) string { return p.NotFound })},
			},
			Expect: judge.Rejected{NoAnswerFails: true},
			ExpectBy: map[string]judge.Expectation{
				"revolut": judge.Rejected{ErrorCode: revolutJWKSErrorCode, MentionsJWKSURL: true, NoAnswerFails: true},
			},
		},
		{
			ID: "JWS-12", Title: "JWKS URL serving HTML instead of a key set is rejected", Group: GroupJWS,
			Ref:    "Revolut get-the-jwks-url (the URL must serve raw JSON); RFC 7517 5",
			Levels: All(SHOULD), Needs: []Capability{MintSSA, LoopbackTarget},
			Alter:  jwksURL(func(p request.Probes) string { return p.HTML }),
			Expect: judge.Rejected{},
		},
		{
			ID: "JWS-14", Title: "Request JWT with an unknown crit extension is rejected", Group: GroupJWS,
			Ref:    "RFC 7515 4.1.11 (recipient MUST reject a JWS whose crit names an extension it does not understand)",
			Levels: All(MUST),
			Alter: func(d *request.Draft, _ *request.Identity) error {
				const ext = "urn:dcrconform:unknown-extension"
				d.JWTHeader["crit"] = []string{ext}
				d.JWTHeader[ext] = true
				return nil
			},
			Expect: judge.Rejected{},
		},
		{
			ID: "JWS-15", Title: "Request in another JOSE serialisation is rejected", Group: GroupJWS,
			Ref:    "OB DCR swagger v3.1 (application/jwt) and v3.2+ (application/jose): a compact JWS body",
			Levels: All(SHOULD),
			Variants: []Variant{
				{Name: "json", Title: "flattened JSON serialisation of the signed request",
					Alter: func(d *request.Draft, _ *request.Identity) error {
						d.AfterSign = flattenedJWS
						return nil
					}},
				{Name: "jwe", Title: "five-segment compact JWE",
					Alter: func(d *request.Draft, id *request.Identity) error {
						d.AfterSign = func(string) (string, error) { return fakeJWE(id.Signing.Kid) }
						return nil
					}},
			},
			Expect: judge.Rejected{},
		},
	}
}

// flattenedJWS rewrites a compact JWS into the flattened JSON serialisation (RFC 7515 7.2.2):
// the same signed content, in a form the registration media types do not allow.
func flattenedJWS(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("token is not a compact JWS")
	}
	b, err := json.Marshal(map[string]string{"protected": parts[0], "payload": parts[1], "signature": parts[2]})
	return string(b), err
}

// fakeJWE is a well-formed compact JWE (RFC 7516 7.1) no one can decrypt: the bank holds no key
// for it, so it must refuse rather than guess.
func fakeJWE(kid string) (string, error) {
	h, err := json.Marshal(map[string]any{"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": kid, "cty": "JWT"})
	if err != nil {
		return "", err
	}
	seg := func(n int) string {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + seg(256) + "." + seg(12) + "." + seg(64) + "." + seg(16), nil
}

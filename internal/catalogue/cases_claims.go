package catalogue

import (
	"strings"
	"time"

	"github.com/dcrconform/dcrconform/internal/judge"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/request"
)

// RFC 7591 codes the OBIE profiles may answer with, by kind of problem (S1, S3 RegistrationError).
var (
	metadataCodes = []string{profile.ErrInvalidClientMetadata}
	redirectCodes = []string{profile.ErrInvalidRedirectURI, profile.ErrInvalidClientMetadata}
)

// CLM-12 drops only the claims every profile requires. Claims required by some profiles only
// (jti, grant_types, scope) would make a MUST variant that a conformant bank of another profile
// passes by accepting, which no fault could fail; jti has CLM-09 for the profiles that need it.

// claimCases probe the request JWT's claims: times, audience, issuer, jti, redirect URIs and
// the registered metadata.
func claimCases() []*Case {
	// RFC 7591 has no code for a bad claim of the outer request JWS (exp, iat, aud, iss, jti): any
	// of the four is accepted and recorded. Metadata values have invalid_client_metadata.
	rejectAny := judge.Rejected{}
	rejectMetadata := judge.Rejected{RFCCodes: metadataCodes}
	rejectRedirect := judge.Rejected{RFCCodes: redirectCodes}
	return []*Case{
		{
			ID: "CLM-01", Title: "Expired request JWT is rejected", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, exp (ASPSP must reject when now > exp); RFC 7519 4.1.4",
			Levels: All(MUST),
			Alter:  expired,
			Expect: rejectAny,
		},
		{
			ID: "CLM-02", Title: "Request JWT without exp is rejected", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, exp 1..1; Revolut create-a-jwt (exp required)",
			Levels: All(MUST),
			Alter:  dropClaim("exp"),
			Expect: rejectAny,
		},
		{
			ID: "CLM-03", Title: "Request JWT issued in the future is rejected", Group: GroupClaims,
			Ref:    "RFC 7519 4.1.6 (iat); OBIE DCR v3.1 data dictionary, iat",
			Levels: All(SHOULD),
			Alter: func(d *request.Draft, _ *request.Identity) error {
				now := time.Now()
				d.Claims["iat"] = now.Add(time.Hour).Unix()
				d.Claims["exp"] = now.Add(2 * time.Hour).Unix()
				return nil
			},
			Expect: rejectAny,
		},
		{
			ID: "CLM-04", Title: "Request JWT without iat is rejected", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, iat 1..1; Revolut create-a-jwt (iat required)",
			Levels: All(MUST),
			Alter:  dropClaim("iat"),
			Expect: rejectAny,
		},
		{
			ID: "CLM-05", Title: "Request JWT issued a day ago (exp still valid)", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, iat (no maximum age defined)",
			Levels: All(INFO),
			Alter: func(d *request.Draft, _ *request.Identity) error {
				d.Claims["iat"] = time.Now().Add(-24 * time.Hour).Unix()
				return nil
			},
			Expect: judge.Observe{},
		},
		{
			ID: "CLM-06", Title: "Request JWT addressed to another ASPSP", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, aud (the ASPSP may validate it)",
			Levels: All(MAY),
			Alter: func(d *request.Draft, id *request.Identity) error {
				other := "0015800000OTHERASP"
				if id.Aud == other {
					other = "0015800000ANOTHER1"
				}
				d.Claims["aud"] = other
				return nil
			},
			Expect: rejectAny,
		},
		{
			ID: "CLM-07", Title: "aud outside its documented pattern is rejected", Group: GroupClaims,
			Ref:    "OBIE DCR swagger v3.1 aud ^[0-9a-zA-Z]{1,18}$; Revolut create-a-jwt (aud pattern)",
			Levels: All(MUST),
			Variants: []Variant{
				{Name: "url", Title: "an issuer URL", Alter: setClaim("aud", "https://aspsp.dcrconform.example")},
				{Name: "too-long", Title: "19 characters", Alter: setClaim("aud", "0015800000dcrASPSP9")},
				{Name: "array", Title: "a JSON array", Alter: func(d *request.Draft, id *request.Identity) error {
					d.Claims["aud"] = []any{id.Aud}
					return nil
				}},
			},
			Expect: rejectAny,
		},
		{
			ID: "CLM-08", Title: "iss outside its documented pattern, or not the SSA's software_id, is rejected", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, iss Base62 (<=18; <=22 from v3.2), equal to the SSA's software_id; OBIE conformance-dcr DCR-004; Revolut sample uses example.com",
			Levels: Per("obie", MUST, "revolut", INFO),
			Variants: []Variant{
				{Name: "empty", Title: "empty string", Alter: setClaim("iss", "")},
				{Name: "too-long", Title: "30 characters", Alter: setClaim("iss", strings.Repeat("a1B2c3", 5))},
				{Name: "not-base62", Title: "foo.is/invalid", Alter: setClaim("iss", "foo.is/invalid")},
				// Within the pattern, so only the rule that iss is the SSA's software_id refuses it.
				{Name: "not-software-id", Title: "Base62, but not the SSA's software_id", Alter: setClaim("iss", "dcrconformOtherSW1")},
			},
			Expect:   rejectAny,
			ExpectBy: map[string]judge.Expectation{"revolut": judge.Observe{}},
		},
		{
			ID: "CLM-09", Title: "Request JWT without jti", Group: GroupClaims,
			Ref:    "OBIE DCR swagger, jti required; Revolut create-a-jwt (jti not listed)",
			Levels: Per("obie", MUST, "revolut", INFO),
			Alter:  dropClaim("jti"),
			Expect: rejectAny, ExpectBy: map[string]judge.Expectation{"revolut": judge.Observe{}},
		},
		{
			// Revolut documents no jti, so its format is no part of that contract.
			ID: "CLM-10", Title: "jti that is not a UUIDv4", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, jti (UUIDv4, 36 characters)",
			Levels: Per("obie", MUST),
			Alter:  setClaim("jti", "abc"),
			Expect: rejectAny,
		},
		{
			ID: "CLM-11", Title: "Replayed request JWT (same jti) is rejected", Group: GroupClaims,
			Ref:    "RFC 7519 4.1.7 (jti may be used to prevent replay)",
			Levels: All(MAY), Sends: 2,
			Expect: judge.ReplayRejected{Rejected: rejectAny},
		},
		{
			ID: "CLM-12", Title: "Request JWT lacking a required claim is rejected", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary and swagger required list; Revolut create-a-jwt (required claims)",
			Levels: All(MUST),
			Variants: []Variant{
				{Name: "iss", Alter: dropClaim("iss")},
				{Name: "iat", Alter: dropClaim("iat")},
				{Name: "exp", Alter: dropClaim("exp")},
				{Name: "aud", Alter: dropClaim("aud")},
				{Name: "redirect-uris", Alter: dropClaim("redirect_uris")},
				{Name: "token-endpoint-auth-method", Alter: dropClaim("token_endpoint_auth_method")},
				{Name: "application-type", Alter: dropClaim("application_type")},
				{Name: "id-token-signed-response-alg", Alter: dropClaim("id_token_signed_response_alg")},
				{Name: "request-object-signing-alg", Alter: dropClaim("request_object_signing_alg")},
				{Name: "dn", Title: "the profile's DN claim", Alter: dropDNClaim},
				{Name: "software-statement", Alter: omitSSA},
			},
			Expect: judge.MissingClaim{},
		},
		{
			ID: "CLM-13", Title: "Redirect URI the SSA does not list is rejected", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, redirect_uris (subset of software_redirect_uris); OIDF brazil-dcr-invalid-redirect-uri",
			Levels: All(MUST),
			Alter: func(d *request.Draft, _ *request.Identity) error {
				d.Claims["redirect_uris"] = []any{"https://attacker.dcrconform.example/callback"}
				return nil
			},
			Expect: rejectRedirect,
		},
		{
			ID: "CLM-14", Title: "http redirect URI is rejected", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, redirect_uris (MUST use https)",
			Levels: All(MUST),
			Alter:  badRedirect("http://tpp.dcrconform.example/callback"),
			Expect: rejectRedirect,
		},
		{
			ID: "CLM-15", Title: "localhost redirect URI is rejected", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, redirect_uris (MUST NOT have host localhost)",
			Levels: All(MUST),
			Variants: []Variant{
				{Name: "localhost", Alter: badRedirect("https://localhost/callback")},
				{Name: "loopback-ip", Title: "127.0.0.1", Alter: badRedirect("https://127.0.0.1/callback")},
			},
			Expect: rejectRedirect,
		},
		{
			ID: "CLM-16", Title: "Redirect URI with a fragment or over 256 characters is rejected", Group: GroupClaims,
			Ref:    "RFC 6749 3.1.2 (no fragment); OBIE DCR v3.1 data dictionary, redirect_uris (each <=256)",
			Levels: All(SHOULD),
			Variants: []Variant{
				{Name: "fragment", Alter: badRedirect("https://tpp.dcrconform.example/callback#frag")},
				{Name: "long", Title: "300 characters",
					Alter: badRedirect("https://tpp.dcrconform.example/" + strings.Repeat("c", 300-len("https://tpp.dcrconform.example/")))},
			},
			Expect: rejectRedirect,
		},
		{
			ID: "CLM-17", Title: "redirect_uris that is not a non-empty array is rejected", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, redirect_uris 1..* array; Revolut create-a-jwt types it as string",
			Levels: Per("obie", MUST, "revolut", INFO),
			Variants: []Variant{
				{Name: "empty-array", Alter: setClaim("redirect_uris", []any{})},
				{Name: "string", Title: "a plain string", Alter: func(d *request.Draft, id *request.Identity) error {
					d.Claims["redirect_uris"] = id.RedirectURIs[0]
					return nil
				}},
			},
			Expect:   rejectRedirect,
			ExpectBy: map[string]judge.Expectation{"revolut": judge.Observe{}},
		},
		{
			ID: "CLM-18", Title: "Unsupported token_endpoint_auth_method is rejected or substituted", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 general rules (reject, or substitute and return); Revolut create-a-jwt (tls_client_auth only)",
			Levels: All(MUST),
			Variants: []Variant{
				{Name: "client-secret-basic", Alter: setClaim("token_endpoint_auth_method", "client_secret_basic")},
				{Name: "none", Alter: setClaim("token_endpoint_auth_method", "none")},
			},
			Expect: judge.RejectOrSubstitute{Claims: []string{"token_endpoint_auth_method"},
				Supported: func(p profile.Profile) []string { return p.AuthMethods }, Rejected: rejectMetadata},
		},
		{
			ID: "CLM-19", Title: "tls_client_auth without a DN claim is rejected", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, tls_client_auth_dn (set iff tls_client_auth); v3.2 tls_client_auth_subject_dn",
			Levels: All(MUST),
			Alter:  dropDNClaim,
			Expect: rejectMetadata,
		},
		{
			ID: "CLM-20", Title: "DN claim under the other version's name", Group: GroupClaims,
			Ref:    "OBIE DCR v3.2 change log (tls_client_auth_dn renamed tls_client_auth_subject_dn)",
			Levels: All(INFO),
			Alter: func(d *request.Draft, id *request.Identity) error {
				other := "tls_client_auth_subject_dn"
				if id.Profile.DNClaim == other {
					other = "tls_client_auth_dn"
				}
				d.Claims[other] = d.Claims[id.Profile.DNClaim]
				delete(d.Claims, id.Profile.DNClaim)
				return nil
			},
			Expect: judge.Observe{},
		},
		{
			ID: "CLM-21", Title: "Unsupported grant type is rejected or substituted", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, grant_types enum; general rules (reject, or substitute and return)",
			Levels: All(MUST),
			Variants: []Variant{
				{Name: "implicit", Alter: setClaim("grant_types", []any{"implicit"})},
				{Name: "password", Alter: setClaim("grant_types", []any{"password"})},
			},
			Expect: judge.RejectOrSubstitute{Claims: []string{"grant_types"},
				Supported: func(p profile.Profile) []string { return p.GrantTypes }, Rejected: rejectMetadata},
		},
		{
			ID: "CLM-22", Title: "Unsupported response_types are rejected", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, response_types (ASPSP may reject unsupported); OBIE conformance-dcr DCR-011",
			Levels: Per("obie", SHOULD, "revolut", INFO),
			Alter:  setClaim("response_types", []any{"id_token", "token"}),
			Expect: rejectMetadata, ExpectBy: map[string]judge.Expectation{"revolut": judge.Observe{}},
		},
		{
			ID: "CLM-23", Title: "Unsupported application_type is rejected or substituted", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, application_type web|mobile (native only from v3.4); general rules",
			Levels: All(MUST),
			Variants: []Variant{
				{Name: "native", Title: "the v3.4 name", Alter: setClaim("application_type", "native")},
				{Name: "desktop", Alter: setClaim("application_type", "desktop")},
			},
			Expect: judge.RejectOrSubstitute{Claims: []string{"application_type"},
				Supported: func(p profile.Profile) []string { return p.ApplicationTypes }, Rejected: rejectMetadata},
		},
		{
			ID: "CLM-24", Title: "Weak id_token or request object algorithm is rejected or substituted", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary (algs as constrained by FAPI-RW: PS256/ES256); Revolut create-a-jwt (PS256)",
			Levels: All(MUST),
			Variants: []Variant{
				{Name: "id-token-rs256", Alter: setClaim("id_token_signed_response_alg", "RS256")},
				{Name: "id-token-none", Alter: setClaim("id_token_signed_response_alg", "none")},
				{Name: "request-object-rs256", Alter: setClaim("request_object_signing_alg", "RS256")},
				{Name: "request-object-none", Alter: setClaim("request_object_signing_alg", "none")},
			},
			Expect: judge.RejectOrSubstitute{Claims: []string{"id_token_signed_response_alg", "request_object_signing_alg"},
				Supported: func(p profile.Profile) []string { return p.ResponseAlgs }, Rejected: rejectMetadata},
		},
		{
			// OBIE does not require openid in a registration's scope.
			ID: "CLM-25", Title: "scope without openid is rejected", Group: GroupClaims,
			Ref:    "Revolut create-a-jwt (scope must contain openid)",
			Levels: Per("revolut", MUST),
			Alter: func(d *request.Draft, id *request.Identity) error {
				d.Claims["scope"] = id.Profile.EncodeScope([]string{"accounts"})
				return nil
			},
			Expect: judge.Rejected{},
		},
		{
			ID: "CLM-26", Title: "Unknown scope is rejected or dropped", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 general rules (reject, or substitute and return); Revolut create-a-jwt (scope values)",
			Levels: All(MUST),
			Variants: []Variant{
				{Name: "unknown", Title: "admin", Alter: addScope("admin")},
				{Name: "misspelt", Title: "fundsconfirmation", Alter: addScope("fundsconfirmation")},
			},
			Expect: judge.RejectOrSubstitute{Claims: []string{"scope"},
				Supported: func(p profile.Profile) []string { return p.Scopes }, Rejected: rejectMetadata},
		},
		{
			ID: "CLM-27", Title: "Scope beyond the SSA's software roles is rejected", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data mapping (requested scope within the SSA's roles)",
			Levels: All(SHOULD), Needs: []Capability{MintSSA},
			// payments stays in the requested scope while the SSA grants account information only.
			Alter: func(d *request.Draft, id *request.Identity) error {
				if !d.SetSSAClaim("software_roles", []any{"AISP"}) {
					return errSuppliedSSA
				}
				d.Claims["scope"] = id.Profile.EncodeScope([]string{"openid", "accounts", "payments"})
				return nil
			},
			Expect: rejectMetadata,
		},
		{
			ID: "CLM-28", Title: "scope in the other JSON encoding", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 (array) vs v3.2 (string); Revolut update 23 March 2026 (string)",
			Levels: All(INFO),
			Alter: func(d *request.Draft, id *request.Identity) error {
				if id.Profile.ScopeArray {
					d.Claims["scope"] = strings.Join(id.Scope, " ")
				} else {
					d.Claims["scope"] = request.StringsToAny(id.Scope)
				}
				return nil
			},
			Expect: judge.Observe{},
		},
		{
			// Revolut's request carries no software_id and its self-signed SSA none to compare with.
			ID: "CLM-29", Title: "software_id that differs from the SSA's is rejected", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, software_id (must equal the SSA's software_id)",
			Levels: Per("obie", MUST),
			Alter:  setClaim("software_id", "dcrconformOtherSW01"),
			Expect: judge.Rejected{RFCCodes: append([]string{profile.ErrInvalidSoftwareStatement}, metadataCodes...)},
		},
		{
			ID: "CLM-30", Title: "Unknown extra claims are tolerated", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 general rules (the ASPSP may ignore claims it cannot process)",
			Levels: All(MAY),
			Alter: func(d *request.Draft, _ *request.Identity) error {
				d.Claims["dcrconform_extra"] = "ignored"
				d.Claims["dcrconform_nested"] = map[string]any{"a": []any{1, "two", map[string]any{"three": true}}}
				return nil
			},
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.ClientID}},
		},
	}
}

func dropClaim(name string) Alter {
	return func(d *request.Draft, _ *request.Identity) error {
		delete(d.Claims, name)
		return nil
	}
}

func setClaim(name string, v any) Alter {
	return func(d *request.Draft, _ *request.Identity) error {
		d.Claims[name] = v
		return nil
	}
}

// badRedirect requests one redirect URI and, where the harness mints the SSA, lists it there
// too, so the case tests the rule about the URI itself, not the subset rule (CLM-13).
func badRedirect(uri string) Alter {
	return func(d *request.Draft, id *request.Identity) error {
		d.Claims["redirect_uris"] = []any{uri}
		d.SetSSAClaim(id.Profile.RedirectClaim, append(request.StringsToAny(id.RedirectURIs), uri))
		return nil
	}
}

func addScope(v string) Alter {
	return func(d *request.Draft, id *request.Identity) error {
		d.Claims["scope"] = id.Profile.EncodeScope(append(append([]string{}, id.Scope...), v))
		return nil
	}
}

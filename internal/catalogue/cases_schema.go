package catalogue

import (
	"github.com/dcrconform/dcrconform/internal/judge"
)

// schemaCases judge the shape of responses and what their members say: all but SCH-08 look at
// the one happy-path registration; SCH-08 provokes rejections. Error responses' media type is judged by every
// rejection case too (Rejected checks it), so SCH-01 needs only the success side.
func schemaCases() []*Case {
	return []*Case{
		{
			ID: "SCH-01", Title: "Registration response is application/json", Group: GroupSchema,
			Ref:    "RFC 7591 3.2.1 (application/json); OBIE DCR swagger responses",
			Levels: All(MUST), Share: ShareRegister,
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.JSONBody}},
		},
		{
			ID: "SCH-02", Title: "Registered values are within the profile's enums", Group: GroupSchema,
			Ref:    "OBIE DCR swagger 3.1.0/3.2/3.3 enums; FAPI 1 Advanced 8.6 (PS256, ES256); Revolut register-application (PS256, tls_client_auth)",
			Levels: All(MUST), Share: ShareRegister,
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.ProfileEnums}},
		},
		{
			ID: "SCH-03", Title: "redirect_uris is an array of https URIs", Group: GroupSchema,
			Ref:    "OBIE DCR v3.1 data dictionary, redirect_uris (https, no localhost, <=256)",
			Levels: All(MUST), Share: ShareRegister,
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.RedirectURIsShape}},
		},
		{
			// Revolut's own example answers grant_types [] to a request that sent none, so
			// under Revolut the shape is recorded, not asserted.
			ID: "SCH-04", Title: "grant_types is a non-empty array of known grant types", Group: GroupSchema,
			Ref:    "OBIE DCR swagger 3.2/3.3 grant_types (minItems 1, enum); Revolut register-application example",
			Levels: Per("revolut", INFO, "obie", MUST), Share: ShareRegister,
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.GrantTypesShape}},
		},
		{
			ID: "SCH-05", Title: "scope has the profile's shape and only requested values", Group: GroupSchema,
			Ref:    "OBIE DCR v3.1 (array) and v3.2 (string <=256) scope; Revolut create-a-jwt (openid required)",
			Levels: All(MUST), Share: ShareRegister,
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.ScopeShape}},
		},
		{
			ID: "SCH-06", Title: "DN claim is returned for tls_client_auth", Group: GroupSchema,
			Ref:    "OBIE DCR v3.1 tls_client_auth_dn / v3.2 tls_client_auth_subject_dn (iff tls_client_auth, <=128)",
			Levels: All(MUST), Share: ShareRegister,
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.DNShape}},
		},
		{
			ID: "SCH-07", Title: "No client secret for a tls_client_auth client", Group: GroupSchema,
			Ref:    "RFC 7591 3.2.1 (client_secret_expires_at required with a secret); OBIE DCR v3.1 client_secret",
			Levels: All(MUST), Share: ShareRegister,
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.SecretRules}},
		},
		{
			ID: "SCH-08", Title: "Rejections carry the profile's error body", Group: GroupSchema,
			Ref:    "RFC 7591 3.2.2; OBIE DCR swagger RegistrationError; Revolut OBErrorResponse1",
			Levels: All(MUST),
			Variants: []Variant{
				{Name: "expired", Title: "expired request JWT", Alter: expired},
				{Name: "bad-signature", Title: "request JWT with a bad signature", Alter: tamperedSignature},
			},
			Expect: judge.Rejected{},
		},
		{
			ID: "SCH-09", Title: "RFC 7592 management members come as a pair", Group: GroupSchema,
			Ref:    "RFC 7592 3 (registration_client_uri and registration_access_token returned together)",
			Levels: All(MUST), Share: ShareRegister,
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.RFC7592Pair}},
		},
		{
			ID: "SCH-10", Title: "The granted scope holds the required scopes", Group: GroupSchema,
			Ref:    "Revolut get-a-client-id (scope: openid required); create-a-jwt",
			Levels: Per("revolut", MUST), Share: ShareRegister,
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.ScopeCoversRequired}},
		},
		{
			// The only statement about these members beyond their JSON type is their unit: a
			// millisecond timestamp is still a JSON integer, so the schema alone would pass it.
			ID: "SCH-11", Title: "iat and exp are whole seconds since the epoch", Group: GroupSchema,
			Ref:    "Revolut register-application and get-a-client-id (iat, exp: seconds, Unix timestamp); OBIE DCR v3.1 data dictionary, iat (integer epoch seconds); RFC 7519 2 (NumericDate)",
			Levels: All(MUST), Share: ShareRegister,
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.EpochSeconds}},
		},
		{
			// iss, iat and exp describe "the JWT": the registration request. The response
			// carries the registered request's claims, so they come back as sent.
			ID: "SCH-12", Title: "iss, iat and exp are the request JWT's", Group: GroupSchema,
			Ref:    "Revolut register-application (iss: the principal that issued the JWT; iat: the time the JWT was issued; exp); OBIE DCR v3.1 (response carries the request's claims)",
			Levels: All(MUST), Share: ShareRegister,
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.Echoes("iss", "iat", "exp")}},
		},
		{
			ID: "SCH-13", Title: "org_jwks_endpoint is the software statement's JWKS URL", Group: GroupSchema,
			Ref:    "Revolut register-application (org_jwks_endpoint: where the TPP has uploaded its JWKS) and get-a-client-id (your JWKs endpoint); OBIE DCR v3.1 (SSA claims returned)",
			Levels: All(MUST), Share: ShareRegister,
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.JWKSEndpointFromSSA}},
		},
		{
			// Revolut returns org_jwks_endpoint alone of the statement's claims (SCH-13).
			ID: "SCH-14", Title: "The software statement's claims are returned as top-level members", Group: GroupSchema,
			Ref:    "OBIE DCR v3.1 (the response carries the SSA's claims flattened at the top level)",
			Levels: Per("obie", SHOULD), Share: ShareRegister,
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.SSAClaimsFlattened}},
		},
	}
}

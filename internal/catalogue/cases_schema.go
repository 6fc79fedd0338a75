package catalogue

import (
	"errors"

	"github.com/dcrconform/dcrconform/internal/judge"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/request"
)

func moreHappyCases() []*Case {
	return []*Case{
		{
			ID: "HP-05", Title: "A subset of the SSA's redirect URIs can be registered", Group: GroupHappy,
			Ref:    "OBIE DCR v3.1 data dictionary, redirect_uris (equal to or a subset of software_redirect_uris)",
			Levels: All(MUST),
			Alter: func(d *request.Draft, id *request.Identity) error {
				if len(id.RedirectURIs) == 0 {
					return errors.New("the identity has no redirect URIs")
				}
				d.Claims["redirect_uris"] = []any{id.RedirectURIs[0]}
				return nil
			},
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.ClientID, judge.Echoes("redirect_uris")}},
		},
		{
			ID: "HP-06", Title: "Scope values in another order are accepted", Group: GroupHappy,
			Ref:    "OIDF brazildcr-happy-flow-variant-2 (scope members in a different order); RFC 6749 3.3",
			Levels: All(SHOULD),
			Alter: func(d *request.Draft, id *request.Identity) error {
				values, _, ok := profile.DecodeScope(d.Claims["scope"])
				if !ok {
					return errors.New("the happy-path scope is neither a string nor an array")
				}
				for i, j := 0, len(values)-1; i < j; i, j = i+1, j-1 {
					values[i], values[j] = values[j], values[i]
				}
				d.Claims["scope"] = id.Profile.EncodeScope(values)
				return nil
			},
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.ClientID, judge.Echoes("scope")}},
		},
		{
			// Revolut allows several applications per transport certificate. The engine sends
			// one built request twice; Revolut does not use jti, so without one the second send
			// is a second registration, not a replay. OBIE requires jti, so there the same two
			// sends would measure replay detection (CLM-11) instead; the case is Revolut's only.
			ID: "HP-07", Title: "A second registration with the same SSA gets its own client", Group: GroupHappy,
			Ref:    "Revolut FAQs and get-a-client-id (several applications per certificate; client_id at /token)",
			Levels: Per("revolut", MUST),
			Sends:  2,
			Alter: func(d *request.Draft, id *request.Identity) error {
				if id.Profile.RequireJTI {
					return errors.New("the profile requires jti, so an identical second request is a replay")
				}
				delete(d.Claims, "jti")
				return nil
			},
			Expect: judge.DistinctClients{},
		},
		{
			ID: "HP-08", Title: "response_types may be omitted", Group: GroupHappy,
			Ref:    "OBIE DCR v3.1 data dictionary, response_types (0..*, default code id_token)",
			Levels: Per("obie", SHOULD),
			Alter: func(d *request.Draft, _ *request.Identity) error {
				delete(d.Claims, "response_types")
				return nil
			},
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.ClientID, judge.ResponseTypesDefault}},
		},
	}
}

// schemaCases judge the shape of responses. SCH-01 to SCH-07 look at the one happy-path
// registration; SCH-08 provokes rejections. Error responses' media type is judged by every
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
	}
}

package catalogue

import (
	"errors"

	"github.com/dcrconform/dcrconform/internal/judge"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/request"
)

// happyCases register valid clients: HP-01 to HP-03 judge the one shared happy-path
// registration, the others register variations a conformant bank must (or should) accept.
// HP-04, the token for the new client, is the first step of the lifecycle (cases_manage.go).
func happyCases() []*Case {
	return []*Case{
		{
			ID: "HP-01", Title: "Register a valid client", Group: GroupHappy,
			Ref:    "OBIE DCR v3.1 POST /register; Revolut register-application (200)",
			Levels: All(MUST), Share: ShareRegister,
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.JSONBody, judge.SchemaValid, judge.ClientID}},
		},
		{
			ID: "HP-02", Title: "Registered metadata is echoed", Group: GroupHappy,
			Ref:    "OBIE DCR v3.1 general rules (response carries the registered metadata)",
			Levels: All(MUST), Share: ShareRegister,
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.Echoes("redirect_uris", "dn", "token_endpoint_auth_method",
				"id_token_signed_response_alg", "request_object_signing_alg", "scope", "application_type")}},
		},
		{
			ID: "HP-03", Title: "Software statement returned unmodified", Group: GroupHappy,
			Ref:    "RFC 7591 3.2.1",
			Levels: All(MUST), Share: ShareRegister,
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.SSAUnchanged}},
		},
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

package catalogue

import (
	"errors"
	"time"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/judge"
	"github.com/dcrconform/dcrconform/internal/request"
)

// ShareRegister is the happy-path registration that the happy-path and schema cases judge
// together, so a real bank gets one throwaway client for all of them.
const ShareRegister = "register"

// Revolut documents one POST /register error: an unreachable JWKS gives 400 with this code.
const revolutJWKSErrorCode = "UK.OBIE.Field.Invalid"

// Default returns the built-in catalogue.
func Default() *Catalogue {
	var cases []*Case
	groups := [][]*Case{
		transportCases(), happyCases(), moreHappyCases(), schemaCases(),
		jwsCases(), moreJWSCases(), claimCases(), moreClaimCases(), ssaCases(), httpCases(), manageCases(),
	}
	for _, group := range groups {
		cases = append(cases, group...)
	}
	return &Catalogue{Cases: cases}
}

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
	}
}

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
			ID: "JWS-05", Title: "Request JWT with a bad signature is rejected", Group: GroupJWS,
			Ref:    "OB Directory SSA spec, request validation (RP signed by a key in the SSA's JWKS)",
			Levels: All(MUST),
			Alter:  tamperedSignature,
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
	}
}

func claimCases() []*Case {
	return []*Case{
		{
			ID: "CLM-01", Title: "Expired request JWT is rejected", Group: GroupClaims,
			Ref:    "OBIE DCR v3.1 data dictionary, exp (ASPSP must reject when now > exp); RFC 7519 4.1.4",
			Levels: All(MUST),
			Alter:  expired,
			Expect: judge.Rejected{},
		},
	}
}

// The alterations below serve more than one case: a case and a variant that send the same
// request share the one builder, so the two cannot drift apart.

// expired makes the request JWT an hour past its exp, issued an hour before that.
func expired(d *request.Draft, _ *request.Identity) error {
	now := time.Now()
	d.Claims["iat"] = now.Add(-2 * time.Hour).Unix()
	d.Claims["exp"] = now.Add(-time.Hour).Unix()
	return nil
}

// tamperedSignature flips one bit of the request JWT's signature after signing.
func tamperedSignature(d *request.Draft, _ *request.Identity) error {
	d.AfterSign = jose.TamperSignature
	return nil
}

// dropDNClaim leaves out the certificate DN claim under the name the profile uses for it.
func dropDNClaim(d *request.Draft, id *request.Identity) error {
	delete(d.Claims, id.Profile.DNClaim)
	return nil
}

// omitSSA sends the request JWT without a software_statement claim.
func omitSSA(d *request.Draft, _ *request.Identity) error {
	d.OmitSSA = true
	return nil
}

// jwksURL points the minted SSA's JWKS claim at the probe URL pick chooses; a supplied SSA
// cannot be changed, so the case cannot run with one.
func jwksURL(pick func(request.Probes) string) Alter {
	return func(d *request.Draft, id *request.Identity) error {
		if !d.SetSSAClaim(id.Profile.JWKSClaim, pick(id.Probes)) {
			return errors.New("the SSA is supplied, so its JWKS URL cannot be changed")
		}
		return nil
	}
}

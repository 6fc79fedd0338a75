package catalogue

import (
	"errors"
	"time"

	"github.com/dcrconform/dcrconform/internal/jose"
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
	// One function per group, in report order; each lives in its own cases_<group>.go file.
	groups := [][]*Case{
		transportCases(), happyCases(), schemaCases(), jwsCases(), claimCases(), ssaCases(), httpCases(), manageCases(),
	}
	for _, group := range groups {
		cases = append(cases, group...)
	}
	return &Catalogue{Cases: cases}
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

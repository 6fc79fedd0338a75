package catalogue

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/judge"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/request"
)

var errSuppliedSSA = errors.New("the SSA is supplied, so its claims cannot be changed")

// ssaCodes are the RFC 7591 codes for a software statement the bank cannot accept.
var ssaCodes = []string{profile.ErrInvalidSoftwareStatement, profile.ErrUnapprovedSoftwareStatement}

// SSA-11 (JWKS URL off the directory's host) is not here: the embedded directory is a signing key
// with no keystore host, so an "off-directory" URL cannot be told from the harness's own.

func ssaCases() []*Case {
	rejectSSA := judge.Rejected{RFCCodes: ssaCodes}
	return []*Case{
		{
			ID: "SSA-01", Title: "Request without a software statement is rejected", Group: GroupSSA,
			Ref:    "OBIE DCR v3.1 data dictionary, software_statement 1..1; OIDF brazil-dcr-no-software-statement",
			Levels: All(MUST),
			Alter:  omitSSA,
			Expect: judge.Rejected{RFCCodes: []string{profile.ErrInvalidSoftwareStatement, profile.ErrInvalidClientMetadata}},
		},
		{
			ID: "SSA-02", Title: "Malformed software statement is rejected", Group: GroupSSA,
			Ref:    "OB Directory SSA spec, request validation (SSA validated per RFC 7519)",
			Levels: All(MUST),
			Variants: []Variant{
				{Name: "garbage", Title: "not a JWT", Alter: func(d *request.Draft, _ *request.Identity) error {
					s := "not-a-software-statement"
					d.SSA = &s
					return nil
				}},
				{Name: "bad-base64", Title: "segments that are not base64url", Alter: func(d *request.Draft, _ *request.Identity) error {
					s := "eyJhbGciOiJQUzI1NiJ9.%%%not*base64%%%.c2ln"
					d.SSA = &s
					return nil
				}},
				// Two segments is the unsecured form; with a signing alg in the header it is a
				// signed statement whose signature was cut off.
				{Name: "two-segments", Title: "signed alg, signature segment missing", Alter: func(d *request.Draft, _ *request.Identity) error {
					return rewriteSSA(d, func(ssa string) (string, error) {
						parts := strings.Split(ssa, ".")
						h, err := json.Marshal(map[string]any{"alg": "PS256", "typ": "JWT"})
						if err != nil || len(parts) < 2 {
							return "", errors.New("the SSA is not a JWS")
						}
						return base64.RawURLEncoding.EncodeToString(h) + "." + parts[1], nil
					})
				}},
			},
			Expect: rejectSSA,
		},
		{
			ID: "SSA-03", Title: "Software statement with a bad signature is rejected", Group: GroupSSA,
			Ref:    "OB Directory SSA spec, request validation; OIDF brazil-dcr-invalid-software-statement-signature",
			Levels: Per("obie", MUST),
			Alter: func(d *request.Draft, _ *request.Identity) error {
				return rewriteSSA(d, jose.TamperSignature)
			},
			Expect: rejectSSA,
		},
		{
			ID: "SSA-04", Title: "Software statement signed by a key the directory does not publish is rejected", Group: GroupSSA,
			Ref:    "OB Directory SSA spec, request validation (signature checked against the directory keystore)",
			Levels: All(MUST), Needs: []Capability{MintSSA},
			Alter: func(d *request.Draft, id *request.Identity) error {
				return signSSAWithForeign(d, id, "")
			},
			Expect: rejectSSA,
		},
		{
			ID: "SSA-05", Title: "Software statement from an untrusted issuer is rejected", Group: GroupSSA,
			Ref:    "OBIE DCR v3.1 (ASPSP publishes the issuers it trusts); RFC 7591 3.1.1",
			Levels: All(MUST), Needs: []Capability{MintSSA},
			Alter: func(d *request.Draft, id *request.Identity) error {
				return signSSAWithForeign(d, id, "dcrconform Untrusted Directory")
			},
			Expect: rejectSSA,
		},
		{
			ID: "SSA-06", Title: "Unsigned (alg none) software statement", Group: GroupSSA,
			Ref:    "OBIE DCR v3.1 (ASPSP states whether it accepts self-signed SSAs); Revolut get-the-software-statement (eIDAS: alg none)",
			Levels: All(MUST), Needs: []Capability{MintSSA},
			Alter: func(d *request.Draft, _ *request.Identity) error {
				if d.SSA != nil {
					return errSuppliedSSA
				}
				d.SSAHeader = jose.Header{"alg": "none"}
				d.SSAAlg, d.SSAKey = "none", nil
				return nil
			},
			Expect:   rejectSSA,
			ExpectBy: map[string]judge.Expectation{"revolut": judge.Success{Checks: []judge.BodyCheck{judge.ClientID}}},
		},
		{
			ID: "SSA-07", Title: "Stale software statement (iat 30 days ago) is rejected", Group: GroupSSA,
			Ref:    "OB Directory SSA spec, SSA lifetime (ASPSP picks a window on iat)",
			Levels: All(SHOULD), Needs: []Capability{MintSSA},
			Alter: func(d *request.Draft, _ *request.Identity) error {
				return setSSAClaims(d, "iat", time.Now().Add(-30*24*time.Hour).Unix())
			},
			Expect: rejectSSA,
		},
		{
			ID: "SSA-08", Title: "Expired software statement is rejected", Group: GroupSSA,
			Ref:    "OB Directory SSA spec, request validation (validity window per RFC 7519); RFC 7519 4.1.4",
			Levels: All(MUST), Needs: []Capability{MintSSA},
			Alter: func(d *request.Draft, _ *request.Identity) error {
				now := time.Now()
				return setSSAClaims(d, "iat", now.Add(-2*time.Hour).Unix(), "exp", now.Add(-time.Hour).Unix())
			},
			Expect: rejectSSA,
		},
		{
			ID: "SSA-09", Title: "Software statement issued in the future is rejected", Group: GroupSSA,
			Ref:    "RFC 7519 4.1.6 (iat); OB Directory SSA spec, request validation",
			Levels: All(SHOULD), Needs: []Capability{MintSSA},
			Alter: func(d *request.Draft, _ *request.Identity) error {
				return setSSAClaims(d, "iat", time.Now().Add(time.Hour).Unix())
			},
			Expect: rejectSSA,
		},
		{
			ID: "SSA-10", Title: "Software of an organisation that is not Active is rejected", Group: GroupSSA,
			Ref:    "OB Directory SSA spec, org_status (Active|Revoked|Withdrawn)",
			Levels: All(SHOULD), Needs: []Capability{MintSSA},
			Variants: []Variant{
				{Name: "revoked", Alter: func(d *request.Draft, _ *request.Identity) error { return setSSAClaims(d, "org_status", "Revoked") }},
				{Name: "withdrawn", Alter: func(d *request.Draft, _ *request.Identity) error { return setSSAClaims(d, "org_status", "Withdrawn") }},
			},
			Expect: rejectSSA,
		},
		{
			ID: "SSA-12", Title: "Software statement without a JWKS URL is rejected", Group: GroupSSA,
			Ref:    "Revolut get-the-software-statement (org_jwks_endpoint required); OB Directory SSA spec (RP verified against the SSA's JWKS)",
			Levels: All(MUST), Needs: []Capability{MintSSA},
			// Both JWKS claims go: a bank that falls back from one to the other still has a key set.
			Alter: func(d *request.Draft, _ *request.Identity) error {
				if d.SSA != nil || d.SSAClaims == nil {
					return errSuppliedSSA
				}
				delete(d.SSAClaims, "software_jwks_endpoint")
				delete(d.SSAClaims, "org_jwks_endpoint")
				return nil
			},
			Expect: rejectSSA,
		},
		{
			ID: "SSA-13", Title: "Software statement values take precedence over the request's", Group: GroupSSA,
			Ref:    "RFC 7591 2.3 and 3.1.1 (software statement values MUST take precedence); OBIE DCR v3.1 (SSA claims returned)",
			Levels: Per("obie", MUST, "revolut", INFO), Needs: []Capability{MintSSA},
			Alter: func(d *request.Draft, _ *request.Identity) error {
				d.Claims["software_client_name"] = "dcrconform contradicting name"
				return nil
			},
			Expect: judge.Success{Checks: []judge.BodyCheck{judge.SSAPrecedence("software_client_name")}},
		},
	}
}

// rewriteSSA changes the software statement as sent: a supplied one at once, a minted one after
// it is signed.
func rewriteSSA(d *request.Draft, fn func(string) (string, error)) error {
	if d.SSA != nil {
		s, err := fn(*d.SSA)
		if err != nil {
			return err
		}
		d.SSA = &s
		return nil
	}
	prev := d.AfterSSA
	d.AfterSSA = func(ssa string) (string, error) {
		if prev != nil {
			var err error
			if ssa, err = prev(ssa); err != nil {
				return "", err
			}
		}
		return fn(ssa)
	}
	return nil
}

// signSSAWithForeign signs the minted statement PS256 with the foreign key, a key no directory
// publishes, optionally naming another issuer.
func signSSAWithForeign(d *request.Draft, id *request.Identity, iss string) error {
	if d.SSA != nil || d.SSAClaims == nil {
		return errSuppliedSSA
	}
	if id.Foreign.Key == nil {
		return errors.New("no foreign signing key is available")
	}
	d.SSAHeader = jose.Header{"alg": "PS256", "typ": "JWT", "kid": id.Foreign.Kid}
	d.SSAAlg, d.SSAKey = "PS256", id.Foreign.Key
	if iss != "" {
		d.SSAClaims["iss"] = iss
	}
	return nil
}

func setSSAClaims(d *request.Draft, pairs ...any) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if !d.SetSSAClaim(pairs[i].(string), pairs[i+1]) {
			return errSuppliedSSA
		}
	}
	return nil
}

package judge

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/profile"
)

// MissingClaim expects the rejection of a request that lacks a claim the profile requires. The
// RFC 7591 code depends on what is missing, so it is read from the request as sent: a missing
// software statement is an SSA problem, missing redirect URIs may be reported as a redirect
// problem, anything else is bad client metadata.
type MissingClaim struct{}

// Judge implements Expectation.
func (MissingClaim) Judge(c *Context) Judgement {
	ex := c.Last()
	var missing []string
	for _, name := range c.Profile.RequiredClaims {
		if _, ok := ex.Request.JWTClaims[name]; !ok {
			missing = append(missing, name)
		}
	}
	j := Rejected{RFCCodes: missingClaimCodes(missing)}.Judge(c)
	if len(missing) == 0 {
		j.add("claim left out", false, "a request lacking a required claim", "every required claim was sent")
	}
	return j
}

// Describe implements Expectation.
func (MissingClaim) Describe(p profile.Profile) string {
	if p.ErrorFormat == profile.RFC7591 {
		return "rejected with 400 and invalid_client_metadata (invalid_software_statement for a missing SSA; invalid_redirect_uri also accepted for missing redirect_uris)"
	}
	return Rejected{}.Describe(p)
}

func missingClaimCodes(missing []string) []string {
	switch {
	case contains(missing, "software_statement"):
		return []string{profile.ErrInvalidSoftwareStatement, profile.ErrInvalidClientMetadata}
	case contains(missing, "redirect_uris"):
		return []string{profile.ErrInvalidRedirectURI, profile.ErrInvalidClientMetadata}
	}
	return []string{profile.ErrInvalidClientMetadata}
}

// RejectOrSubstitute expects what OBIE's general rules allow for an unsupported metadata value:
// a rejection, or a registration that replaces the value with a supported one and returns it.
// The observation says which the target chose.
type RejectOrSubstitute struct {
	// Claims are the request claims judged; each may be a string, an array or a scope.
	Claims []string
	// Supported gives the values a registration may carry for them under the profile.
	Supported func(p profile.Profile) []string
	// Rejected judges the refusal.
	Rejected Rejected
}

// Judge implements Expectation.
func (e RejectOrSubstitute) Judge(c *Context) Judgement {
	ex := c.Last()
	if ex.Response == nil || ex.Response.Status < 200 || ex.Response.Status > 299 {
		j := e.Rejected.Judge(c)
		if ex.Response != nil {
			j.Observation = "rejected: " + j.Observation
		}
		return j
	}
	var j Judgement
	status(&j, ex, c.Profile.SuccessStatus)
	supported := e.Supported(c.Profile)
	b := body(ex)
	var notes []string
	for _, name := range e.Claims {
		sent, _ := claimValues(name, ex.Request.JWTClaims[name])
		unsupported := outside(sent, supported)
		got, present := b[name]
		if !present {
			if len(unsupported) > 0 {
				j.add("substituted "+name, false, "the supported value used in place of "+strings.Join(unsupported, ", "), "not returned")
				notes = append(notes, name+" not returned")
			}
			continue
		}
		vals, ok := claimValues(name, got)
		bad := outside(vals, supported)
		j.add("substituted "+name, ok && len(bad) == 0, "only values among "+strings.Join(supported, ", "),
			map[bool]string{true: "supported values", false: "unsupported " + strings.Join(orNone(bad), ", ")}[ok && len(bad) == 0])
		if len(bad) > 0 {
			notes = append(notes, fmt.Sprintf("kept %s %s", name, strings.Join(bad, " ")))
		} else if len(unsupported) > 0 {
			notes = append(notes, fmt.Sprintf("substituted %s %s", name, strings.Join(vals, " ")))
		}
	}
	j.Observation = fmt.Sprintf("registered: %d", ex.Response.Status)
	if len(notes) > 0 {
		j.Observation += "; " + strings.Join(notes, "; ")
	}
	return j
}

// Describe implements Expectation.
func (e RejectOrSubstitute) Describe(p profile.Profile) string {
	return e.Rejected.Describe(p) + "; or registered with " + strings.Join(e.Claims, ", ") +
		" returned holding only " + strings.Join(e.Supported(p), ", ")
}

// claimValues reads a claim as a list of strings: a scope in either encoding, an array of
// strings, or one string. ok is false for anything else.
func claimValues(name string, v any) ([]string, bool) {
	if name == "scope" {
		vals, _, ok := profile.DecodeScope(v)
		return vals, ok
	}
	switch x := v.(type) {
	case string:
		return []string{x}, true
	case []any:
		var out []string
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return out, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, v == nil
}

func outside(vals, allowed []string) []string {
	var out []string
	for _, v := range vals {
		if !contains(allowed, v) {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// ReplayRejected expects a request sent twice, unchanged, to be registered once and refused the
// second time: the jti has been seen (RFC 7519 4.1.7). A first send that is refused makes the
// case say nothing about replay, and is reported as such.
type ReplayRejected struct {
	Rejected Rejected
}

// Judge implements Expectation.
func (e ReplayRejected) Judge(c *Context) Judgement {
	if len(c.Exchanges) < 2 {
		var j Judgement
		j.add("sends", false, "the request sent twice", fmt.Sprintf("%d send", len(c.Exchanges)))
		return j
	}
	first := c.Exchanges[0]
	j := e.Rejected.Judge(c)
	ok := first.Response != nil && first.Response.Status >= 200 && first.Response.Status < 300
	actual := "registered"
	if !ok {
		actual = observeRejection(c, first)
	}
	j.Checks = append([]Check{{Name: "first send", OK: ok, Expected: "registered", Actual: actual}}, j.Checks...)
	j.Observation = "replay " + j.Observation
	return j
}

// Describe implements Expectation.
func (e ReplayRejected) Describe(p profile.Profile) string {
	return "first send registered; the identical second send " + e.Rejected.Describe(p)
}

// SSAPrecedence checks that where the response carries a claim that both the software statement
// and the request set, it holds the statement's value (RFC 7591 3.1.1: statement values take
// precedence over plain JSON ones).
func SSAPrecedence(claim string) BodyCheck {
	return BodyCheck{Name: "ssa precedence", Says: claim + ", if returned, holds the software statement's value",
		Fn: func(_ *Context, sent client.RecordedRequest, b map[string]any, j *Judgement) {
			want, inSSA := sent.SSAClaims[claim]
			if !inSSA {
				j.add(claim, false, "a software statement carrying "+claim, "the statement does not carry it")
				return
			}
			got, present := b[claim]
			ok := !present || sameValue(claim, want, got)
			actual := "the statement's value"
			switch {
			case !present:
				actual = "not returned"
			case !ok && sameValue(claim, sent.JWTClaims[claim], got):
				actual = "the request's value"
			case !ok:
				actual = "another value"
			}
			j.add(claim, ok, "the software statement's value", actual)
		}}
}

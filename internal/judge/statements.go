package judge

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/dcrconform/dcrconform/internal/client"
)

// The checks in this file exist because a documented statement about a response member said
// more than its JSON type: a unit (seconds since the epoch), or a relation to what the request
// or its software statement carried. docs/STATEMENTS.md maps each statement to its check.

// Seconds since the epoch between 2001-09-09 and 2286-11-20 have ten digits; a millisecond
// timestamp of today has thirteen, so the bounds tell the two units apart for any date a
// registration can carry.
const (
	minEpochSeconds = 1e9
	maxEpochSeconds = 1e10
)

// epochMembers are the response members documented as times in seconds since the epoch: iat and
// exp (Revolut register-application, OBIE v3.1 data dictionary) and client_id_issued_at (OBIE
// swagger). client_secret_expires_at is left out: 0 is its documented "never".
var epochMembers = []string{"iat", "exp", "client_id_issued_at"}

// EpochSeconds checks that the time members of a registration response, when returned, are
// whole numbers of seconds since the epoch (not milliseconds, not strings), and that iat comes
// before exp.
var EpochSeconds = BodyCheck{Name: "epoch seconds", Says: "iat, exp and client_id_issued_at, when returned, whole seconds since the epoch; iat before exp",
	Fn: func(_ *Context, _ client.RecordedRequest, b map[string]any, j *Judgement) {
		times := map[string]float64{}
		for _, name := range epochMembers {
			v, present := b[name]
			if !present {
				continue
			}
			n, isNumber := v.(float64)
			problem := ""
			switch {
			case !isNumber:
				problem = "not a JSON number"
			case n != math.Trunc(n):
				problem = "not a whole number"
			case n >= maxEpochSeconds:
				problem = fmt.Sprintf("%.0f digits: milliseconds or later, not seconds", math.Floor(math.Log10(n))+1)
			case n < minEpochSeconds:
				problem = "before 2001: not seconds since the epoch"
			default:
				times[name] = n
			}
			j.add(name+" unit", problem == "", "whole seconds since the epoch (10 digits)", orOK(problem))
		}
		iat, hasIat := times["iat"]
		exp, hasExp := times["exp"]
		if hasIat && hasExp {
			j.add("iat before exp", iat < exp, "iat earlier than exp", map[bool]string{true: "earlier", false: "not earlier"}[iat < exp])
		}
	}}

// JWKSEndpointFromSSA checks that org_jwks_endpoint, when the response carries it, is the JWKS
// URL of the software statement the request carried (Revolut: "Your JWKs endpoint", the URI
// where the TPP has uploaded its JWKS; OBIE: the statement's claim, returned flattened).
var JWKSEndpointFromSSA = BodyCheck{Name: "org_jwks_endpoint", Says: "org_jwks_endpoint, when returned, the software statement's JWKS URL",
	Fn: func(c *Context, sent client.RecordedRequest, b map[string]any, j *Judgement) {
		got, present := b["org_jwks_endpoint"]
		if !present {
			return
		}
		want, _ := sent.SSAClaims["org_jwks_endpoint"].(string)
		if want == "" {
			want, _ = sent.SSAClaims[c.Profile.JWKSClaim].(string)
		}
		if want == "" {
			j.add("org_jwks_endpoint", false, "a software statement naming its JWKS URL", "the statement sent names none")
			return
		}
		s, _ := got.(string)
		actual := "the statement's URL"
		if s != want {
			actual = "another value"
		}
		j.add("org_jwks_endpoint", s == want, "the software statement's JWKS URL", actual)
	}}

// statementOwn are the JWT claims about a software statement itself (issuer, times, id); they
// say nothing about the client, and the request's own iss, iat and exp take those names in the
// response.
var statementOwn = map[string]bool{"iss": true, "iat": true, "exp": true, "jti": true}

// SSAClaimsFlattened checks OBIE's response rule: the software statement's claims come back as
// top-level members of the registration response, each with the statement's value (which also
// takes precedence over a request value, RFC 7591 3.1.1).
var SSAClaimsFlattened = BodyCheck{Name: "SSA claims", Says: "every software statement claim (but its iss, iat, exp, jti) returned top-level with the statement's value",
	Fn: func(_ *Context, sent client.RecordedRequest, b map[string]any, j *Judgement) {
		if len(sent.SSAClaims) == 0 {
			j.add("SSA claims", false, "a software statement with claims", "the statement sent could not be read")
			return
		}
		var missing, different []string
		for name, want := range sent.SSAClaims {
			if statementOwn[name] {
				continue
			}
			got, present := b[name]
			switch {
			case !present:
				missing = append(missing, name)
			case !sameValue(name, want, got):
				different = append(different, name)
			}
		}
		sort.Strings(missing)
		sort.Strings(different)
		actual := "all returned"
		switch {
		case len(missing) > 0:
			actual = "missing " + strings.Join(missing, ", ")
		case len(different) > 0:
			actual = "other values for " + strings.Join(different, ", ")
		}
		j.add("SSA claims", len(missing)+len(different) == 0, "each returned with the statement's value", actual)
	}}

package judge

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/profile"
)

// Expectations of the registration lifecycle: the token endpoint and GET, PUT and DELETE
// /register/{ClientId}.

// TokenIssued expects a client_credentials token for the registered client: 200, JSON, a
// non-empty access_token and token_type Bearer.
type TokenIssued struct{}

// Judge implements Expectation.
func (TokenIssued) Judge(c *Context) Judgement {
	var j Judgement
	ex := c.Last()
	if !answered(&j, c, ex, "200 token response") {
		return j
	}
	if !status(&j, ex, http.StatusOK) {
		return j
	}
	jsonType(&j, ex)
	j.add("access_token", ex.Secret("access_token") != "", "a non-empty access_token", map[bool]string{true: "issued", false: "none"}[ex.Secret("access_token") != ""])
	tt, _ := body(ex)["token_type"].(string)
	j.add("token_type", strings.EqualFold(tt, "Bearer"), "Bearer", quoteOrNone(tt))
	j.Observation = "token issued"
	return j
}

// Describe implements Expectation.
func (TokenIssued) Describe(profile.Profile) string {
	return "200 JSON token response with an access_token of token_type Bearer"
}

// ClientRead expects GET /register/{ClientId} to return the client as registered: 200, JSON,
// the client_id asked for, the redirect_uris the control registration was granted, and a body
// valid against the profile's registration response schema.
type ClientRead struct{}

// Judge implements Expectation.
func (ClientRead) Judge(c *Context) Judgement {
	var j Judgement
	ex := c.Last()
	if !answered(&j, c, ex, "200 and the registered client") {
		return j
	}
	if !status(&j, ex, http.StatusOK) {
		return j
	}
	jsonType(&j, ex)
	b := body(ex)
	asked := lastPathSegment(ex.Request.URL)
	got, _ := b["client_id"].(string)
	j.add("client_id", got != "" && got == asked, "the client_id asked for", map[bool]string{true: "the same", false: "another or none"}[got != "" && got == asked])
	if c.Control != nil && c.Control.Exchange != nil {
		want := stringSet(body(c.Control.Exchange)["redirect_uris"])
		have := stringSet(b["redirect_uris"])
		j.add("redirect_uris", want != "" && want == have, "the redirect_uris registered", map[bool]string{true: "the same", false: "different"}[want != "" && want == have])
	}
	for _, f := range c.Contract.ValidateClient(ex.Response.Body) {
		name := "schema"
		if f.Pointer != "" {
			name += " " + f.Pointer
		}
		j.add(name, false, "valid against "+c.Profile.Spec, f.Rule)
	}
	j.Observation = "read the registered client"
	return j
}

// Describe implements Expectation.
func (ClientRead) Describe(p profile.Profile) string {
	return "200 JSON with the client_id asked for and the registered redirect_uris, valid against " + p.Spec
}

// Unauthorized expects 401 with a Bearer challenge (RFC 6750 3): what a management call without
// a valid token must get.
type Unauthorized struct{}

// Judge implements Expectation.
func (Unauthorized) Judge(c *Context) Judgement {
	var j Judgement
	ex := c.Last()
	if !answered(&j, c, ex, "401") {
		return j
	}
	status(&j, ex, http.StatusUnauthorized)
	challenge := ex.Response.Header.Get("WWW-Authenticate")
	j.add("WWW-Authenticate", strings.HasPrefix(strings.ToLower(strings.TrimSpace(challenge)), "bearer"), "a Bearer challenge", quoteOrNone(challenge))
	return j
}

// Describe implements Expectation.
func (Unauthorized) Describe(profile.Profile) string {
	return "401 with a WWW-Authenticate: Bearer challenge"
}

// Forbidden expects a second client's registration to be closed to the first client's token:
// the case registers a second client, then reads it with the first's token. 403; under
// Revolut an OBErrorResponse1 with UK.OBIE.Resource.Forbidden.
type Forbidden struct{}

// Judge implements Expectation.
func (Forbidden) Judge(c *Context) Judgement {
	var j Judgement
	if len(c.Exchanges) < 2 || c.Exchanges[0].Response == nil || c.Exchanges[0].Response.Status/100 != 2 {
		j.Inconclusive = "the second client this case needs could not be registered"
		if len(c.Exchanges) > 0 {
			j.Inconclusive += " (" + Answer(c.Profile, c.Exchanges[0]) + ")"
		}
		return j
	}
	ex := c.Last()
	if !answered(&j, c, ex, "403") {
		return j
	}
	status(&j, ex, http.StatusForbidden)
	if c.Profile.ErrorFormat == profile.OBErrorResponse1 {
		codes, _ := errorCodes(c.Profile, body(ex))
		j.add("ErrorCode", contains(codes, "UK.OBIE.Resource.Forbidden"), "UK.OBIE.Resource.Forbidden", strings.Join(orNone(codes), ", "))
	}
	return j
}

// Describe implements Expectation.
func (Forbidden) Describe(p profile.Profile) string {
	if p.ErrorFormat == profile.OBErrorResponse1 {
		return "403 with ErrorCode UK.OBIE.Resource.Forbidden for another client's registration"
	}
	return "403 for another client's registration"
}

// UnknownClient expects an unknown ClientId to be answered 401, never 404 (which would tell a
// caller which ids exist); with Revokes (OBIE), the token used is revoked at once, so the next
// call with it is 401 too. The case gets a token of its own first, so the revocation cannot
// hurt the steps after it.
type UnknownClient struct {
	Revokes bool
}

// Judge implements Expectation.
func (e UnknownClient) Judge(c *Context) Judgement {
	var j Judgement
	if len(c.Exchanges) < 2 || c.Exchanges[0].Secret("access_token") == "" {
		j.Inconclusive = "no token for the probe"
		if len(c.Exchanges) > 0 {
			j.Inconclusive += " (" + Answer(c.Profile, c.Exchanges[0]) + ")"
		}
		return j
	}
	probe := c.Exchanges[1]
	if !answered(&j, c, probe, "401") {
		return j
	}
	allowed := []int{http.StatusUnauthorized}
	if !e.Revokes {
		allowed = append(allowed, http.StatusForbidden)
	}
	status(&j, probe, allowed...)
	if e.Revokes {
		if len(c.Exchanges) < 3 || c.Exchanges[2].Response == nil {
			j.add("token revoked", false, "the next call with the token answered 401", "no answer")
			return j
		}
		st := c.Exchanges[2].Response.Status
		j.add("token revoked", st == http.StatusUnauthorized, "the next call with the token answered 401", fmt.Sprint(st))
	}
	return j
}

// Describe implements Expectation.
func (e UnknownClient) Describe(profile.Profile) string {
	if e.Revokes {
		return "401 for an unknown ClientId (never 404), and the token revoked: its next use is 401"
	}
	return "401 or 403 for an unknown ClientId, never 404"
}

// Updated expects PUT /register/{ClientId} to take effect: the PUT (the first call) answered
// 200 with the new redirect_uris, and the GET after it (the last call) shows them.
type Updated struct{}

// Judge implements Expectation.
func (Updated) Judge(c *Context) Judgement {
	var j Judgement
	put := c.Exchanges[0]
	if !answered(&j, c, put, "200") {
		return j
	}
	if !status(&j, put, http.StatusOK) {
		return j
	}
	want := stringSet(put.Request.JWTClaims["redirect_uris"])
	have := stringSet(body(put)["redirect_uris"])
	j.add("PUT redirect_uris", want != "" && want == have, "the redirect_uris sent", map[bool]string{true: "the same", false: "not the ones sent"}[want != "" && want == have])
	if len(c.Exchanges) < 2 {
		return j
	}
	get := c.Last()
	if get.Response == nil || get.Response.Status != http.StatusOK {
		j.add("GET after PUT", false, "200", Answer(c.Profile, get))
		return j
	}
	have = stringSet(body(get)["redirect_uris"])
	j.add("GET after PUT", want == have, "the updated redirect_uris", map[bool]string{true: "updated", false: "the old ones"}[want == have])
	j.Observation = "updated"
	return j
}

// Describe implements Expectation.
func (Updated) Describe(profile.Profile) string {
	return "PUT answered 200 with the new redirect_uris, and GET shows them"
}

// StatusOnly expects one of the statuses and judges nothing else: a call whose answer has no
// body to speak of (DELETE's 204) or whose body another case judges.
type StatusOnly struct {
	Statuses []int
}

// Judge implements Expectation.
func (e StatusOnly) Judge(c *Context) Judgement {
	var j Judgement
	ex := c.Last()
	if !answered(&j, c, ex, statusList(e.Statuses)) {
		return j
	}
	status(&j, ex, e.Statuses...)
	return j
}

// Describe implements Expectation.
func (e StatusOnly) Describe(profile.Profile) string { return "answers " + statusList(e.Statuses) }

// AfterDelete expects a deleted client to be gone: GET, PUT and DELETE with its old token are
// 401, and the token endpoint refuses it (400 or 401, invalid_client).
type AfterDelete struct{}

// Judge implements Expectation.
func (AfterDelete) Judge(c *Context) Judgement {
	var j Judgement
	for _, ex := range c.Exchanges {
		name := ex.Request.Method + " " + lastPathSegment(ex.Request.URL)
		if ex.Response == nil {
			if unproven(ex) {
				j.Inconclusive = noResponse(ex)
				return j
			}
			j.add(name, false, "an answer", noResponse(ex))
			continue
		}
		st := ex.Response.Status
		if strings.HasSuffix(ex.Request.URL, "/token") || ex.Request.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
			code, _ := body(ex)["error"].(string)
			ok := (st == http.StatusBadRequest || st == http.StatusUnauthorized) && code == "invalid_client"
			j.add("token for the deleted client", ok, "400 or 401 invalid_client", fmt.Sprintf("%d %s", st, quoteOrNone(code)))
			continue
		}
		j.add(ex.Request.Method+" after DELETE", st == http.StatusUnauthorized, "401", fmt.Sprint(st))
	}
	j.Observation = "deleted client probed"
	return j
}

// Describe implements Expectation.
func (AfterDelete) Describe(profile.Profile) string {
	return "after DELETE: GET, PUT and DELETE with the old token answer 401, and the token endpoint invalid_client"
}

// RFC7592Pair checks the RFC 7592 management members of a registration response: no profile
// requires them, but a bank that returns one must return both (RFC 7592 3), the URI absolute
// https and the token non-empty.
var RFC7592Pair = BodyCheck{Name: "RFC 7592 members", Says: "registration_client_uri and registration_access_token both or neither, https and non-empty",
	Fn: func(c *Context, _ client.RecordedRequest, b map[string]any, j *Judgement) {
		uri, hasURI := b["registration_client_uri"]
		tok, hasTok := b["registration_access_token"]
		switch {
		case !hasURI && !hasTok:
			j.add("RFC 7592 members", true, "both or neither", "neither")
		case hasURI != hasTok:
			j.add("RFC 7592 members", false, "both or neither", map[bool]string{true: "registration_client_uri alone", false: "registration_access_token alone"}[hasURI])
		default:
			s, _ := uri.(string)
			u, err := url.Parse(s)
			j.add("registration_client_uri", err == nil && u.Scheme == "https" && u.Host != "", "an absolute https URL", quoteOrNone(s))
			t, _ := tok.(string)
			j.add("registration_access_token", t != "", "non-empty", map[bool]string{true: "present", false: "empty"}[t != ""])
		}
	}}

// ScopeCoversRequired checks that the granted scope holds every scope the profile requires
// (openid for Revolut): "nothing beyond what was asked" alone would pass an empty grant.
var ScopeCoversRequired = BodyCheck{Name: "required scope granted", Says: "the granted scope holds the profile's required scopes",
	Fn: func(c *Context, _ client.RecordedRequest, b map[string]any, j *Judgement) {
		granted, _, ok := profile.DecodeScope(b["scope"])
		var missing []string
		for _, s := range c.Profile.RequiredScopes() {
			if !slices.Contains(granted, s) {
				missing = append(missing, s)
			}
		}
		j.add("required scope granted", ok && len(missing) == 0, strings.Join(c.Profile.RequiredScopes(), " ")+" granted",
			map[bool]string{true: "granted", false: "missing " + strings.Join(orNone(missing), " ")}[ok && len(missing) == 0])
	}}

// lastPathSegment is the last segment of a URL's path (the ClientId of a management call).
func lastPathSegment(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	p := strings.TrimSuffix(u.Path, "/")
	return p[strings.LastIndexByte(p, '/')+1:]
}

// stringSet renders a JSON array of strings as a sorted, joined set ("" when it is none).
func stringSet(v any) string {
	arr, _ := v.([]any)
	var out []string
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// ClientIDOf is the client_id of a JSON answer, "" when it has none.
func ClientIDOf(ex *client.Exchange) string {
	id, _ := body(ex)["client_id"].(string)
	return id
}

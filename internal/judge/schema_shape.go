package judge

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/profile"
)

// OBIE's length limits (DCR v3.1 data dictionary), which Revolut, following v3.1, inherits.
const (
	maxRedirectURI = 256
	maxScopeString = 256
	maxDN          = 128
)

// ProfileEnums checks the registered values against the profile's own enums, which are
// narrower than the OpenAPI documents': the algs FAPI allows, the auth methods the profile
// supports. A member the response leaves out is not judged here (HP-02 wants it echoed).
var ProfileEnums = BodyCheck{Name: "enums", Says: "application_type, token_endpoint_auth_method and algs within the profile's values",
	Fn: func(c *Context, _ client.RecordedRequest, b map[string]any, j *Judgement) {
		p := c.Profile
		for _, e := range []struct {
			member string
			values []string
		}{
			{"application_type", p.ApplicationTypes},
			{"token_endpoint_auth_method", p.AuthMethods},
			{"id_token_signed_response_alg", p.ResponseAlgs},
			{"request_object_signing_alg", p.ResponseAlgs},
		} {
			v, present := b[e.member]
			if !present {
				continue
			}
			s, _ := v.(string)
			ok := contains(e.values, s)
			j.add(e.member, ok, "one of "+strings.Join(e.values, ", "), map[bool]string{true: "in the set", false: "outside the set"}[ok])
		}
	}}

// RedirectURIsShape checks redirect_uris: a non-empty array of absolute https URIs of at most
// 256 characters, none on localhost or carrying a fragment.
var RedirectURIsShape = BodyCheck{Name: "redirect_uris", Says: "redirect_uris a non-empty array of https URIs (<=256, no localhost, no fragment)",
	Fn: func(_ *Context, _ client.RecordedRequest, b map[string]any, j *Judgement) {
		v, present := b["redirect_uris"]
		arr, isList := v.([]any)
		switch {
		case !present:
			j.add("redirect_uris", false, "a non-empty array", "absent")
			return
		case !isList:
			j.add("redirect_uris", false, "a non-empty array", "not an array")
			return
		case len(arr) == 0:
			j.add("redirect_uris", false, "a non-empty array", "empty")
			return
		}
		problem := ""
		for _, x := range arr {
			if problem = redirectProblem(x); problem != "" {
				break
			}
		}
		j.add("redirect_uris", problem == "", "https URIs, <=256 characters, no localhost, no fragment", orOK(problem))
	}}

func redirectProblem(x any) string {
	s, ok := x.(string)
	if !ok {
		return "a member is not a string"
	}
	if len(s) > maxRedirectURI {
		return fmt.Sprintf("a URI of %d characters", len(s))
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "":
		return "a member is not an absolute URI"
	case u.Scheme != "https":
		return "a URI is not https"
	case u.Fragment != "" || strings.Contains(s, "#"):
		return "a URI carries a fragment"
	}
	h := strings.ToLower(u.Hostname())
	if ip := net.ParseIP(h); h == "localhost" || strings.HasSuffix(h, ".localhost") || (ip != nil && ip.IsLoopback()) {
		return "a URI points at localhost"
	}
	return ""
}

// GrantTypesShape checks grant_types: a non-empty array of values from the profile's enum.
var GrantTypesShape = BodyCheck{Name: "grant_types", Says: "grant_types a non-empty array of the profile's grant types",
	Fn: func(c *Context, _ client.RecordedRequest, b map[string]any, j *Judgement) {
		v, present := b["grant_types"]
		arr, isList := v.([]any)
		problem := ""
		switch {
		case !present:
			problem = "absent"
		case !isList:
			problem = "not an array"
		case len(arr) == 0:
			problem = "an empty array"
		}
		for _, g := range arr {
			if s, _ := g.(string); !contains(c.Profile.GrantTypes, s) && problem == "" {
				problem = "a value outside " + strings.Join(c.Profile.GrantTypes, ", ")
			}
		}
		j.add("grant_types", problem == "", "a non-empty array of "+strings.Join(c.Profile.GrantTypes, ", "), orOK(problem))
	}}

// ScopeShape checks scope: the profile's JSON type (an array in OBIE 3.1, a space-separated
// string of at most 256 characters elsewhere), openid where the profile needs it, and no value
// that was not requested.
var ScopeShape = BodyCheck{Name: "scope", Says: "scope of the profile's JSON type, within the length limit, a subset of the request",
	Fn: func(c *Context, sent client.RecordedRequest, b map[string]any, j *Judgement) {
		p := c.Profile
		v, present := b["scope"]
		values, isArray, ok := profile.DecodeScope(v)
		want := "a space-separated string"
		if p.ScopeArray {
			want = "an array of strings"
		}
		typeOK := present && ok && isArray == p.ScopeArray
		actual := "as documented"
		switch {
		case !present:
			actual = "absent"
		case !ok:
			actual = "neither a string nor an array of strings"
		case isArray:
			actual = "an array"
		case !typeOK:
			actual = "a string"
		}
		j.add("scope type", typeOK, want, actual)
		if !typeOK {
			return
		}
		if s, isString := v.(string); isString {
			limit := p.MaxScopeLen
			if limit == 0 {
				limit = maxScopeString
			}
			j.add("scope length", len(s) <= limit, fmt.Sprintf("at most %d characters", limit), fmt.Sprintf("%d characters", len(s)))
		}
		if p.ScopeRequiresOpenID {
			j.add("scope openid", contains(values, "openid"), "contains openid", map[bool]string{true: "present", false: "missing"}[contains(values, "openid")])
		}
		requested, _, _ := profile.DecodeScope(sent.JWTClaims["scope"])
		var extra []string
		for _, x := range values {
			if !contains(requested, x) {
				extra = append(extra, x)
			}
		}
		j.add("scope subset", len(extra) == 0, "only requested values", map[bool]string{true: "only requested values", false: fmt.Sprintf("%d value(s) not requested", len(extra))}[len(extra) == 0])
	}}

// DNShape checks the profile's DN claim: present (a string of 1 to 128 characters) exactly when
// the client authenticates with tls_client_auth.
var DNShape = BodyCheck{Name: "dn", Says: "the profile's DN claim present iff tls_client_auth, at most 128 characters",
	Fn: func(c *Context, sent client.RecordedRequest, b map[string]any, j *Judgement) {
		name := c.Profile.DNClaim
		method := authMethod(sent, b)
		v, present := b[name]
		dn, isString := v.(string)
		if method != "tls_client_auth" {
			j.add(name, !present, "absent (not tls_client_auth)", map[bool]string{true: "present", false: "absent"}[present])
			return
		}
		actual := fmt.Sprintf("%d characters", len(dn))
		switch {
		case !present:
			actual = "absent"
		case !isString:
			actual = "not a string"
		}
		j.add(name, isString && len(dn) >= 1 && len(dn) <= maxDN, fmt.Sprintf("a string of 1-%d characters", maxDN), actual)
	}}

// SecretRules checks RFC 7591 3.2.1's secret rules: a tls_client_auth client gets no
// client_secret, and a client_secret comes with client_secret_expires_at. Only the member's
// presence is looked at; its value is redacted when recorded.
var SecretRules = BodyCheck{Name: "client_secret", Says: "no client_secret for tls_client_auth; client_secret_expires_at with any secret",
	Fn: func(_ *Context, sent client.RecordedRequest, b map[string]any, j *Judgement) {
		_, secret := b["client_secret"]
		if authMethod(sent, b) == "tls_client_auth" {
			j.add("client_secret", !secret, "none for tls_client_auth", map[bool]string{true: "issued", false: "none"}[secret])
		}
		if secret {
			_, expires := b["client_secret_expires_at"]
			j.add("client_secret_expires_at", expires, "present with a client_secret", map[bool]string{true: "present", false: "absent"}[expires])
		}
	}}

// ResponseTypesDefault checks that response_types, when the response carries it for a request
// that sent none, holds the documented default "code id_token".
var ResponseTypesDefault = BodyCheck{Name: "response_types", Says: `response_types, if returned, holds the default "code id_token"`,
	Fn: func(_ *Context, _ client.RecordedRequest, b map[string]any, j *Judgement) {
		v, present := b["response_types"]
		if !present {
			return
		}
		arr, _ := v.([]any)
		found := false
		for _, x := range arr {
			found = found || x == "code id_token"
		}
		j.add("response_types", found, `contains "code id_token"`, map[bool]string{true: "contains it", false: "does not contain it"}[found])
	}}

// authMethod is the registered token_endpoint_auth_method, else the one requested.
func authMethod(sent client.RecordedRequest, b map[string]any) string {
	if m, ok := b["token_endpoint_auth_method"].(string); ok {
		return m
	}
	m, _ := sent.JWTClaims["token_endpoint_auth_method"].(string)
	return m
}

func orOK(problem string) string {
	if problem == "" {
		return "as required"
	}
	return problem
}

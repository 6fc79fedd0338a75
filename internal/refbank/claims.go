package refbank

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/profile"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$`)

// maxSSAAge is the window an SSA's iat must fall in; OBIE leaves it to the ASPSP.
const maxSSAAge = 7 * 24 * time.Hour

// roleScopes maps SSA software_roles to the scopes each grants (OBIE DCR data mapping).
var roleScopes = map[string]string{"AISP": "accounts", "PISP": "payments", "CBPII": "fundsconfirmations"}

func (s *Server) checkSSAClaims(c jose.Claims) *rejection {
	now := s.cfg.Now()
	if v, ok := c["exp"]; ok {
		exp, isNum := numeric(v)
		if !isNum {
			return badSSA(obFieldInvalid, "software statement exp is not a number")
		}
		if now.After(time.Unix(exp, 0).Add(s.cfg.Skew)) && !s.fault(FaultSkipSSATimes) {
			return badSSA(obFieldInvalid, "software statement has expired")
		}
	}
	if v, ok := c["iat"]; ok {
		iat, isNum := numeric(v)
		if !isNum {
			return badSSA(obFieldInvalid, "software statement iat is not a number")
		}
		t := time.Unix(iat, 0)
		if !s.fault(FaultSkipSSATimes) {
			if t.After(now.Add(s.cfg.Skew)) {
				return badSSA(obFieldInvalid, "software statement iat is in the future")
			}
			if now.Sub(t) > maxSSAAge {
				return badSSA(obFieldInvalid, "software statement was issued more than %s ago", maxSSAAge)
			}
		}
	}
	if st, ok := c["org_status"].(string); ok && st != "Active" && !s.fault(FaultIgnoreOrgStatus) {
		return reject(unapproved, obFieldInvalid, "organisation status is %q, not Active", st)
	}
	return nil
}

// checkClaims applies the profile's claim rules to the verified request.
func (s *Server) checkClaims(reg *registration) *rejection {
	p := s.cfg.Profile
	c := reg.claims
	now := s.cfg.Now()
	// Faults that drop one claim's check also stop requiring it.
	waivedBy := map[string]string{"exp": FaultSkipExp, p.DNClaim: FaultSkipDN, "software_statement": FaultAcceptMissingSSA,
		"jti": FaultJTIOptional}
	for _, name := range p.RequiredClaims {
		if f, ok := waivedBy[name]; ok && s.fault(f) {
			continue
		}
		if _, ok := c[name]; !ok && !s.fault(FaultSkipRequiredClaims) {
			if name == "redirect_uris" {
				return badRedirect("redirect_uris is required")
			}
			return badMetadata(obFieldMissing, "claim %s is required", name)
		}
	}
	if !s.fault(FaultSkipExp) {
		if v, ok := c["exp"]; ok {
			exp, isNum := numeric(v)
			if !isNum {
				return badMetadata(obFieldInvalid, "exp is not a NumericDate")
			}
			if now.After(time.Unix(exp, 0).Add(s.cfg.Skew)) {
				return badMetadata(obFieldInvalid, "registration request has expired")
			}
		}
	}
	if v, ok := c["iat"]; ok && !s.fault(FaultSkipIat) {
		iat, isNum := numeric(v)
		if !isNum {
			return badMetadata(obFieldInvalid, "iat is not a NumericDate")
		}
		if time.Unix(iat, 0).After(now.Add(s.cfg.Skew)) {
			return badMetadata(obFieldInvalid, "iat is in the future")
		}
	}
	if rej := s.checkIdentity(reg); rej != nil {
		return rej
	}
	if rej := s.checkRedirects(reg); rej != nil {
		return rej
	}
	return s.checkMetadata(reg)
}

// checkIdentity covers aud, iss, jti and software_id.
func (s *Server) checkIdentity(reg *registration) *rejection {
	p, c := s.cfg.Profile, reg.claims
	if v, ok := c["aud"]; ok && !s.fault(FaultSkipAud) {
		aud, isString := v.(string)
		if !isString {
			return badMetadata(obFieldInvalid, "aud must be a string")
		}
		if p.AudPattern != "" && !regexp.MustCompile(p.AudPattern).MatchString(aud) {
			return badMetadata(obFieldInvalid, "aud does not match %s", p.AudPattern)
		}
		if len(s.cfg.Audiences) > 0 && !slices.Contains(s.cfg.Audiences, aud) {
			return badMetadata(obFieldInvalid, "aud does not identify this server")
		}
	}
	if v, ok := c["iss"]; ok && !s.fault(FaultSkipIss) {
		iss, isString := v.(string)
		if !isString || iss == "" {
			return badMetadata(obFieldInvalid, "iss must be a non-empty string")
		}
		if p.IssPattern != "" && !regexp.MustCompile(p.IssPattern).MatchString(iss) {
			return badMetadata(obFieldInvalid, "iss does not match %s", p.IssPattern)
		}
		if sid, ok := reg.ssaClaims["software_id"].(string); ok && p.IssPattern != "" && iss != sid {
			return badMetadata(obFieldInvalid, "iss must equal the software statement's software_id")
		}
	}
	if v, ok := c["jti"]; ok {
		jti, isString := v.(string)
		if p.RequireJTI && (!isString || !uuidV4.MatchString(jti)) && !s.fault(FaultSkipJTI) {
			return badMetadata(obFieldInvalid, "jti must be a UUIDv4")
		}
		if isString && !s.fault(FaultAcceptReplay) && s.seenJTI(jti, reg) {
			return badMetadata(obFieldInvalid, "jti has been used before")
		}
	}
	if v, ok := c["software_id"]; ok && !s.fault(FaultSkipSoftwareID) {
		sid, _ := v.(string)
		if want, ok := reg.ssaClaims["software_id"].(string); ok && sid != want {
			return badMetadata(obFieldInvalid, "software_id does not match the software statement")
		}
	}
	return nil
}

// seenJTI records a jti until the request's exp and reports whether it was already there.
func (s *Server) seenJTI(jti string, reg *registration) bool {
	now := s.cfg.Now()
	until := now.Add(time.Hour)
	if exp, ok := numeric(reg.claims["exp"]); ok {
		until = time.Unix(exp, 0).Add(s.cfg.Skew)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.jtis {
		if now.After(t) {
			delete(s.jtis, k)
		}
	}
	key := fmt.Sprint(reg.claims["iss"]) + "\x00" + jti
	if _, dup := s.jtis[key]; dup {
		return true
	}
	s.jtis[key] = until
	return false
}

func (s *Server) checkRedirects(reg *registration) *rejection {
	p := s.cfg.Profile
	raw, ok := reg.claims["redirect_uris"]
	if !ok {
		return nil // required-claims check has spoken for profiles that need it
	}
	uris, isList := stringList(raw)
	if !isList || len(uris) == 0 {
		if s.fault(FaultSkipRedirectChecks) {
			return nil
		}
		return badRedirect("redirect_uris must be a non-empty array of strings")
	}
	allowed, _ := stringList(reg.ssaClaims[p.RedirectClaim])
	for _, u := range uris {
		if s.fault(FaultSkipRedirectChecks) {
			break
		}
		if p.MaxRedirectURILen > 0 && len(u) > p.MaxRedirectURILen {
			return badRedirect("a redirect URI is longer than %d characters", p.MaxRedirectURILen)
		}
		parsed, err := url.Parse(u)
		if err != nil || parsed.Host == "" {
			return badRedirect("a redirect URI is not an absolute URI")
		}
		if parsed.Scheme != "https" {
			return badRedirect("redirect URIs must use https")
		}
		if isLocal(parsed.Hostname()) {
			return badRedirect("redirect URIs must not point at localhost")
		}
		if parsed.Fragment != "" || strings.Contains(u, "#") {
			return badRedirect("redirect URIs must not carry a fragment")
		}
		if !slices.Contains(allowed, u) && !s.fault(FaultAcceptUnregisteredRedirect) {
			return badRedirect("redirect URI is not one of the software statement's %s", p.RedirectClaim)
		}
	}
	return nil
}

func (s *Server) checkMetadata(reg *registration) *rejection {
	p, c := s.cfg.Profile, reg.claims
	method, _ := c["token_endpoint_auth_method"].(string)
	if _, ok := c["token_endpoint_auth_method"]; ok && method != "tls_client_auth" && !s.fault(FaultAcceptAnyAuthMethod) {
		return badMetadata(obFieldInvalid, "token_endpoint_auth_method must be tls_client_auth")
	}
	if method == "tls_client_auth" || method == "" {
		dnRaw, present := c[p.DNClaim]
		dn, isString := dnRaw.(string)
		if method == "tls_client_auth" && (!present || !isString || dn == "") && !s.fault(FaultSkipDN) {
			return badMetadata(obFieldMissing, "%s is required with tls_client_auth", p.DNClaim)
		}
		if p.MaxDNLen > 0 && len(dn) > p.MaxDNLen && !s.fault(FaultSkipDN) {
			return badMetadata(obFieldInvalid, "%s is longer than %d characters", p.DNClaim, p.MaxDNLen)
		}
		if dn != "" && reg.certDN != "" && !sameDN(dn, reg.certDN) && !s.fault(FaultIgnoreDNMismatch) && !s.fault(FaultSkipDN) {
			return badMetadata(obFieldInvalid, "%s does not match the transport certificate", p.DNClaim)
		}
	}
	for _, name := range []string{"id_token_signed_response_alg", "request_object_signing_alg"} {
		if v, ok := c[name]; ok && !s.fault(FaultAcceptWeakAlgs) {
			alg, _ := v.(string)
			if !slices.Contains(p.ResponseAlgs, alg) {
				return badMetadata(obFieldInvalid, "%s must be one of %s", name, strings.Join(p.ResponseAlgs, ", "))
			}
		}
	}
	if v, ok := c["application_type"]; ok && !s.fault(FaultAnyApplicationType) {
		at, _ := v.(string)
		if !slices.Contains(p.ApplicationTypes, at) {
			return badMetadata(obFieldInvalid, "application_type must be one of %s", strings.Join(p.ApplicationTypes, ", "))
		}
	}
	if rej := s.checkScope(reg); rej != nil {
		return rej
	}
	if v, ok := c["grant_types"]; ok && !s.fault(FaultAnyGrantType) {
		gts, isList := stringList(v)
		if !isList {
			return badMetadata(obFieldInvalid, "grant_types must be an array of strings")
		}
		for _, g := range gts {
			if !slices.Contains(p.GrantTypes, g) {
				return badMetadata(obFieldInvalid, "grant type %q is not supported", g)
			}
		}
	}
	if v, ok := c["response_types"]; ok && len(p.ResponseTypes) > 0 && !s.fault(FaultAnyResponseType) {
		rts, isList := stringList(v)
		if !isList {
			return badMetadata(obFieldInvalid, "response_types must be an array of strings")
		}
		for _, rt := range rts {
			if !slices.Contains(p.ResponseTypes, rt) {
				return badMetadata(obFieldInvalid, "response type %q is not supported", rt)
			}
		}
	}
	return nil
}

func (s *Server) checkScope(reg *registration) *rejection {
	p := s.cfg.Profile
	raw, ok := reg.claims["scope"]
	if !ok {
		return nil
	}
	values, isArray, valid := profile.DecodeScope(raw)
	if s.fault(FaultSkipScope) {
		return nil
	}
	// Revolut is moving scope from an array to a string (23 March 2026) and accepts both.
	if !valid || (p.Name != profile.Default && isArray != p.ScopeArray) {
		return badMetadata(obFieldInvalid, "scope has the wrong JSON type for this profile")
	}
	if p.MaxScopeLen > 0 && len(strings.Join(values, " ")) > p.MaxScopeLen {
		return badMetadata(obFieldInvalid, "scope is longer than %d characters", p.MaxScopeLen)
	}
	for _, v := range values {
		if !slices.Contains(p.Scopes, v) {
			return badMetadata(obFieldInvalid, "scope %q is not supported", v)
		}
	}
	if p.ScopeRequiresOpenID && !slices.Contains(values, "openid") {
		return badMetadata(obFieldInvalid, "scope must contain openid")
	}
	if roles, ok := stringList(reg.ssaClaims["software_roles"]); ok {
		granted := map[string]bool{"openid": true}
		for _, r := range roles {
			granted[roleScopes[r]] = true
		}
		for _, v := range values {
			if !granted[v] {
				return badMetadata(obFieldInvalid, "scope %q is beyond the software statement's roles", v)
			}
		}
	}
	return nil
}

// numeric reads a JSON number as whole seconds. Values beyond ±2^53 (no exact JSON integer, and
// far past any date) are refused: converting them to int64 overflows and wraps a far-future iat
// into the past.
func numeric(v any) (int64, bool) {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

func stringList(v any) ([]string, bool) {
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func isLocal(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameDN compares DNs ignoring spacing and case around separators, as banks commonly do.
func sameDN(a, b string) bool {
	norm := func(s string) string {
		parts := strings.Split(s, ",")
		for i, p := range parts {
			parts[i] = strings.ToLower(strings.TrimSpace(p))
		}
		return strings.Join(parts, ",")
	}
	return norm(a) == norm(b)
}

package refbank

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/profile"
)

// Bounds on request claim values. Nothing in the data dictionaries comes near them (the longest
// documented value is a 256-character URI), and a server that parses whatever arrives is a
// denial-of-service surface. The software statement is a JWT of its own and is checked as one.
const (
	maxClaimString = 4096
	maxClaimDepth  = 32
)

// bodyLimit is the largest request body the bank reads.
func (s *Server) bodyLimit() int64 {
	if s.fault(FaultNoBodyLimit) {
		return 1 << 40
	}
	return s.cfg.MaxBody
}

// unparsable answers a body that is not a compact JWS; with crash-on-malformed-jwt it is the 500
// of a parser that was never meant to see such input.
func (s *Server) unparsable(rej *rejection) *rejection {
	if s.fault(FaultCrashOnMalformed) {
		return &rejection{status: http.StatusInternalServerError, rfc: "server_error", ob: "UK.OBIE.UnexpectedError", msg: "internal error"}
	}
	return rej
}

// plainJSON is the accept-json-registration fault: a bank built on a generic OAuth server that
// also takes RFC 7591's plain JSON registration, so the metadata is never signed. handled is
// false when the fault is off or the request is not JSON.
func (s *Server) plainJSON(r *http.Request, reg *registration) (_ *registration, _ *rejection, handled bool) {
	if !s.fault(FaultAcceptJSON) {
		return nil, nil, false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.EqualFold(mt, "application/json") {
		return nil, nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.bodyLimit()+1))
	if err != nil || int64(len(body)) > s.bodyLimit() {
		return nil, badMetadata(obFieldInvalid, "request body could not be read"), true
	}
	var c jose.Claims
	if err := json.Unmarshal(body, &c); err != nil || c == nil {
		return nil, badMetadata(obFieldInvalid, "request body is not a JSON object"), true
	}
	reg.header, reg.claims = jose.Header{}, c
	if rej := s.checkSSA(reg); rej != nil {
		return nil, rej, true
	}
	if rej := s.checkClaims(reg); rej != nil {
		return nil, rej, true
	}
	if rej := s.checkLimits(reg); rej != nil {
		return nil, rej, true
	}
	return reg, nil, true
}

// checkLimits runs after the claim rules: the general bounds on claim values, then the faults
// that make a bank stricter than its profile.
func (s *Server) checkLimits(reg *registration) *rejection {
	p, c := s.cfg.Profile, reg.claims
	if !s.fault(FaultNoClaimBounds) {
		for _, name := range sortedClaimNames(c) {
			if name != "software_statement" && oversized(c[name], 1) {
				return badMetadata(obFieldInvalid, "claim %s is longer or more deeply nested than this server accepts", name)
			}
		}
	}
	if s.fault(FaultExactRedirects) {
		if raw, ok := c["redirect_uris"]; ok {
			uris, _ := stringList(raw)
			allowed, _ := stringList(reg.ssaClaims[p.RedirectClaim])
			if !sameStringSet(uris, allowed) {
				return badRedirect("redirect_uris must list every one of the software statement's %s", p.RedirectClaim)
			}
		}
	}
	if s.fault(FaultScopeOrder) {
		if values, _, ok := profile.DecodeScope(c["scope"]); ok {
			last := -1
			for _, v := range values {
				i := indexOf(p.Scopes, v)
				if i >= 0 && i < last {
					return badMetadata(obFieldInvalid, "scope values must be given in the order %s", strings.Join(p.Scopes, ", "))
				}
				if i > last {
					last = i
				}
			}
		}
	}
	if s.fault(FaultRequireResponseTypes) && len(p.ResponseTypes) > 0 {
		if _, ok := c["response_types"]; !ok {
			return badMetadata(obFieldMissing, "claim response_types is required")
		}
	}
	return nil
}

func oversized(v any, depth int) bool {
	if depth > maxClaimDepth {
		return true
	}
	switch t := v.(type) {
	case string:
		return len(t) > maxClaimString
	case []any:
		for _, x := range t {
			if oversized(x, depth+1) {
				return true
			}
		}
	case map[string]any:
		for k, x := range t {
			if len(k) > maxClaimString || oversized(x, depth+1) {
				return true
			}
		}
	}
	return false
}

// bendResponse applies the faults that bend a registration response beyond bend's.
func (s *Server) bendResponse(body map[string]any, reg *registration) {
	if s.fault(FaultRedirectsAsString) {
		if uris, ok := stringList(body["redirect_uris"]); ok {
			body["redirect_uris"] = strings.Join(uris, " ")
		}
	}
	if s.fault(FaultEmptyGrantTypes) {
		body["grant_types"] = []any{}
	}
	if s.fault(FaultReuseClientID) {
		// The earliest-issued id is not recorded, so take the smallest one for this software
		// statement: stable from the first registration on. Looking up and storing under one lock
		// keeps concurrent first registrations from each minting their own.
		s.mu.Lock()
		reuse := ""
		for _, prev := range s.clients {
			if id, _ := prev["client_id"].(string); prev["software_statement"] == reg.ssa && id != "" && (reuse == "" || id < reuse) {
				reuse = id
			}
		}
		if reuse != "" {
			body["client_id"] = reuse
		} else if id, _ := body["client_id"].(string); id != "" {
			s.clients[id] = body
		}
		s.mu.Unlock()
	}
}

// bendDiscovery applies the discovery faults.
func (s *Server) bendDiscovery(doc map[string]any) {
	if s.fault(FaultDiscoveryNoRegistration) {
		delete(doc, "registration_endpoint")
	}
}

func sortedClaimNames(c jose.Claims) []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sameStringSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !contains(b, x) {
			return false
		}
	}
	return true
}

func indexOf(list []string, v string) int {
	for i, x := range list {
		if x == v {
			return i
		}
	}
	return -1
}

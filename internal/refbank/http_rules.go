package refbank

import (
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/uuid"
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
		return crashed()
	}
	return rej
}

// plainJSON reports whether the request is taken as RFC 7591's plain JSON registration: the
// accept-json-registration fault, a bank built on a generic OAuth server whose metadata is never
// signed.
func (s *Server) plainJSON(r *http.Request) bool {
	if !s.fault(FaultAcceptJSON) {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && strings.EqualFold(mt, "application/json")
}

// checkBounds holds every claim value to the general bounds, before any rule reads them.
func (s *Server) checkBounds(reg *registration) *rejection {
	if s.fault(FaultNoClaimBounds) {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(reg.claims)) {
		if name != "software_statement" && oversized(reg.claims[name], 1) {
			return badMetadata(obFieldInvalid, "claim %s is longer or more deeply nested than this server accepts", name)
		}
	}
	return nil
}

// checkStricter runs after the claim rules: the faults that make a bank stricter than its
// profile.
func (s *Server) checkStricter(reg *registration) *rejection {
	p, c := s.cfg.Profile, reg.claims
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
				i := slices.Index(p.Scopes, v)
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

// issueClientID names the client a registration creates. Under reuse-client-id a repeated
// registration of the same software statement gets the id its first one was issued; reused
// then says the client is already stored.
func (s *Server) issueClientID(reg *registration) (id string, reused bool) {
	if !s.fault(FaultReuseClientID) {
		return uuid.NewV4(), false
	}
	// Deciding and recording under one lock keeps concurrent first registrations from each
	// minting their own.
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.firstIDs[reg.ssa]; ok {
		return id, true
	}
	id = uuid.NewV4()
	s.firstIDs[reg.ssa] = id
	return id, false
}

// bendResponse applies the faults that bend a registration response beyond bend's.
func (s *Server) bendResponse(body map[string]any) {
	if s.fault(FaultRedirectsAsString) {
		if uris, ok := stringList(body["redirect_uris"]); ok {
			body["redirect_uris"] = strings.Join(uris, " ")
		}
	}
	if s.fault(FaultEmptyGrantTypes) {
		body["grant_types"] = []any{}
	}
}

// bendDiscovery applies the discovery faults.
func (s *Server) bendDiscovery(doc map[string]any) {
	if s.fault(FaultDiscoveryNoRegistration) {
		delete(doc, "registration_endpoint")
	}
}

func sameStringSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

package refbank

import (
	"net/http"
	"slices"
	"strings"

	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/uuid"
)

// echoed are the request claims a registration response carries back.
var echoed = []string{"iss", "iat", "exp", "application_type", "token_endpoint_auth_method",
	"id_token_signed_response_alg", "request_object_signing_alg", "redirect_uris", "grant_types", "scope",
	"response_types", "software_id", "token_endpoint_auth_signing_alg"}

// statementOwnClaims are the JWT claims about a software statement itself (its issuer, times
// and id), which say nothing about the client and so never reach a registration response.
var statementOwnClaims = []string{"iss", "iat", "exp", "jti"}

// respond registers the client and answers with its metadata in the profile's shape.
func (s *Server) respond(w http.ResponseWriter, reg *registration) {
	p := s.cfg.Profile
	clientID, reused := s.issueClientID(reg)
	body := s.clientDoc(reg, clientID)
	if s.fault(FaultHalfRFC7592) && s.ln != nil {
		body["registration_client_uri"] = registrationClientURI(s.ln.Addr().String(), clientID)
	}
	if !reused {
		s.mu.Lock()
		s.clients[clientID] = body
		s.mu.Unlock()
	}
	status := p.SuccessStatus
	if s.fault(FaultAnswer201) {
		status = http.StatusCreated
	}
	if s.fault(FaultTextPlain) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("client_id=" + clientID))
		return
	}
	writeJSON(w, status, body)
}

// clientDoc is a client's metadata in the profile's shape, as a registration (or an update)
// answers it and GET /register/{ClientId} returns it.
func (s *Server) clientDoc(reg *registration, clientID string) map[string]any {
	p := s.cfg.Profile
	body := map[string]any{"client_id": clientID, "software_statement": reg.ssa}
	for _, name := range append(echoed, p.DNClaim) {
		if v, ok := reg.claims[name]; ok {
			body[name] = v
		}
	}
	if p.Name == profile.Default {
		// Revolut documents org_jwks_endpoint and grant_types in every response.
		body["org_jwks_endpoint"] = reg.jwksURL
		if _, ok := body["grant_types"]; !ok {
			body["grant_types"] = []any{}
		}
		delete(body, "response_types")
		delete(body, "software_id")
	} else {
		body["client_id_issued_at"] = s.cfg.Now().Unix()
		// OBIE: the response carries the SSA's claims flattened as top-level members.
		s.flattenSSA(body, reg.ssaClaims)
		if p.Name == "obie-3.1" {
			delete(body, "client_id_issued_at")
		}
	}
	s.overlayRequest(body, reg)
	s.bend(body)
	s.bendResponse(body)
	s.bendStatements(body)
	if s.fault(FaultScopeDropsRequired) {
		if v, _, ok := profile.DecodeScope(body["scope"]); ok {
			kept := []string{}
			for _, x := range v {
				if !slices.Contains(p.RequiredScopes(), x) {
					kept = append(kept, x)
				}
			}
			body["scope"] = p.EncodeScope(kept)
		}
	}
	return body
}

// bend applies the response faults to a registration response.
func (s *Server) bend(body map[string]any) {
	if s.fault(FaultOmitClientID) {
		delete(body, "client_id")
	}
	if s.fault(FaultEchoOtherRedirects) {
		body["redirect_uris"] = []any{"https://tpp.example.org/other-callback"}
	}
	if s.fault(FaultEnumOutOfSet) {
		body["application_type"] = "desktop"
	}
	if s.fault(FaultScopeShape) {
		if v, _, ok := profile.DecodeScope(body["scope"]); ok {
			if s.cfg.Profile.ScopeArray {
				body["scope"] = strings.Join(v, " ")
			} else {
				arr := make([]any, len(v))
				for i, x := range v {
					arr[i] = x
				}
				body["scope"] = arr
			}
		}
	}
	if s.fault(FaultModifySSA) {
		if ssa, ok := body["software_statement"].(string); ok && len(ssa) > 1 {
			body["software_statement"] = ssa[:len(ssa)-1]
		}
	}
	if s.fault(FaultIssueSecret) {
		body["client_secret"] = uuid.NewV4()
	}
	if s.fault(FaultDropDN) {
		delete(body, s.cfg.Profile.DNClaim)
	}
}

package refbank

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/profile"
)

// Faults of the registration lifecycle: the token endpoint and GET/PUT/DELETE
// /register/{ClientId}. Each breaks one rule the way a real bank's bug would.
var (
	FaultNoToken = declare(Fault{Name: "token-refused",
		Description: "answers a registered client's client_credentials request with invalid_client", Trips: []string{"HP-04"}})
	FaultGetWrongClient = declare(Fault{Name: "get-wrong-metadata",
		Description: "GET /register/{ClientId} answers with metadata other than what was registered (other redirect_uris)", Trips: []string{"MGT-01"}})
	FaultGetNoAuth = declare(Fault{Name: "manage-without-token",
		Description: "serves GET /register/{ClientId} to a caller that sends no bearer token (or an empty one)", Trips: []string{"MGT-02", "MGT-03/empty"}})
	FaultAnyToken = declare(Fault{Name: "manage-any-token",
		Description: "accepts any bearer token on /register/{ClientId}, even one it never issued", Trips: []string{"MGT-03/unknown"}})
	FaultOtherClient = declare(Fault{Name: "manage-other-client",
		Description: "lets a client's token read another client's registration", Trips: []string{"MGT-04"}})
	FaultUnknown404 = declare(Fault{Name: "unknown-client-404",
		Description: "answers an unknown ClientId with 404 (telling a caller which ids exist) and keeps the token valid", Trips: []string{"MGT-05"}})
	FaultPutIgnored = declare(Fault{Name: "put-ignored",
		Description: "answers PUT /register/{ClientId} with 200 but keeps the old metadata", Trips: []string{"MGT-06"}})
	FaultPutOutsideSSA = declare(Fault{Name: "put-outside-ssa",
		Description: "accepts a PUT whose redirect_uris are not in the software statement", Trips: []string{"MGT-07"}})
	FaultPutRevokes = declare(Fault{Name: "put-revokes-tokens",
		Description: "revokes the client's tokens when its registration is updated", Trips: []string{"MGT-08"}})
	FaultDelete200 = declare(Fault{Name: "delete-200",
		Description: "answers DELETE /register/{ClientId} with 200 and a body instead of 204", Trips: []string{"MGT-09"}})
	FaultDeleteKeeps = declare(Fault{Name: "delete-keeps-client",
		Description: "answers DELETE with 204 but keeps the client and its tokens working", Trips: []string{"MGT-10"}})
	FaultManageNoCert = declare(Fault{Name: "manage-without-certificate",
		Description: "serves /register/{ClientId} to a caller with a valid token and no (or an untrusted) client certificate", Trips: []string{"MGT-12"}})
	FaultNoDelete404 = declare(Fault{Name: "no-delete-404", NoDelete: true,
		Description: "does not offer DELETE and answers it 404, where RFC 7592 2.3 wants 405", Trips: []string{"MGT-11"}})
	FaultHalfRFC7592 = declare(Fault{Name: "rfc7592-half",
		Description: "returns registration_client_uri without registration_access_token", Trips: []string{"SCH-09"}})
	FaultScopeDropsRequired = declare(Fault{Name: "scope-drops-required", Profiles: []string{profile.Default},
		Description: "grants a scope without the profile's required scope (openid for Revolut)", Trips: []string{"SCH-10"}})
)

// tokenTTL is how long an access token of the bank lives.
const tokenTTL = time.Hour

// token is an access token the bank issued: whose, bound to which certificate, until when.
type token struct {
	clientID string
	certHash [32]byte
	until    time.Time
	revoked  bool
}

// certHash binds a token to the certificate it was issued to (RFC 8705 certificate-bound
// tokens); zero when the caller presented none.
func certHash(r *http.Request) [32]byte {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return [32]byte{}
	}
	return sha256.Sum256(r.TLS.PeerCertificates[0].Raw)
}

// verifiedDN is the subject DN of a client certificate the bank verified; "" otherwise.
func verifiedDN(r *http.Request) string {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return ""
	}
	return pki.SubjectDN(r.TLS.PeerCertificates[0])
}

// oauthError writes an RFC 6749 error: the token endpoint and the bearer-protected endpoints
// speak OAuth whatever the profile's registration error format.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="refbank", error=%q`, code))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc})
}

// tokenEndpoint is POST /token: client_credentials with tls_client_auth (RFC 8705). The client
// must be registered and the certificate presented must carry the DN it registered.
func (s *Server) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "POST only")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body is not a form")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported")
		return
	}
	id := r.PostForm.Get("client_id")
	dn := verifiedDN(r)
	if s.fault(FaultManageNoCert) && r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		dn = pki.SubjectDN(r.TLS.PeerCertificates[0]) // this bank's handshake verifies nothing
	}
	s.mu.Lock()
	doc, ok := s.clients[id]
	s.mu.Unlock()
	registeredDN, _ := doc[s.cfg.Profile.DNClaim].(string)
	if !ok || dn == "" || !sameDN(registeredDN, dn) || s.fault(FaultNoToken) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", fmt.Sprintf("No client registered with client_id = %s and tls_client_auth_dn = %s", id, dn))
		return
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	value := base64.RawURLEncoding.EncodeToString(raw)
	s.mu.Lock()
	s.tokens[value] = &token{clientID: id, certHash: certHash(r), until: s.cfg.Now().Add(tokenTTL)}
	s.mu.Unlock()
	scope, _, _ := profile.DecodeScope(doc["scope"])
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"access_token": value, "token_type": "Bearer",
		"expires_in": int(tokenTTL.Seconds()), "scope": strings.Join(scope, " ")})
}

// manage is GET, PUT and DELETE /register/{ClientId}, behind a bearer token of the client's.
// An unknown client is never a 404 (that would tell anyone which ids exist): OBIE answers 401
// and revokes the token at once; Revolut answers 401.
func (s *Server) manage(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/register/")
	if id == "" || strings.Contains(id, "/") {
		oauthError(w, http.StatusNotFound, "invalid_request", "no such endpoint")
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodPut, http.MethodDelete:
	default:
		w.Header().Set("Allow", "GET, PUT, DELETE")
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "method "+r.Method+" is not supported here")
		return
	}
	if (r.TLS == nil || len(r.TLS.VerifiedChains) == 0) && !s.fault(FaultManageNoCert) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "a trusted TLS client certificate is required")
		return
	}
	// "Bearer" with nothing after it is no token: clients trim the trailing space of
	// "Bearer ", so both forms arrive.
	scheme, value, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		value = ""
	}
	value = strings.TrimSpace(value)
	if value == "" && !s.fault(FaultGetNoAuth) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="refbank"`)
		oauthError(w, http.StatusUnauthorized, "invalid_request", "a bearer token is required")
		return
	}
	s.mu.Lock()
	tok := s.tokens[value]
	doc, known := s.clients[id]
	s.mu.Unlock()
	switch {
	case s.fault(FaultGetNoAuth) && value == "", s.fault(FaultAnyToken) && tok == nil:
		tok = &token{clientID: id} // the faulty bank waves the caller through
	case tok == nil || tok.revoked || s.cfg.Now().After(tok.until):
		oauthError(w, http.StatusUnauthorized, "invalid_token", "the access token is not valid")
		return
	case tok.certHash != certHash(r) && !s.fault(FaultManageNoCert):
		oauthError(w, http.StatusUnauthorized, "invalid_token", "the access token is bound to another certificate")
		return
	}
	if !known {
		if s.fault(FaultUnknown404) {
			oauthError(w, http.StatusNotFound, "invalid_request", "no such client")
			return
		}
		if s.cfg.Profile.ErrorFormat == profile.RFC7591 {
			s.mu.Lock()
			tok.revoked = true
			s.mu.Unlock()
		}
		oauthError(w, http.StatusUnauthorized, "invalid_token", "Unauthorized")
		return
	}
	if tok.clientID != id && !s.fault(FaultOtherClient) {
		s.forbidden(w)
		return
	}
	switch r.Method {
	case http.MethodGet:
		if s.fault(FaultGetWrongClient) {
			doc = cloneDoc(doc)
			doc["redirect_uris"] = []any{"https://tpp.example.org/not-registered"}
		}
		writeJSON(w, http.StatusOK, doc)
	case http.MethodPut:
		s.update(w, r, id, doc)
	case http.MethodDelete:
		if s.cfg.NoDelete || s.fault(FaultNoDelete404) {
			if s.fault(FaultNoDelete404) {
				oauthError(w, http.StatusNotFound, "invalid_request", "no such endpoint")
				return
			}
			w.Header().Set("Allow", "GET, PUT")
			oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "this bank does not delete registrations")
			return
		}
		if !s.fault(FaultDeleteKeeps) {
			s.mu.Lock()
			delete(s.clients, id)
			for _, t := range s.tokens {
				if t.clientID == id {
					t.revoked = true
				}
			}
			s.mu.Unlock()
		}
		if s.fault(FaultDelete200) {
			writeJSON(w, http.StatusOK, map[string]any{"deleted": id})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// forbidden answers a token of one client used on another: 403, in the profile's error format
// (Revolut documents OBErrorResponse1 with UK.OBIE.Resource.Forbidden).
func (s *Server) forbidden(w http.ResponseWriter) {
	s.writeError(w, &rejection{status: http.StatusForbidden, rfc: "access_denied", ob: "UK.OBIE.Resource.Forbidden",
		msg: "the token does not grant access to this client"})
}

// update is PUT /register/{ClientId}: a full registration request, validated as a POST is,
// whose metadata replaces the client's; tokens stay valid (OBIE: an update must not
// invalidate long-lived tokens).
func (s *Server) update(w http.ResponseWriter, r *http.Request, id string, old map[string]any) {
	reg, rej := s.validate(r)
	if rej != nil && !(s.fault(FaultPutOutsideSSA) && rej.rfc == profile.ErrInvalidRedirectURI) {
		s.writeError(w, rej)
		return
	}
	if reg == nil { // the put-outside-ssa fault waved a redirect rejection through
		writeJSON(w, http.StatusOK, old)
		return
	}
	doc := s.clientDoc(reg, id)
	if s.fault(FaultPutIgnored) {
		doc = old
	}
	s.mu.Lock()
	s.clients[id] = doc
	if s.fault(FaultPutRevokes) {
		for _, t := range s.tokens {
			if t.clientID == id {
				t.revoked = true
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, doc)
}

func cloneDoc(doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		out[k] = v
	}
	return out
}

// registrationClientURI is the RFC 7592 management URI of a client, for the response.
func registrationClientURI(host, id string) string {
	return "https://" + host + "/register/" + url.PathEscape(id)
}

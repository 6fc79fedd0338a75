package refbank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/pki"
)

// registration is what the pipeline learns about one request as it goes.
type registration struct {
	header    jose.Header
	claims    jose.Claims
	ssa       string
	ssaClaims jose.Claims
	jwksURL   string
	certDN    string
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && !s.fault(FaultAnyMethod) {
		w.Header().Set("Allow", http.MethodPost)
		s.writeError(w, &rejection{status: http.StatusMethodNotAllowed, rfc: "invalid_request", ob: obUnsupported,
			msg: "method " + r.Method + " is not supported on /register"})
		return
	}
	reg, rej := s.validate(r)
	if rej != nil {
		s.writeError(w, rej)
		return
	}
	s.respond(w, reg)
}

// validate runs every check of a registration request in the order a bank must: transport,
// envelope, claim bounds, SSA, TPP key set, signature, claims.
func (s *Server) validate(r *http.Request) (*registration, *rejection) {
	reg := &registration{}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		if !s.fault(FaultAcceptNoClientCert) {
			return nil, &rejection{status: http.StatusUnauthorized, rfc: "invalid_client", ob: obUnauthorized,
				msg: "a TLS client certificate is required"}
		}
	} else if len(r.TLS.VerifiedChains) > 0 {
		// Only a certificate the bank verified names the TPP: a bank that skips verification
		// has no subject to bind the DN claim to.
		reg.certDN = pki.SubjectDN(r.TLS.PeerCertificates[0])
	}
	plain := s.plainJSON(r)
	if !plain {
		if rej := s.checkMediaType(r); rej != nil {
			return nil, rej
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.bodyLimit()+1))
	if err != nil {
		return nil, badMetadata(obFieldInvalid, "request body could not be read")
	}
	if int64(len(body)) > s.bodyLimit() {
		return nil, &rejection{status: http.StatusRequestEntityTooLarge, rfc: profileless, ob: obFieldInvalid,
			msg: fmt.Sprintf("request body exceeds %d bytes", s.cfg.MaxBody)}
	}
	var token string
	if plain {
		var c jose.Claims
		if err := json.Unmarshal(body, &c); err != nil || c == nil {
			return nil, badMetadata(obFieldInvalid, "request body is not a JSON object")
		}
		reg.header, reg.claims = jose.Header{}, c
	} else {
		token = strings.TrimSpace(string(body))
		if token == "" {
			return nil, s.unparsable(badMetadata(obFieldMissing, "request body is empty; a signed registration JWT is required"))
		}
		h, c, err := jose.Decode(token)
		if err != nil {
			return nil, s.unparsable(badMetadata(obSignatureMalformed, "registration request is not a compact JWS: %v", err))
		}
		reg.header, reg.claims = h, c
	}
	// The bounds come before anything that acts on the claims (the JWKS fetch above all), so an
	// oversized request costs the bank no outbound call.
	if rej := s.checkBounds(reg); rej != nil {
		return nil, rej
	}
	if !plain {
		if rej := s.checkHeader(reg.header); rej != nil {
			return nil, rej
		}
	}
	if rej := s.checkSSA(reg); rej != nil {
		return nil, rej
	}
	if !plain {
		if rej := s.verifySignature(r.Context(), token, reg); rej != nil {
			return nil, rej
		}
	}
	if rej := s.checkClaims(reg); rej != nil {
		return nil, rej
	}
	if rej := s.checkStricter(reg); rej != nil {
		return nil, rej
	}
	return reg, nil
}

// profileless marks statuses whose RFC 7591 code has no better fit.
const profileless = "invalid_request"

func (s *Server) checkMediaType(r *http.Request) *rejection {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if s.fault(FaultAnyMediaType) {
		return nil
	}
	if ct == "" || err != nil || !strings.EqualFold(mt, s.cfg.Profile.MediaType) {
		return &rejection{status: http.StatusUnsupportedMediaType, rfc: profileless, ob: obHeaderInvalid,
			msg: "Content-Type must be " + s.cfg.Profile.MediaType}
	}
	return nil
}

func (s *Server) checkHeader(h jose.Header) *rejection {
	alg, _ := h["alg"].(string)
	if alg == "none" && s.fault(FaultAcceptAlgNone) {
		return nil
	}
	if !slices.Contains(s.requestAlgs(), alg) && !s.fault(FaultAcceptAnyAlg) && !s.acceptsHMAC(alg) {
		return badMetadata(obSignatureInvalid, "JWS alg %q is not allowed (allowed: %s)", alg, strings.Join(s.requestAlgs(), ", "))
	}
	if _, ok := h["crit"]; ok && !s.fault(FaultIgnoreCrit) {
		return badMetadata(obSignatureInvalid, "JWS crit header names extensions this server does not understand")
	}
	if kid, _ := h["kid"].(string); kid == "" && s.cfg.Profile.RequireKid && !s.fault(FaultNoKidAccepted) {
		return badMetadata(obSignatureMissing, "JWS header has no kid")
	}
	return nil
}

// requestAlgs are the JWS algorithms the bank verifies a registration request with: the
// profile's, as the ES256 faults bend them.
func (s *Server) requestAlgs() []string {
	algs := slices.Clone(s.cfg.Profile.RequestAlgs)
	if s.fault(FaultAcceptES256) && !slices.Contains(algs, "ES256") {
		algs = append(algs, "ES256")
	}
	if s.fault(FaultRefuseES256) {
		algs = slices.DeleteFunc(algs, func(a string) bool { return a == "ES256" })
	}
	return algs
}

// verifySignature fetches the TPP's key set from the SSA's JWKS URL and verifies the request.
func (s *Server) verifySignature(ctx context.Context, token string, reg *registration) *rejection {
	alg, _ := reg.header["alg"].(string)
	if alg == "none" && s.fault(FaultAcceptAlgNone) {
		return nil
	}
	if reg.jwksURL == "" && (s.fault(FaultAcceptMissingSSA) || s.fault(FaultIgnoreSSAJWKSMissing)) {
		return nil // no key set to verify against, and the faulty bank carries on
	}
	if s.fault(FaultTrustEmbeddedKey) {
		if _, ok := reg.header["jwk"]; ok {
			return nil // a bank that trusts the attacker's embedded key accepts whatever it signed
		}
	}
	set, cached, err := s.jwks.keySet(ctx, reg.jwksURL, false)
	if err != nil {
		switch {
		case s.fault(FaultJWKSFailOpen):
			return nil
		case s.fault(FaultJWKSError500):
			return crashed()
		}
		return badMetadata(obFieldInvalid, "Failed to fetch public key from %s: %s", reg.jwksURL, fetchReason(err))
	}
	if s.fault(FaultSkipSignature) {
		return nil
	}
	if s.acceptsHMAC(alg) {
		return verifyHMACWithPublicKey(token, alg, set, reg)
	}
	allowed := s.requestAlgs()
	if s.fault(FaultAcceptAnyAlg) {
		allowed = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "HS256"}
	}
	if s.fault(FaultNoKidAccepted) {
		if kid, _ := reg.header["kid"].(string); kid == "" {
			return nil
		}
	}
	_, _, err = set.Verify(token, allowed)
	if errors.Is(err, jose.ErrUnknownKid) && cached {
		// The TPP may have rotated its keys since the set was cached: a kid the set does not
		// hold is looked up in a freshly fetched one before the request is refused.
		if fresh, _, ferr := s.jwks.keySet(ctx, reg.jwksURL, true); ferr == nil {
			_, _, err = fresh.Verify(token, allowed)
		}
	}
	if err != nil {
		switch {
		case errors.Is(err, jose.ErrUnknownKid):
			return badMetadata(obSignatureInvalid, "JWS kid is not in the key set at %s", reg.jwksURL)
		case errors.Is(err, jose.ErrUnsupportedCrit) && s.fault(FaultIgnoreCrit):
			return nil
		default:
			return badMetadata(obSignatureInvalid, "JWS signature does not verify: %v", err)
		}
	}
	return nil
}

// fetchReason describes a fetch failure without Go's URL-wrapping noise.
func fetchReason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg, "Get ") {
		msg = msg[i+2:]
	}
	if strings.Contains(msg, "Client.Timeout") || strings.Contains(msg, "deadline exceeded") {
		return "timed out"
	}
	return msg
}

// checkSSA decodes the software statement, verifies it where the profile needs a signed one,
// and finds the TPP's JWKS URL in it.
func (s *Server) checkSSA(reg *registration) *rejection {
	raw, present := reg.claims["software_statement"]
	ssa, isString := raw.(string)
	if !present || !isString || strings.TrimSpace(ssa) == "" {
		if !present && s.fault(FaultAcceptMissingSSA) {
			s.registerWithoutSSA(reg)
			return nil
		}
		return badSSA(obFieldMissing, "software_statement is missing or not a string")
	}
	reg.ssa = ssa
	h, c, err := jose.Decode(ssa)
	if err != nil {
		if s.fault(FaultCrashOnMalformedSSA) {
			return crashed()
		}
		return badSSA(obFieldInvalid, "software_statement is not a JWT: %v", err)
	}
	alg, _ := h["alg"].(string)
	switch {
	case alg == "none":
		selfSigned := s.cfg.Profile.SelfSignedSSA && !s.fault(FaultRequireSignedSSA)
		if !selfSigned && !s.fault(FaultSkipSSASignature) && !s.fault(FaultAcceptUnsignedSSA) {
			return badSSA(obSignatureInvalid, "unsigned software statements are not accepted")
		}
	case s.fault(FaultSkipSSASignature):
	case s.cfg.Directory == nil:
		return reject(unapproved, obSignatureInvalid, "no software statement issuer is trusted by this server")
	default:
		if _, _, err := jose.VerifyWith(ssa, s.cfg.Directory, []string{"PS256", "ES256"}); err != nil {
			return badSSA(obSignatureInvalid, "software statement signature does not verify: %v", err)
		}
	}
	reg.ssaClaims = c
	if rej := s.checkSSAClaims(c); rej != nil {
		return rej
	}
	url, _ := c[s.cfg.Profile.JWKSClaim].(string)
	if url == "" && !s.fault(FaultIgnoreSSAJWKSMissing) {
		return badSSA(obFieldMissing, "software statement has no %s", s.cfg.Profile.JWKSClaim)
	}
	reg.jwksURL = url
	return nil
}

const unapproved = "unapproved_software_statement"

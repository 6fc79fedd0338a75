package refbank

import (
	"context"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"hash"
	"net/http"
	"strings"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/profile"
)

// obieRedirectURILimit is OBIE DCR v3.1's limit on each redirect URI. Revolut documents none of
// its own but says it implements v3.1, so a profile without a limit inherits this one.
const obieRedirectURILimit = 256

func redirectURILimit(p profile.Profile) int {
	if p.MaxRedirectURILen > 0 {
		return p.MaxRedirectURILen
	}
	return obieRedirectURILimit
}

var hmacAlgs = map[string]func() hash.Hash{"HS256": sha256.New, "HS384": sha512.New384, "HS512": sha512.New}

// acceptsHMAC reports whether the header's alg passes because of the HMAC confusion fault.
func (s *Server) acceptsHMAC(alg string) bool {
	_, ok := hmacAlgs[alg]
	return ok && s.fault(FaultHMACPublicKey)
}

// verifyByFault settles the request's signature where a fault decides it: done is true when the
// returned rejection (nil: accepted) is final.
func (s *Server) verifyByFault(ctx context.Context, token string, reg *registration) (rej *rejection, done bool) {
	alg, _ := reg.header["alg"].(string)
	if s.acceptsHMAC(alg) {
		return s.verifyHMACWithPublicKey(ctx, token, alg, reg), true
	}
	if reg.jwksURL == "" && (s.fault(FaultAcceptMissingSSA) || s.fault(FaultIgnoreSSAJWKSMissing)) {
		return nil, true // no key set to verify against, and the faulty bank carries on
	}
	return nil, false
}

// registerWithoutSSA is the accept-missing-ssa fault: the request's own metadata stands in for
// the statement it lacks.
func (s *Server) registerWithoutSSA(reg *registration) *rejection {
	p := s.cfg.Profile
	reg.ssa, reg.jwksURL = "", ""
	reg.ssaClaims = jose.Claims{}
	if v, ok := reg.claims["redirect_uris"]; ok {
		reg.ssaClaims[p.RedirectClaim] = v
	}
	if v, ok := reg.claims["software_id"]; ok {
		reg.ssaClaims["software_id"] = v
	}
	return nil
}

func crashed() *rejection {
	return &rejection{status: http.StatusInternalServerError, rfc: "server_error", ob: "UK.OBIE.UnexpectedError", msg: "internal error"}
}

// overlayRequest is the prefer-request-metadata fault: where the request and the statement carry
// the same claim, the response takes the request's value.
func (s *Server) overlayRequest(body map[string]any, reg *registration) {
	if !s.fault(FaultPreferRequestMetadata) {
		return
	}
	for k := range reg.ssaClaims {
		if v, ok := reg.claims[k]; ok && k != "iss" && k != "iat" && k != "exp" && k != "jti" {
			body[k] = v
		}
	}
}

// verifyHMACWithPublicKey is the algorithm-confusion bug: it takes the RSA key the header's kid
// names in the TPP's JWKS, renders it as PEM and uses that text as the HMAC secret.
func (s *Server) verifyHMACWithPublicKey(ctx context.Context, token, alg string, reg *registration) *rejection {
	set, err := s.jwks.fetch(ctx, reg.jwksURL)
	if err != nil {
		return badMetadata(obFieldInvalid, "Failed to fetch public key from %s: %s", reg.jwksURL, fetchReason(err))
	}
	kid, _ := reg.header["kid"].(string)
	key, err := set.PublicKey(kid)
	pub, isRSA := key.(*rsa.PublicKey)
	if err != nil || !isRSA {
		return badMetadata(obSignatureInvalid, "JWS kid is not in the key set at %s", reg.jwksURL)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return badMetadata(obSignatureInvalid, "JWS key cannot be used: %v", err)
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return badMetadata(obSignatureMalformed, "registration request is not a compact JWS")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	mac := hmac.New(hmacAlgs[alg], secret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return badMetadata(obSignatureInvalid, "JWS signature does not verify")
	}
	return nil
}

package refbank

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"slices"

	"github.com/dcrconform/dcrconform/internal/jose"
)

var hmacAlgs = []string{"HS256", "HS384", "HS512"}

// acceptsHMAC reports whether the header's alg passes because of the HMAC confusion fault.
func (s *Server) acceptsHMAC(alg string) bool {
	return slices.Contains(hmacAlgs, alg) && s.fault(FaultHMACPublicKey)
}

// registerWithoutSSA is the accept-missing-ssa fault: the request's own metadata stands in for
// the statement it lacks.
func (s *Server) registerWithoutSSA(reg *registration) {
	p := s.cfg.Profile
	reg.ssaClaims = jose.Claims{}
	if v, ok := reg.claims["redirect_uris"]; ok {
		reg.ssaClaims[p.RedirectClaim] = v
	}
	if v, ok := reg.claims["software_id"]; ok {
		reg.ssaClaims["software_id"] = v
	}
}

// overlayRequest is the prefer-request-metadata fault: where the request and the statement carry
// the same claim, the response takes the request's value.
func (s *Server) overlayRequest(body map[string]any, reg *registration) {
	if !s.fault(FaultPreferRequestMetadata) {
		return
	}
	for k := range reg.ssaClaims {
		if v, ok := reg.claims[k]; ok && !slices.Contains(statementOwnClaims, k) {
			body[k] = v
		}
	}
}

// verifyHMACWithPublicKey is the algorithm-confusion bug: it takes the RSA key the header's kid
// names in the TPP's key set, renders it as PEM and uses that text as the HMAC secret, which
// anyone holding the published key can compute.
func verifyHMACWithPublicKey(token, alg string, set *jose.KeySet, reg *registration) *rejection {
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
	if _, _, err := jose.VerifyWith(token, secret, []string{alg}); err != nil {
		return badMetadata(obSignatureInvalid, "JWS signature does not verify: %v", err)
	}
	return nil
}

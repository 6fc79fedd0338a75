package jose

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// This file holds the single-key JWK and payload-signing helpers that signed evidence bundles use:
// one public key published as a JWK file, and a compact JWS over exact bytes (a manifest) whose
// payload can be compared byte for byte with the file it signs.

// privateMemberNames are the JWK members that carry private or symmetric key material (RFC 7518
// section 6). A document holding any of them is refused, whatever its kty says.
var privateMemberNames = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// ErrPrivateJWK is returned when a JWK that should be public carries private key material.
var ErrPrivateJWK = errors.New("JWK holds private key material")

// AlgFor returns the JWS algorithm a key of this type signs with: ES256 for an ECDSA P-256 key
// and PS256 for an RSA key of at least 2048 bits. Other keys are refused, so a verifier accepts
// exactly one algorithm per key and no algorithm can be chosen by a token's header.
func AlgFor(pub crypto.PublicKey) (string, error) {
	if s, ok := pub.(crypto.Signer); ok {
		pub = s.Public()
	}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", fmt.Errorf("ECDSA key on curve %s: only P-256 (ES256) is supported", k.Curve.Params().Name)
		}
		return "ES256", nil
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return "", fmt.Errorf("RSA key of %d bits: at least 2048 are required (PS256)", k.N.BitLen())
		}
		return "PS256", nil
	default:
		return "", fmt.Errorf("unsupported key type %T: want ECDSA P-256 or RSA", pub)
	}
}

// Thumbprint returns the RFC 7638 JWK thumbprint (SHA-256, base64url without padding) of a public
// key, a kid that is stable for the key and names nothing else. A private key is accepted and its
// public half is used.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	if s, ok := pub.(crypto.Signer); ok {
		pub = s.Public()
	}
	k, err := jwk.FromRaw(pub)
	if err != nil {
		return "", fmt.Errorf("thumbprint: %w", err)
	}
	if isSecret(k) {
		return "", ErrPrivateJWK
	}
	sum, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("thumbprint: %w", err)
	}
	return b64(sum), nil
}

// PublicJWK renders one public key as a JWK document with kid, alg (AlgFor) and use "sig". A
// private key is refused rather than reduced to its public half, so a caller cannot publish
// private material by passing the wrong value.
func PublicJWK(pub crypto.PublicKey, kid string) ([]byte, error) {
	if _, isPrivate := pub.(crypto.Signer); isPrivate {
		return nil, errors.New("refusing to render a private key as a public JWK")
	}
	alg, err := AlgFor(pub)
	if err != nil {
		return nil, err
	}
	k, err := jwk.FromRaw(pub)
	if err != nil {
		return nil, fmt.Errorf("JWK: %w", err)
	}
	if isSecret(k) {
		return nil, ErrPrivateJWK
	}
	if kid != "" {
		if err := k.Set(jwk.KeyIDKey, kid); err != nil {
			return nil, err
		}
	}
	if err := k.Set(jwk.AlgorithmKey, jwa.SignatureAlgorithm(alg)); err != nil {
		return nil, err
	}
	if err := k.Set(jwk.KeyUsageKey, "sig"); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(k, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// ParsePublicJWK parses one JWK document holding a public ECDSA P-256 or RSA key and returns the
// key and its kid ("" when absent). Documents carrying private members (d, p, q, dp, dq, qi,
// oth, k) are refused with ErrPrivateJWK, as are JWK sets and keys whose alg member names another
// algorithm than the one the key type signs with.
func ParsePublicJWK(data []byte) (crypto.PublicKey, string, error) {
	var members map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&members); err != nil || members == nil {
		return nil, "", errors.New("JWK is not a JSON object")
	}
	if dec.More() {
		return nil, "", errors.New("JWK: trailing data after the JSON object")
	}
	if _, isSet := members["keys"]; isSet {
		return nil, "", errors.New("JWK: got a JWK set; want a single key")
	}
	for _, m := range privateMemberNames {
		if _, ok := members[m]; ok {
			return nil, "", fmt.Errorf("%w (member %q)", ErrPrivateJWK, m)
		}
	}
	k, err := jwk.ParseKey(data)
	if err != nil {
		return nil, "", fmt.Errorf("JWK does not parse: %w", err)
	}
	if isSecret(k) {
		return nil, "", ErrPrivateJWK
	}
	var raw any
	if err := k.Raw(&raw); err != nil {
		return nil, "", fmt.Errorf("JWK: %w", err)
	}
	alg, err := AlgFor(raw)
	if err != nil {
		return nil, "", fmt.Errorf("JWK: %w", err)
	}
	if a := k.Algorithm().String(); a != "" && a != alg {
		return nil, "", fmt.Errorf("JWK: alg %q does not match the key type (want %s)", a, alg)
	}
	if u := k.KeyUsage(); u != "" && u != "sig" {
		return nil, "", fmt.Errorf("JWK: use %q is not sig", u)
	}
	return raw, k.KeyID(), nil
}

// ParsePrivateJWK parses one JWK document holding a private RSA or EC P-256 key (a key file a
// TPP may be given in that form) and returns the key and its kid ("" when absent). Symmetric
// keys, sets and other curves are refused. Errors never quote the key's members.
func ParsePrivateJWK(data []byte) (crypto.Signer, string, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil || members == nil {
		return nil, "", errors.New("JWK is not a JSON object")
	}
	if _, isSet := members["keys"]; isSet {
		return nil, "", errors.New("JWK: got a JWK set; want a single key")
	}
	k, err := jwk.ParseKey(data)
	if err != nil {
		return nil, "", errors.New("JWK does not parse as a key")
	}
	var raw any
	if err := k.Raw(&raw); err != nil {
		return nil, "", errors.New("JWK: the key material does not parse")
	}
	signer, ok := raw.(crypto.Signer)
	if !ok {
		return nil, "", errors.New("JWK: not a private RSA or EC key")
	}
	if _, err := AlgFor(signer.Public()); err != nil {
		return nil, "", fmt.Errorf("JWK: %w", err)
	}
	return signer, k.KeyID(), nil
}

// SignPayload signs exact bytes as a compact JWS with the algorithm AlgFor picks for the key.
// The protected header carries alg, kid (when given) and, when typ is not empty, typ.
func SignPayload(key crypto.Signer, kid, typ string, payload []byte) (string, error) {
	alg, err := AlgFor(key.Public())
	if err != nil {
		return "", err
	}
	h := Header{}
	if kid != "" {
		h["kid"] = kid
	}
	if typ != "" {
		h["typ"] = typ
	}
	return SignBytes(alg, key, h, payload)
}

// VerifyPayload checks a compact JWS made by SignPayload against one public key and returns the
// exact payload bytes that were signed, with the protected header. The header alg must be the one
// AlgFor gives for pub; crit is refused; only the three-segment compact form is accepted (not the
// JSON serialisation, not an unsecured or detached token).
func VerifyPayload(token string, pub crypto.PublicKey) ([]byte, Header, error) {
	if s, ok := pub.(crypto.Signer); ok {
		pub = s.Public()
	}
	want, err := AlgFor(pub)
	if err != nil {
		return nil, nil, err
	}
	if strings.Count(token, ".") != 2 || strings.ContainsAny(token, " \t\r\n{") {
		return nil, nil, fmt.Errorf("%w: want the compact serialisation", ErrMalformed)
	}
	parts := strings.Split(token, ".")
	if parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return nil, nil, fmt.Errorf("%w: empty segment", ErrMalformed)
	}
	h, err := decodeHeader(parts[0])
	if err != nil {
		return nil, nil, err
	}
	if alg, _ := h["alg"].(string); alg != want {
		return nil, h, fmt.Errorf("%w: %q (the key signs with %s)", ErrAlgNotAllowed, h["alg"], want)
	}
	if _, ok := h["crit"]; ok {
		return nil, h, ErrUnsupportedCrit
	}
	if _, ok := h["b64"]; ok {
		return nil, h, fmt.Errorf("%w: b64 header not supported", ErrMalformed)
	}
	payload, err := jws.Verify([]byte(token), jws.WithKey(jwa.SignatureAlgorithm(want), pub))
	if err != nil {
		return nil, h, ErrBadSignature
	}
	if err := strictPSS(token, want, pub); err != nil {
		return nil, h, err
	}
	return payload, h, nil
}

// Package jose builds, signs, parses and verifies the JWTs and JWK sets of a DCR exchange. It is
// the only package that imports jwx: jwx v2 is deprecated upstream, and a move to v3 must change
// this package alone. Its API speaks plain Go (maps, crypto keys, strings), never jwx types.
package jose

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// Header is a JOSE header as a JSON object.
type Header map[string]any

// Claims is a JWT claims set as a JSON object. Numbers decode as float64, as encoding/json does.
type Claims map[string]any

// Errors returned by Decode and Verify, so a verifier can tell its failures apart.
var (
	ErrMalformed       = errors.New("malformed JWS")
	ErrAlgNotAllowed   = errors.New("alg not allowed")
	ErrNoKid           = errors.New("no kid in header")
	ErrUnknownKid      = errors.New("kid not in key set")
	ErrBadSignature    = errors.New("signature does not verify")
	ErrUnsupportedCrit = errors.New("unsupported crit header")
)

// Sign signs claims as a compact JWS. key is a crypto.Signer for RS*/PS*/ES* algorithms or a
// []byte secret for HS*; header fields (kid, typ, crit, ...) go in the protected header. A jwk
// member is given as plain JSON: a map, or a document such as PublicJWK renders (json.RawMessage).
func Sign(alg string, key any, header Header, claims Claims) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	return SignBytes(alg, key, header, payload)
}

// SignBytes signs an arbitrary payload, for tokens whose payload is deliberately not a JSON object.
func SignBytes(alg string, key any, header Header, payload []byte) (string, error) {
	hdrs := jws.NewHeaders()
	for k, v := range header {
		if k == jws.JWKKey {
			key, err := embeddedJWK(v)
			if err != nil {
				return "", fmt.Errorf("header %q: %w", k, err)
			}
			v = key
		}
		if err := hdrs.Set(k, v); err != nil {
			return "", fmt.Errorf("header %q: %w", k, err)
		}
	}
	if signer, ok := key.(crypto.Signer); ok {
		key = rawPrivate(signer)
	}
	out, err := jws.Sign(payload, jws.WithKey(jwa.SignatureAlgorithm(alg), key, jws.WithProtectedHeaders(hdrs)))
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", alg, err)
	}
	return string(out), nil
}

// embeddedJWK turns a jwk header member given as plain JSON into the typed key jwx insists on
// for that member, so callers never handle jwx types. A header is public, so a key carrying
// private or symmetric material is refused rather than published.
func embeddedJWK(v any) (jwk.Key, error) {
	doc, ok := v.([]byte)
	if !ok {
		var err error
		if doc, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("encode JWK: %w", err)
		}
	}
	k, err := jwk.ParseKey(doc)
	if err != nil {
		return nil, fmt.Errorf("JWK does not parse: %w", err)
	}
	if isSecret(k) {
		return nil, ErrPrivateJWK
	}
	return k, nil
}

func rawPrivate(s crypto.Signer) any {
	switch k := s.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
		return k
	default:
		return s
	}
}

// Unsigned builds an unsecured JWS (RFC 7515 appendix A.5): header and payload, empty signature.
// jwx refuses to make these, so they are assembled here by hand.
func Unsigned(header Header, claims Claims) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("encode header: %w", err)
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	return b64(h) + "." + b64(p) + ".", nil
}

// Assemble joins raw header and payload JSON and a signature into a compact token without signing,
// for deliberately broken tokens (payload altered after signing, a foreign signature).
func Assemble(header, payload, signature []byte) string {
	return b64(header) + "." + b64(payload) + "." + b64(signature)
}

// TamperSignature flips one bit of the signature, keeping the token well-formed.
func TamperSignature(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[2] == "" {
		return "", fmt.Errorf("%w: no signature to tamper with", ErrMalformed)
	}
	sig, err := decodeSegment(parts[2])
	if err != nil {
		return "", err
	}
	if len(sig) == 0 {
		return "", fmt.Errorf("%w: no signature to tamper with", ErrMalformed)
	}
	sig[len(sig)/2] ^= 0x01
	return parts[0] + "." + parts[1] + "." + b64(sig), nil
}

// ReplacePayload swaps the payload of a signed token for new claims and keeps the old signature,
// as an attacker altering a message in transit would.
func ReplacePayload(token string, claims Claims) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("%w: want 3 segments", ErrMalformed)
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return parts[0] + "." + b64(p) + "." + parts[2], nil
}

// Decode splits a compact JWS and decodes its header and claims without verifying anything. It
// accepts the unsecured two-segment form and padded base64url, as Revolut's sample SSA uses.
func Decode(token string) (Header, Claims, error) {
	token = strings.TrimSpace(token)
	parts := strings.Split(token, ".")
	if len(parts) != 3 && !(len(parts) == 2 && token != "") {
		return nil, nil, fmt.Errorf("%w: %d segments, want 3", ErrMalformed, len(parts))
	}
	h, err := decodeHeader(parts[0])
	if err != nil {
		return nil, nil, err
	}
	pb, err := decodeSegment(parts[1])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	var c Claims
	if err := strictObject(pb, &c); err != nil {
		return nil, nil, fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
	}
	if len(parts) == 2 && h["alg"] != "none" {
		return nil, nil, fmt.Errorf("%w: 2 segments but alg is not none", ErrMalformed)
	}
	return h, c, nil
}

// decodeHeader decodes a protected-header segment, which must be a JSON object.
func decodeHeader(seg string) (Header, error) {
	hb, err := decodeSegment(seg)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	var h Header
	if err := strictObject(hb, &h); err != nil {
		return nil, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	return h, nil
}

func strictObject(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return errors.New("not an object")
	}
	return json.Unmarshal(b, v)
}

func decodeSegment(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// PublicKey is one entry of a JWKS to publish.
type PublicKey struct {
	Key crypto.PublicKey
	Kid string
	Alg string // e.g. PS256; empty leaves alg out
	Use string // e.g. sig; empty leaves use out
}

// PublicJWKS renders public keys as a JWK set document.
func PublicJWKS(keys ...PublicKey) ([]byte, error) {
	set := jwk.NewSet()
	for _, pk := range keys {
		k, err := jwk.FromRaw(pk.Key)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", pk.Kid, err)
		}
		if _, isPrivate := pk.Key.(crypto.Signer); isPrivate || isSecret(k) {
			return nil, fmt.Errorf("key %s: refusing to publish a private key", pk.Kid)
		}
		_ = k.Set(jwk.KeyIDKey, pk.Kid)
		if pk.Alg != "" {
			_ = k.Set(jwk.AlgorithmKey, jwa.SignatureAlgorithm(pk.Alg))
		}
		if pk.Use != "" {
			_ = k.Set(jwk.KeyUsageKey, pk.Use)
		}
		if err := set.AddKey(k); err != nil {
			return nil, err
		}
	}
	return json.Marshal(set)
}

// KeySet is a parsed JWK set holding public keys only.
type KeySet struct {
	set jwk.Set
}

// ParseKeySet parses a JWKS document. Private members are refused: a TPP JWKS that publishes its
// private key is broken, and keeping such material out of memory keeps it out of evidence.
func ParseKeySet(data []byte) (*KeySet, error) {
	set, err := jwk.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("JWKS does not parse: %w", err)
	}
	if set.Len() == 0 {
		return nil, errors.New("JWKS holds no keys")
	}
	for i := 0; i < set.Len(); i++ {
		k, _ := set.Key(i)
		if isSecret(k) {
			return nil, errors.New("JWKS holds a private key")
		}
	}
	return &KeySet{set: set}, nil
}

// isSecret reports whether a JWK carries private or symmetric key material.
func isSecret(k jwk.Key) bool {
	switch k.(type) {
	case jwk.RSAPrivateKey, jwk.ECDSAPrivateKey, jwk.OKPPrivateKey, jwk.SymmetricKey:
		return true
	}
	return false
}

// Kids lists the key IDs in the set, sorted.
func (s *KeySet) Kids() []string {
	var out []string
	for i := 0; i < s.set.Len(); i++ {
		k, _ := s.set.Key(i)
		out = append(out, k.KeyID())
	}
	sort.Strings(out)
	return out
}

// PublicKey returns the public key the set holds under kid.
func (s *KeySet) PublicKey(kid string) (crypto.PublicKey, error) {
	key, ok := s.set.LookupKeyID(kid)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKid, kid)
	}
	var raw any
	if err := key.Raw(&raw); err != nil {
		return nil, fmt.Errorf("key %q: %w", kid, err)
	}
	return raw, nil
}

// Verify checks a compact JWS against the set: the header alg must be one of allowed, the header
// kid must name a key in the set, crit must be absent (no extension is understood), and the
// signature must verify with that key under that alg. It returns the decoded header and claims.
func (s *KeySet) Verify(token string, allowed []string) (Header, Claims, error) {
	h, c, err := Decode(token)
	if err != nil {
		return nil, nil, err
	}
	alg, _ := h["alg"].(string)
	if !contains(allowed, alg) {
		return h, c, fmt.Errorf("%w: %q", ErrAlgNotAllowed, alg)
	}
	if _, ok := h["crit"]; ok {
		return h, c, ErrUnsupportedCrit
	}
	kid, _ := h["kid"].(string)
	if kid == "" {
		return h, c, ErrNoKid
	}
	raw, err := s.PublicKey(kid)
	if err != nil {
		return h, c, err
	}
	if _, err := jws.Verify([]byte(token), jws.WithKey(jwa.SignatureAlgorithm(alg), raw)); err != nil {
		return h, c, ErrBadSignature
	}
	if err := strictPSS(token, alg, raw); err != nil {
		return h, c, err
	}
	return h, c, nil
}

// VerifyWith checks a compact JWS against one public key, for a single trusted signer such as a
// directory. The same alg, crit and signature rules as KeySet.Verify apply; kid is not required.
func VerifyWith(token string, pub crypto.PublicKey, allowed []string) (Header, Claims, error) {
	h, c, err := Decode(token)
	if err != nil {
		return nil, nil, err
	}
	alg, _ := h["alg"].(string)
	if !contains(allowed, alg) {
		return h, c, fmt.Errorf("%w: %q", ErrAlgNotAllowed, alg)
	}
	if _, ok := h["crit"]; ok {
		return h, c, ErrUnsupportedCrit
	}
	if _, err := jws.Verify([]byte(token), jws.WithKey(jwa.SignatureAlgorithm(alg), pub)); err != nil {
		return h, c, ErrBadSignature
	}
	if err := strictPSS(token, alg, pub); err != nil {
		return h, c, err
	}
	return h, c, nil
}

// strictPSS re-checks a PS* signature with the salt length RFC 7518 3.5 requires (equal to the
// hash length). jwx v2 verifies PSS with any salt length, which would accept signatures a
// conformant bank must refuse.
func strictPSS(token, alg string, key any) error {
	var h crypto.Hash
	switch alg {
	case "PS256":
		h = crypto.SHA256
	case "PS384":
		h = crypto.SHA384
	case "PS512":
		h = crypto.SHA512
	default:
		return nil
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return ErrBadSignature
	}
	i := strings.LastIndexByte(token, '.')
	sig, err := decodeSegment(token[i+1:])
	if err != nil {
		return ErrBadSignature
	}
	d := h.New()
	d.Write([]byte(token[:i]))
	if rsa.VerifyPSS(pub, h, d.Sum(nil), sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) != nil {
		return ErrBadSignature
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

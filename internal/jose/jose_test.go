package jose_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/dcrconform/dcrconform/internal/jose"
)

// Keys are generated once: RSA-2048 generation dominates the package's test time otherwise.
var (
	keysOnce          sync.Once
	rsaKey, rsaKey2   *rsa.PrivateKey
	ecKey             *ecdsa.PrivateKey
	keysErr           error
	b64               = base64.RawURLEncoding
	testClaims        = jose.Claims{"iss": "tpp-123", "aud": "revolut", "scope": "openid accounts"}
	psOnly            = []string{"PS256"}
	psAndRS           = []string{"PS256", "RS256"}
	privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "k"}
)

func keys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey, *ecdsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		if rsaKey, keysErr = rsa.GenerateKey(rand.Reader, 2048); keysErr != nil {
			return
		}
		if rsaKey2, keysErr = rsa.GenerateKey(rand.Reader, 2048); keysErr != nil {
			return
		}
		ecKey, keysErr = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	})
	if keysErr != nil {
		t.Fatalf("generate keys: %v", keysErr)
	}
	return rsaKey, rsaKey2, ecKey
}

func mustSign(t *testing.T, alg string, key any, h jose.Header, c jose.Claims) string {
	t.Helper()
	tok, err := jose.Sign(alg, key, h, c)
	if err != nil {
		t.Fatalf("Sign(%s): %v", alg, err)
	}
	return tok
}

func segments(t *testing.T, token string) []string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments, want 3: %q", len(parts), token)
	}
	return parts
}

func decodeJSONSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	raw, err := b64.DecodeString(seg)
	if err != nil {
		t.Fatalf("segment is not base64url: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("segment is not JSON: %v", err)
	}
	return m
}

// psSign builds a PS256 token by hand with the given salt length, bypassing jwx, so that tests can
// craft validly signed tokens with arbitrary headers.
func psSign(t *testing.T, key *rsa.PrivateKey, header map[string]any, claims map[string]any, salt int) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	p, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(b64.EncodeToString(h) + "." + b64.EncodeToString(p)))
	sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: salt})
	if err != nil {
		t.Fatal(err)
	}
	return jose.Assemble(h, p, sig)
}

func keySet(t *testing.T, keys ...jose.PublicKey) *jose.KeySet {
	t.Helper()
	doc, err := jose.PublicJWKS(keys...)
	if err != nil {
		t.Fatalf("PublicJWKS: %v", err)
	}
	set, err := jose.ParseKeySet(doc)
	if err != nil {
		t.Fatalf("ParseKeySet: %v", err)
	}
	return set
}

// RFC 7518 section 3.5: PS256 uses a salt as long as the SHA-256 output.
func TestSignPS256SaltLengthEqualsHash(t *testing.T) {
	key, _, _ := keys(t)
	tok := mustSign(t, "PS256", key, jose.Header{"kid": "k1"}, testClaims)
	parts := segments(t, tok)
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("signature is not base64url: %v", err)
	}
	if len(sig) != key.Size() {
		t.Fatalf("signature is %d bytes, want %d", len(sig), key.Size())
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPSS(&key.PublicKey, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
		t.Fatalf("PS256 signature does not verify with salt length = hash length: %v", err)
	}
	// The check discriminates: a verifier demanding another fixed salt length refuses it.
	if err := rsa.VerifyPSS(&key.PublicKey, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: 20}); err == nil {
		t.Fatal("PS256 signature verified with salt length 20; the salt-length check does not discriminate")
	}
	// And a PKCS#1 v1.5 verifier refuses it, so this really is PSS.
	if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig); err == nil {
		t.Fatal("PS256 signature verified as PKCS#1 v1.5")
	}
}

func TestSignRS256IsPKCS1v15(t *testing.T) {
	key, _, _ := keys(t)
	parts := segments(t, mustSign(t, "RS256", key, jose.Header{"kid": "k1"}, testClaims))
	sig, _ := b64.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("RS256 signature is not PKCS#1 v1.5 over header.payload: %v", err)
	}
}

func TestSignES256(t *testing.T) {
	_, _, ec := keys(t)
	parts := segments(t, mustSign(t, "ES256", ec, jose.Header{"kid": "e1"}, testClaims))
	sig, _ := b64.DecodeString(parts[2])
	// RFC 7518 3.4: R || S, 32 bytes each for P-256, not ASN.1.
	if len(sig) != 64 {
		t.Fatalf("ES256 signature is %d bytes, want 64", len(sig))
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(&ec.PublicKey, digest[:], r, s) {
		t.Fatal("ES256 signature does not verify as R||S over header.payload")
	}
}

func TestSignHeader(t *testing.T) {
	key, _, _ := keys(t)
	for _, alg := range []string{"PS256", "RS256"} {
		tok := mustSign(t, alg, key, jose.Header{"kid": "kid-42", "typ": "JWT"}, testClaims)
		parts := segments(t, tok)
		h := decodeJSONSegment(t, parts[0])
		want := map[string]any{"alg": alg, "kid": "kid-42", "typ": "JWT"}
		if !reflect.DeepEqual(h, want) {
			t.Errorf("%s: header = %v, want %v", alg, h, want)
		}
		c := decodeJSONSegment(t, parts[1])
		if !reflect.DeepEqual(c, map[string]any(testClaims)) {
			t.Errorf("%s: payload = %v, want %v", alg, c, testClaims)
		}
		dh, dc, err := jose.Decode(tok)
		if err != nil {
			t.Fatalf("%s: Decode: %v", alg, err)
		}
		if dh["alg"] != alg || dh["kid"] != "kid-42" || dh["typ"] != "JWT" {
			t.Errorf("%s: Decode header = %v", alg, dh)
		}
		if dc["iss"] != "tpp-123" {
			t.Errorf("%s: Decode claims = %v", alg, dc)
		}
	}
}

// An embedded jwk arrives as plain JSON (a map as Decode returns it, or PublicJWK's document) and
// must reach the wire with every member, signed by the key the caller chose.
func TestSignEmbeddedJWK(t *testing.T) {
	key, other, _ := keys(t)
	doc, err := jose.PublicJWK(&other.PublicKey, "foreign")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(doc, &want); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"map": want, "document": json.RawMessage(doc)} {
		tok := mustSign(t, "PS256", other, jose.Header{"kid": "foreign", "jwk": v}, testClaims)
		h := decodeJSONSegment(t, segments(t, tok)[0])
		if !reflect.DeepEqual(h["jwk"], want) {
			t.Errorf("%s: jwk header = %v, want %v", name, h["jwk"], want)
		}
		if _, _, err := jose.VerifyWith(tok, &other.PublicKey, psOnly); err != nil {
			t.Errorf("%s: token does not verify with the embedded key: %v", name, err)
		}
	}
	private, err := json.Marshal(map[string]any{"kty": "RSA", "n": bigB64(key.N), "e": "AQAB", "d": bigB64(key.D)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jose.Sign("PS256", key, jose.Header{"jwk": json.RawMessage(private)}, testClaims); !errors.Is(err, jose.ErrPrivateJWK) {
		t.Errorf("private jwk header: err = %v, want ErrPrivateJWK", err)
	}
	if _, err := jose.Sign("PS256", key, jose.Header{"jwk": "not a key"}, testClaims); err == nil {
		t.Error("jwk header that is not a JWK: no error")
	}
}

// A crit header naming an extension no one understands must still be signable: conformance cases
// send exactly that to see the bank refuse it.
func TestSignUnknownCrit(t *testing.T) {
	key, _, _ := keys(t)
	const ext = "urn:example:unknown"
	tok := mustSign(t, "PS256", key, jose.Header{"kid": "k1", "crit": []string{ext}, ext: true}, testClaims)
	h := decodeJSONSegment(t, segments(t, tok)[0])
	if !reflect.DeepEqual(h["crit"], []any{ext}) || h[ext] != true {
		t.Fatalf("header = %v, want crit [%s] and %s true", h, ext, ext)
	}
	if _, _, err := jose.VerifyWith(tok, &key.PublicKey, psOnly); !errors.Is(err, jose.ErrUnsupportedCrit) {
		t.Fatalf("VerifyWith: err = %v, want ErrUnsupportedCrit", err)
	}
}

func TestSignBytesKeepsPayload(t *testing.T) {
	key, _, _ := keys(t)
	payload := []byte(`["not", "an", "object"]`)
	tok, err := jose.SignBytes("PS256", key, jose.Header{"kid": "k1"}, payload)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b64.DecodeString(segments(t, tok)[1])
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("payload = %q (%v), want %q", got, err, payload)
	}
	if _, _, err := jose.Decode(tok); !errors.Is(err, jose.ErrMalformed) {
		t.Fatalf("Decode of a non-object payload: err = %v, want ErrMalformed", err)
	}
}

func TestSignErrors(t *testing.T) {
	key, _, _ := keys(t)
	if _, err := jose.Sign("PS256", key, nil, jose.Claims{"bad": func() {}}); err == nil {
		t.Error("Sign with unencodable claims: no error")
	}
	if _, err := jose.Sign("NOPE", key, nil, testClaims); err == nil {
		t.Error("Sign with an unknown alg: no error")
	}
}

func TestUnsigned(t *testing.T) {
	tok, err := jose.Unsigned(jose.Header{"alg": "none", "typ": "JWT"}, testClaims)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("Unsigned gave %d segments, want 3", len(parts))
	}
	if parts[2] != "" {
		t.Fatalf("Unsigned signature segment = %q, want empty", parts[2])
	}
	if h := decodeJSONSegment(t, parts[0]); h["alg"] != "none" {
		t.Fatalf("Unsigned header alg = %v, want none", h["alg"])
	}
	h, c, err := jose.Decode(tok)
	if err != nil {
		t.Fatalf("Decode(Unsigned): %v", err)
	}
	if h["alg"] != "none" || !reflect.DeepEqual(map[string]any(c), map[string]any(testClaims)) {
		t.Fatalf("Decode(Unsigned) = %v %v", h, c)
	}
}

func TestDecodeRevolutTwoSegmentForm(t *testing.T) {
	payload := []byte(`{"software_id":"abc","org_jwks_endpoint":"https://tpp.example/jwks"}`)
	for name, enc := range map[string]*base64.Encoding{"raw payload": base64.RawURLEncoding, "padded payload": base64.URLEncoding} {
		tok := "eyJhbGciOiJub25lIn0=" + "." + enc.EncodeToString(payload)
		h, c, err := jose.Decode(tok)
		if err != nil {
			t.Fatalf("%s: Decode(%q): %v", name, tok, err)
		}
		if h["alg"] != "none" || c["software_id"] != "abc" {
			t.Fatalf("%s: Decode = %v %v", name, h, c)
		}
	}
	// Surrounding whitespace, as a pasted SSA file carries, is ignored.
	if _, _, err := jose.Decode("  eyJhbGciOiJub25lIn0=." + b64.EncodeToString(payload) + "\n"); err != nil {
		t.Fatalf("Decode with surrounding whitespace: %v", err)
	}
}

func TestDecodeTwoSegmentsNeedAlgNone(t *testing.T) {
	p := b64.EncodeToString([]byte(`{"iss":"x"}`))
	for _, hdr := range []string{`{"alg":"RS256"}`, `{"alg":"PS256"}`, `{}`, `{"alg":"NONE"}`} {
		tok := b64.EncodeToString([]byte(hdr)) + "." + p
		if _, _, err := jose.Decode(tok); !errors.Is(err, jose.ErrMalformed) {
			t.Errorf("Decode(2 segments, header %s): err = %v, want ErrMalformed", hdr, err)
		}
	}
}

func TestDecodeMalformed(t *testing.T) {
	obj := b64.EncodeToString([]byte(`{"alg":"PS256"}`))
	cases := map[string]string{
		"empty":                  "",
		"whitespace":             "   ",
		"one segment":            obj,
		"four segments":          obj + "." + obj + ".c2ln." + obj,
		"five segments":          "a.b.c.d.e",
		"bad base64 header":      "!!!." + obj + ".c2ln",
		"bad base64 payload":     obj + ".%%%.c2ln",
		"std base64 header":      base64.StdEncoding.EncodeToString([]byte(`{"alg":"PS256","x":"??>"}`)) + "." + obj + ".c2ln",
		"header is array":        b64.EncodeToString([]byte(`["alg"]`)) + "." + obj + ".c2ln",
		"header is string":       b64.EncodeToString([]byte(`"PS256"`)) + "." + obj + ".c2ln",
		"header is null":         b64.EncodeToString([]byte(`null`)) + "." + obj + ".c2ln",
		"header is number":       b64.EncodeToString([]byte(`42`)) + "." + obj + ".c2ln",
		"header invalid JSON":    b64.EncodeToString([]byte(`{"alg":`)) + "." + obj + ".c2ln",
		"header trailing junk":   b64.EncodeToString([]byte(`{"alg":"PS256"} x`)) + "." + obj + ".c2ln",
		"payload is array":       obj + "." + b64.EncodeToString([]byte(`[1,2]`)) + ".c2ln",
		"payload is string":      obj + "." + b64.EncodeToString([]byte(`"x"`)) + ".c2ln",
		"payload is null":        obj + "." + b64.EncodeToString([]byte(`null`)) + ".c2ln",
		"payload empty":          obj + "..c2ln",
		"header empty":           "." + obj + ".c2ln",
		"only dots":              "..",
		"one dot":                ".",
		"payload not JSON":       obj + "." + b64.EncodeToString([]byte(`hello`)) + ".c2ln",
		"two segments bad b64":   "###.###",
		"header is JSON in text": `{"alg":"none"}.{"iss":"x"}.`,
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			h, c, err := jose.Decode(tok)
			if err == nil {
				t.Fatalf("Decode(%q) = %v, %v, nil; want an error", tok, h, c)
			}
			if !errors.Is(err, jose.ErrMalformed) {
				t.Fatalf("Decode(%q): err = %v, want one wrapping ErrMalformed", tok, err)
			}
			if h != nil || c != nil {
				t.Fatalf("Decode(%q) returned data with an error: %v %v", tok, h, c)
			}
		})
	}
}

func TestAssemble(t *testing.T) {
	h, p, s := []byte(`{"alg":"PS256"}`), []byte(`{"iss":"x"}`), []byte{0, 1, 2, 0xff}
	parts := segments(t, jose.Assemble(h, p, s))
	for i, want := range [][]byte{h, p, s} {
		got, err := b64.DecodeString(parts[i])
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("segment %d = %q (%v), want %q", i, got, err, want)
		}
		if strings.ContainsAny(parts[i], "=+/") {
			t.Errorf("segment %d %q is not unpadded base64url", i, parts[i])
		}
	}
}

func TestTamperSignature(t *testing.T) {
	key, _, _ := keys(t)
	tok := mustSign(t, "PS256", key, jose.Header{"kid": "k1"}, testClaims)
	bad, err := jose.TamperSignature(tok)
	if err != nil {
		t.Fatal(err)
	}
	a, b := segments(t, tok), segments(t, bad)
	if a[0] != b[0] || a[1] != b[1] {
		t.Fatal("TamperSignature changed the header or payload")
	}
	sa, _ := b64.DecodeString(a[2])
	sb, err := b64.DecodeString(b[2])
	if err != nil || len(sa) != len(sb) {
		t.Fatalf("tampered signature = %d bytes (%v), want %d", len(sb), err, len(sa))
	}
	diff := 0
	for i := range sa {
		x := sa[i] ^ sb[i]
		for ; x != 0; x &= x - 1 {
			diff++
		}
	}
	if diff != 1 {
		t.Fatalf("TamperSignature flipped %d bits, want 1", diff)
	}

	unsigned, _ := jose.Unsigned(jose.Header{"alg": "none"}, testClaims)
	for _, in := range []string{unsigned, "a.b", "", "a.b.c.d", "a.b.=", "a.b.==", "a.b.!!!"} {
		if _, err := jose.TamperSignature(in); err == nil {
			t.Errorf("TamperSignature(%q): no error", in)
		}
	}
}

func TestReplacePayload(t *testing.T) {
	key, _, _ := keys(t)
	tok := mustSign(t, "PS256", key, jose.Header{"kid": "k1"}, testClaims)
	swapped, err := jose.ReplacePayload(tok, jose.Claims{"iss": "attacker"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := segments(t, tok), segments(t, swapped)
	if a[0] != b[0] || a[2] != b[2] {
		t.Fatal("ReplacePayload changed the header or signature")
	}
	if c := decodeJSONSegment(t, b[1]); !reflect.DeepEqual(c, map[string]any{"iss": "attacker"}) {
		t.Fatalf("replaced payload = %v", c)
	}
	if _, err := jose.ReplacePayload("a.b", testClaims); !errors.Is(err, jose.ErrMalformed) {
		t.Fatalf("ReplacePayload on 2 segments: err = %v, want ErrMalformed", err)
	}
}

func TestKeySetVerify(t *testing.T) {
	key, other, ec := keys(t)
	set := keySet(t,
		jose.PublicKey{Key: &key.PublicKey, Kid: "k1", Alg: "PS256", Use: "sig"},
		jose.PublicKey{Key: &ec.PublicKey, Kid: "e1"},
	)
	good := mustSign(t, "PS256", key, jose.Header{"kid": "k1"}, testClaims)

	t.Run("valid", func(t *testing.T) {
		h, c, err := set.Verify(good, psOnly)
		if err != nil {
			t.Fatalf("Verify(valid PS256): %v", err)
		}
		if h["kid"] != "k1" || h["alg"] != "PS256" || !reflect.DeepEqual(map[string]any(c), map[string]any(testClaims)) {
			t.Fatalf("Verify returned %v %v", h, c)
		}
	})
	t.Run("valid ES256", func(t *testing.T) {
		tok := mustSign(t, "ES256", ec, jose.Header{"kid": "e1"}, testClaims)
		if _, _, err := set.Verify(tok, []string{"ES256"}); err != nil {
			t.Fatalf("Verify(valid ES256): %v", err)
		}
	})
	t.Run("hand-built PS256 with salt = hash length", func(t *testing.T) {
		tok := psSign(t, key, map[string]any{"alg": "PS256", "kid": "k1"}, testClaims, rsa.PSSSaltLengthEqualsHash)
		if _, _, err := set.Verify(tok, psOnly); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})

	fails := []struct {
		name    string
		token   func(t *testing.T) string
		allowed []string
		want    error
	}{
		{"tampered signature", func(t *testing.T) string {
			s, err := jose.TamperSignature(good)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, psOnly, jose.ErrBadSignature},
		{"replaced payload", func(t *testing.T) string {
			s, err := jose.ReplacePayload(good, jose.Claims{"iss": "attacker", "aud": "revolut"})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, psOnly, jose.ErrBadSignature},
		{"unknown kid", func(t *testing.T) string {
			return mustSign(t, "PS256", key, jose.Header{"kid": "nobody"}, testClaims)
		}, psOnly, jose.ErrUnknownKid},
		{"missing kid", func(t *testing.T) string {
			return mustSign(t, "PS256", key, nil, testClaims)
		}, psOnly, jose.ErrNoKid},
		{"empty kid", func(t *testing.T) string {
			return mustSign(t, "PS256", key, jose.Header{"kid": ""}, testClaims)
		}, psOnly, jose.ErrNoKid},
		{"RS256 when only PS256 allowed", func(t *testing.T) string {
			return mustSign(t, "RS256", key, jose.Header{"kid": "k1"}, testClaims)
		}, psOnly, jose.ErrAlgNotAllowed},
		{"alg none", func(t *testing.T) string {
			s, err := jose.Unsigned(jose.Header{"alg": "none", "kid": "k1"}, testClaims)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, psOnly, jose.ErrAlgNotAllowed},
		{"alg none two segments", func(t *testing.T) string {
			return "eyJhbGciOiJub25lIn0=." + b64.EncodeToString([]byte(`{"iss":"x"}`))
		}, psOnly, jose.ErrAlgNotAllowed},
		{"nothing allowed", func(t *testing.T) string { return good }, nil, jose.ErrAlgNotAllowed},
		{"crit header", func(t *testing.T) string {
			return psSign(t, key, map[string]any{"alg": "PS256", "kid": "k1", "crit": []string{"exp"}, "exp": 1}, testClaims, rsa.PSSSaltLengthEqualsHash)
		}, psOnly, jose.ErrUnsupportedCrit},
		{"other key, same kid", func(t *testing.T) string {
			return mustSign(t, "PS256", other, jose.Header{"kid": "k1"}, testClaims)
		}, psOnly, jose.ErrBadSignature},
		{"RSA token naming an EC key", func(t *testing.T) string {
			return mustSign(t, "PS256", key, jose.Header{"kid": "e1"}, testClaims)
		}, psOnly, jose.ErrBadSignature},
		{"malformed", func(t *testing.T) string { return "not-a-jwt" }, psOnly, jose.ErrMalformed},
	}
	for _, tc := range fails {
		t.Run(tc.name, func(t *testing.T) {
			tok := tc.token(t)
			_, _, err := set.Verify(tok, tc.allowed)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify: err = %v, want %v", err, tc.want)
			}
			for _, other := range []error{jose.ErrMalformed, jose.ErrAlgNotAllowed, jose.ErrNoKid, jose.ErrUnknownKid, jose.ErrBadSignature, jose.ErrUnsupportedCrit} {
				if other != tc.want && errors.Is(err, other) {
					t.Fatalf("Verify: err = %v also matches %v", err, other)
				}
			}
		})
	}

	// Controls: the failures above are caused by the named defect, not by something else.
	t.Run("RS256 passes when allowed", func(t *testing.T) {
		tok := mustSign(t, "RS256", key, jose.Header{"kid": "k1"}, testClaims)
		if _, _, err := set.Verify(tok, psAndRS); err != nil {
			t.Fatalf("Verify(RS256, allowed): %v", err)
		}
	})
	t.Run("same header without crit passes", func(t *testing.T) {
		tok := psSign(t, key, map[string]any{"alg": "PS256", "kid": "k1", "exp": 1}, testClaims, rsa.PSSSaltLengthEqualsHash)
		if _, _, err := set.Verify(tok, psOnly); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})
	t.Run("other key passes under its own kid", func(t *testing.T) {
		set2 := keySet(t, jose.PublicKey{Key: &other.PublicKey, Kid: "k1"})
		tok := mustSign(t, "PS256", other, jose.Header{"kid": "k1"}, testClaims)
		if _, _, err := set2.Verify(tok, psOnly); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if _, _, err := set2.Verify(good, psOnly); !errors.Is(err, jose.ErrBadSignature) {
			t.Fatalf("Verify(first key's token against second key): err = %v, want ErrBadSignature", err)
		}
	})
}

func TestVerifyWith(t *testing.T) {
	key, other, _ := keys(t)
	tok := mustSign(t, "PS256", key, nil, testClaims) // no kid: VerifyWith does not need one
	h, c, err := jose.VerifyWith(tok, &key.PublicKey, psOnly)
	if err != nil {
		t.Fatalf("VerifyWith(right key): %v", err)
	}
	if h["alg"] != "PS256" || c["iss"] != "tpp-123" {
		t.Fatalf("VerifyWith returned %v %v", h, c)
	}
	if _, _, err := jose.VerifyWith(tok, &other.PublicKey, psOnly); !errors.Is(err, jose.ErrBadSignature) {
		t.Fatalf("VerifyWith(wrong key): err = %v, want ErrBadSignature", err)
	}
	tampered, _ := jose.TamperSignature(tok)
	if _, _, err := jose.VerifyWith(tampered, &key.PublicKey, psOnly); !errors.Is(err, jose.ErrBadSignature) {
		t.Fatalf("VerifyWith(tampered): err = %v, want ErrBadSignature", err)
	}
	rs := mustSign(t, "RS256", key, nil, testClaims)
	if _, _, err := jose.VerifyWith(rs, &key.PublicKey, psOnly); !errors.Is(err, jose.ErrAlgNotAllowed) {
		t.Fatalf("VerifyWith(RS256, PS256 only): err = %v, want ErrAlgNotAllowed", err)
	}
	crit := psSign(t, key, map[string]any{"alg": "PS256", "crit": []string{"exp"}, "exp": 1}, testClaims, rsa.PSSSaltLengthEqualsHash)
	if _, _, err := jose.VerifyWith(crit, &key.PublicKey, psOnly); !errors.Is(err, jose.ErrUnsupportedCrit) {
		t.Fatalf("VerifyWith(crit): err = %v, want ErrUnsupportedCrit", err)
	}
	if _, _, err := jose.VerifyWith("x.y", &key.PublicKey, psOnly); !errors.Is(err, jose.ErrMalformed) {
		t.Fatalf("VerifyWith(malformed): err = %v, want ErrMalformed", err)
	}
}

func TestPublicJWKS(t *testing.T) {
	key, other, ec := keys(t)
	doc, err := jose.PublicJWKS(
		jose.PublicKey{Key: &key.PublicKey, Kid: "k1", Alg: "PS256", Use: "sig"},
		jose.PublicKey{Key: &other.PublicKey, Kid: "k2"},
		jose.PublicKey{Key: &ec.PublicKey, Kid: "e1", Alg: "ES256"},
	)
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatalf("JWKS is not JSON: %v\n%s", err, doc)
	}
	if len(set.Keys) != 3 {
		t.Fatalf("JWKS has %d keys, want 3", len(set.Keys))
	}
	for _, k := range set.Keys {
		for _, m := range privateJWKMembers {
			if _, ok := k[m]; ok {
				t.Errorf("key %v publishes private member %q", k["kid"], m)
			}
		}
	}
	k1 := set.Keys[0]
	if k1["kid"] != "k1" || k1["kty"] != "RSA" || k1["alg"] != "PS256" || k1["use"] != "sig" {
		t.Errorf("first key = %v", k1)
	}
	n, err := b64.DecodeString(k1["n"].(string))
	if err != nil || new(big.Int).SetBytes(n).Cmp(key.N) != 0 {
		t.Errorf("first key n does not match the public key (%v)", err)
	}
	if _, ok := set.Keys[1]["alg"]; ok {
		t.Errorf("key without Alg publishes alg: %v", set.Keys[1])
	}
	if _, ok := set.Keys[1]["use"]; ok {
		t.Errorf("key without Use publishes use: %v", set.Keys[1])
	}
	if set.Keys[2]["kty"] != "EC" || set.Keys[2]["crv"] != "P-256" {
		t.Errorf("EC key = %v", set.Keys[2])
	}
	ks, err := jose.ParseKeySet(doc)
	if err != nil {
		t.Fatalf("ParseKeySet(PublicJWKS output): %v", err)
	}
	if got := ks.Kids(); !reflect.DeepEqual(got, []string{"e1", "k1", "k2"}) {
		t.Errorf("Kids() = %v, want sorted [e1 k1 k2]", got)
	}

	for name, priv := range map[string]any{"RSA private": key, "EC private": ec, "symmetric secret": []byte("0123456789abcdef0123456789abcdef")} {
		out, err := jose.PublicJWKS(jose.PublicKey{Key: &key.PublicKey, Kid: "ok"}, jose.PublicKey{Key: priv, Kid: "bad"})
		if err == nil {
			t.Errorf("PublicJWKS(%s) = %s, want an error", name, out)
		}
	}
	if _, err := jose.PublicJWKS(jose.PublicKey{Key: "not a key", Kid: "x"}); err == nil {
		t.Error("PublicJWKS(non-key): no error")
	}
}

func bigB64(i *big.Int) string { return b64.EncodeToString(i.Bytes()) }

func TestParseKeySetRefuses(t *testing.T) {
	key, _, ec := keys(t)
	key.Precompute()
	rsaPriv := map[string]any{
		"kty": "RSA", "kid": "k1", "n": bigB64(key.N), "e": "AQAB", "d": bigB64(key.D),
		"p": bigB64(key.Primes[0]), "q": bigB64(key.Primes[1]),
		"dp": bigB64(key.Precomputed.Dp), "dq": bigB64(key.Precomputed.Dq), "qi": bigB64(key.Precomputed.Qinv),
	}
	rsaPrivDOnly := map[string]any{"kty": "RSA", "kid": "k1", "n": bigB64(key.N), "e": "AQAB", "d": bigB64(key.D)}
	pad := func(b []byte) string { return b64.EncodeToString(append(make([]byte, 32-len(b)), b...)) }
	ecPriv := map[string]any{"kty": "EC", "kid": "e1", "crv": "P-256",
		"x": pad(ec.X.Bytes()), "y": pad(ec.Y.Bytes()), "d": pad(ec.D.Bytes())}
	okpPriv := map[string]any{"kty": "OKP", "kid": "o1", "crv": "Ed25519",
		"x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}
	oct := map[string]any{"kty": "oct", "kid": "h1", "k": "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}
	public := map[string]any{"kty": "RSA", "kid": "pub", "n": bigB64(key.N), "e": "AQAB"}

	set := func(keys ...map[string]any) []byte {
		b, err := json.Marshal(map[string]any{"keys": keys})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if _, err := jose.ParseKeySet(set(public)); err != nil {
		t.Fatalf("control: ParseKeySet(public RSA key): %v", err)
	}
	cases := map[string][]byte{
		"RSA private key":             set(rsaPriv),
		"RSA private key, d only":     set(rsaPrivDOnly),
		"private key after a public":  set(public, rsaPriv),
		"EC private key":              set(ecPriv),
		"OKP private key":             set(okpPriv),
		"symmetric key":               set(oct),
		"empty set":                   []byte(`{"keys":[]}`),
		"garbage":                     []byte(`this is not a JWKS`),
		"empty document":              nil,
		"JSON array":                  []byte(`[1,2,3]`),
		"key without kty":             []byte(`{"keys":[{"kid":"x","n":"AQAB"}]}`),
		"truncated JSON":              set(public)[:40],
		"RSA key missing modulus":     []byte(`{"keys":[{"kty":"RSA","kid":"x","e":"AQAB"}]}`),
		"unknown kty":                 []byte(`{"keys":[{"kty":"XYZ","kid":"x"}]}`),
		"single private key, no keys": mustJSON(t, rsaPriv),
	}
	for name, doc := range cases {
		if ks, err := jose.ParseKeySet(doc); err == nil {
			t.Errorf("ParseKeySet(%s) accepted it (kids %v), want an error", name, ks.Kids())
		} else if strings.Contains(err.Error(), bigB64(key.D)[:20]) {
			t.Errorf("ParseKeySet(%s) error echoes private key material: %v", name, err)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzDecode(f *testing.F) {
	f.Add("")
	f.Add(".")
	f.Add("..")
	f.Add("a.b.c.d")
	f.Add("eyJhbGciOiJub25lIn0=.eyJpc3MiOiJ4In0")
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.")
	f.Add("eyJhbGciOiJQUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln")
	f.Add("eyJhbGciOiJQUzI1NiJ9.bnVsbA.c2ln")
	f.Add("W10.e30.")
	f.Add("=.=.=")
	f.Fuzz(func(t *testing.T, token string) {
		h, c, err := jose.Decode(token)
		if err != nil {
			if !errors.Is(err, jose.ErrMalformed) {
				t.Fatalf("Decode(%q): err = %v does not wrap ErrMalformed", token, err)
			}
			if h != nil || c != nil {
				t.Fatalf("Decode(%q) returned data with an error", token)
			}
			return
		}
		if h == nil || c == nil {
			t.Fatalf("Decode(%q) = nil header or claims without an error", token)
		}
		// TamperSignature and ReplacePayload must not panic on anything Decode accepts.
		_, _ = jose.TamperSignature(token)
		_, _ = jose.ReplacePayload(token, jose.Claims{"x": 1})
	})
}

func FuzzTamperSignature(f *testing.F) {
	f.Add("a.b.c2ln")
	f.Add("a.b.=")
	f.Add("a.b.")
	f.Add("a.b.AA")
	f.Fuzz(func(t *testing.T, token string) {
		out, err := jose.TamperSignature(token)
		if err != nil {
			return
		}
		if out == token {
			t.Fatalf("TamperSignature(%q) returned the token unchanged", token)
		}
		if got := strings.Count(out, "."); got != 2 {
			t.Fatalf("TamperSignature(%q) = %q has %d dots", token, out, got)
		}
	})
}

// TestVerifyRejectsPSSWithWrongSaltLength: a PS256 signature with a 20-byte salt verifies under
// jwx v2's lenient PSS check but breaks RFC 7518 3.5, so Verify must refuse it.
func TestVerifyRejectsPSSWithWrongSaltLength(t *testing.T) {
	key, _, _ := keys(t)
	token := psSign(t, key, map[string]any{"alg": "PS256", "kid": "k1"}, map[string]any{"iss": "x"}, 20)
	set := keySet(t, jose.PublicKey{Key: &key.PublicKey, Kid: "k1", Alg: "PS256"})
	if _, _, err := set.Verify(token, []string{"PS256"}); !errors.Is(err, jose.ErrBadSignature) {
		t.Fatalf("20-byte salt accepted: %v", err)
	}
	if _, _, err := jose.VerifyWith(token, &key.PublicKey, []string{"PS256"}); !errors.Is(err, jose.ErrBadSignature) {
		t.Fatalf("VerifyWith accepted a 20-byte salt: %v", err)
	}
}

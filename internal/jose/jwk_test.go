package jose_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/jose"
)

func TestPublicJWKRoundTrip(t *testing.T) {
	rk, _, ek := keys(t)
	for _, tc := range []struct {
		name string
		pub  crypto.PublicKey
		alg  string
	}{{"ec", &ek.PublicKey, "ES256"}, {"rsa", &rk.PublicKey, "PS256"}} {
		t.Run(tc.name, func(t *testing.T) {
			kid, err := jose.Thumbprint(tc.pub)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := jose.PublicJWK(tc.pub, kid)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(doc, &m); err != nil {
				t.Fatal(err)
			}
			for _, priv := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
				if _, ok := m[priv]; ok {
					t.Fatalf("public JWK carries private member %q", priv)
				}
			}
			if m["alg"] != tc.alg || m["kid"] != kid || m["use"] != "sig" {
				t.Fatalf("alg/kid/use = %v/%v/%v", m["alg"], m["kid"], m["use"])
			}
			got, gotKid, err := jose.ParsePublicJWK(doc)
			if err != nil {
				t.Fatal(err)
			}
			if gotKid != kid {
				t.Fatalf("kid %q, want %q", gotKid, kid)
			}
			if !got.(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.pub) {
				t.Fatal("parsed key differs")
			}
		})
	}
}

func TestThumbprintStable(t *testing.T) {
	_, _, ek := keys(t)
	a, err := jose.Thumbprint(&ek.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	b, err := jose.Thumbprint(ek) // the private key's public half
	if err != nil || a != b || len(a) != 43 {
		t.Fatalf("thumbprints %q %q (%v)", a, b, err)
	}
}

func TestPublicJWKRefusesPrivateKey(t *testing.T) {
	rk, _, ek := keys(t)
	for _, k := range []crypto.PublicKey{ek, rk} {
		if _, err := jose.PublicJWK(k, "x"); err == nil {
			t.Fatalf("PublicJWK(%T) rendered a private key", k)
		}
	}
}

func TestParsePublicJWKRefusesPrivateAndOdd(t *testing.T) {
	_, _, ek := keys(t)
	doc, err := jose.PublicJWK(&ek.PublicKey, "k1")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(doc, &m)
	with := func(k string, v any) []byte {
		c := map[string]any{}
		for a, b := range m {
			c[a] = b
		}
		c[k] = v
		out, _ := json.Marshal(c)
		return out
	}
	cases := map[string][]byte{
		"private d":     with("d", "AAAA"),
		"symmetric k":   []byte(`{"kty":"oct","k":"c2VjcmV0"}`),
		"set":           []byte(`{"keys":[` + string(doc) + `]}`),
		"not json":      []byte("-----BEGIN PUBLIC KEY-----"),
		"wrong alg":     with("alg", "RS256"),
		"wrong use":     with("use", "enc"),
		"trailing data": append(append([]byte{}, doc...), []byte(`{}`)...),
	}
	for name, data := range cases {
		if _, _, err := jose.ParsePublicJWK(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, _, err := jose.ParsePublicJWK(with("d", "AAAA")); !errors.Is(err, jose.ErrPrivateJWK) {
		t.Errorf("private member: err %v, want ErrPrivateJWK", err)
	}
}

func TestAlgForRefusesWeakKeys(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for _, k := range []crypto.PublicKey{&small.PublicKey, &p384.PublicKey, "not a key"} {
		if alg, err := jose.AlgFor(k); err == nil {
			t.Errorf("AlgFor(%T) = %s", k, alg)
		}
	}
}

func TestSignVerifyPayload(t *testing.T) {
	rk, rk2, ek := keys(t)
	payload := []byte("{\n  \"b\": 1,\n  \"a\": \"<&>\"\n}\n") // exact bytes, not re-encoded JSON
	for _, tc := range []struct {
		name   string
		key    crypto.Signer
		other  crypto.PublicKey
		header string
	}{{"ES256", ek, &rk.PublicKey, "ES256"}, {"PS256", rk, &rk2.PublicKey, "PS256"}} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := jose.SignPayload(tc.key, "kid-1", "test+jws", payload)
			if err != nil {
				t.Fatal(err)
			}
			got, h, err := jose.VerifyPayload(tok, tc.key.Public())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, payload) {
				t.Fatalf("payload %q", got)
			}
			if h["alg"] != tc.header || h["kid"] != "kid-1" || h["typ"] != "test+jws" {
				t.Fatalf("header %v", h)
			}
			if _, _, err := jose.VerifyPayload(tok, tc.other); err == nil {
				t.Fatal("verified with another key")
			}
			tampered, err := jose.TamperSignature(tok)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := jose.VerifyPayload(tampered, tc.key.Public()); !errors.Is(err, jose.ErrBadSignature) {
				t.Fatalf("tampered signature: %v", err)
			}
			parts := strings.Split(tok, ".")
			swapped := parts[0] + "." + b64.EncodeToString([]byte(`{"b":2}`)) + "." + parts[2]
			if _, _, err := jose.VerifyPayload(swapped, tc.key.Public()); err == nil {
				t.Fatal("swapped payload verified")
			}
			if _, _, err := jose.VerifyPayload(tok+"\n", tc.key.Public()); err == nil {
				t.Fatal("non-compact token accepted")
			}
		})
	}
}

func TestVerifyPayloadRefusesAlgConfusion(t *testing.T) {
	rk, _, ek := keys(t)
	// An RS256 token from the right RSA key is still refused: the key signs PS256 only.
	tok, err := jose.SignBytes("RS256", rk, jose.Header{}, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := jose.VerifyPayload(tok, &rk.PublicKey); !errors.Is(err, jose.ErrAlgNotAllowed) {
		t.Fatalf("RS256 under a PS256 key: %v", err)
	}
	unsigned, _ := jose.Unsigned(jose.Header{"alg": "none"}, jose.Claims{"a": 1})
	if _, _, err := jose.VerifyPayload(unsigned, &ek.PublicKey); err == nil {
		t.Fatal("unsigned token accepted")
	}
	crit, err := jose.SignBytes("ES256", ek, jose.Header{"crit": []string{"exp"}, "exp": 1}, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := jose.VerifyPayload(crit, &ek.PublicKey); !errors.Is(err, jose.ErrUnsupportedCrit) {
		t.Fatalf("crit: %v", err)
	}
}

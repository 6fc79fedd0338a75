package pki_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/pki"
)

func b64(n *big.Int, size int) string {
	b := n.Bytes()
	if size > len(b) {
		b = append(make([]byte, size-len(b)), b...)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Private keys load from JWK files as well as PEM, RSA and EC P-256; a signing key must be RSA.
func TestLoadPrivateKeyFromJWK(t *testing.T) {
	dir := t.TempDir()
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	rk.Precompute()
	rsaJWK, _ := json.Marshal(map[string]string{"kty": "RSA", "kid": "r1", "n": b64(rk.N, 0), "e": b64(big.NewInt(int64(rk.E)), 0),
		"d": b64(rk.D, 0), "p": b64(rk.Primes[0], 0), "q": b64(rk.Primes[1], 0),
		"dp": b64(rk.Precomputed.Dp, 0), "dq": b64(rk.Precomputed.Dq, 0), "qi": b64(rk.Precomputed.Qinv, 0)})
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecJWK, _ := json.Marshal(map[string]string{"kty": "EC", "crv": "P-256", "x": b64(ek.X, 32), "y": b64(ek.Y, 32), "d": b64(ek.D, 32)})
	rsaPath, ecPath := filepath.Join(dir, "rsa.jwk"), filepath.Join(dir, "ec.jwk")
	os.WriteFile(rsaPath, rsaJWK, 0o600)
	os.WriteFile(ecPath, ecJWK, 0o600)

	k, err := pki.LoadPrivateKey(rsaPath)
	if err != nil || !k.Public().(*rsa.PublicKey).Equal(&rk.PublicKey) {
		t.Fatalf("RSA JWK: %v", err)
	}
	sk, err := pki.LoadSigningKey(rsaPath, "r1")
	if err != nil || sk.Kid != "r1" {
		t.Fatalf("signing key from JWK: %v", err)
	}
	k, err = pki.LoadPrivateKey(ecPath)
	if err != nil || !k.Public().(*ecdsa.PublicKey).Equal(&ek.PublicKey) {
		t.Fatalf("EC JWK: %v", err)
	}
	if _, err := pki.LoadSigningKey(ecPath, ""); err == nil || !strings.Contains(err.Error(), "RSA") {
		t.Errorf("an EC key was taken for PS256: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "oct.jwk"), []byte(`{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQ"}`), 0o600)
	if _, err := pki.LoadPrivateKey(filepath.Join(dir, "oct.jwk")); err == nil || strings.Contains(err.Error(), "c2Vj") {
		t.Errorf("a symmetric JWK: %v", err)
	}
}

package evidence

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/jose"
)

func TestLoadOrCreateEvidenceKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".dcrconform", "keys", "evidence-key.pem")
	key, err := LoadOrCreateEvidenceKey(path)
	if err != nil {
		t.Fatal(err)
	}
	ek, ok := key.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		t.Fatalf("created key %T, want ECDSA P-256", key)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	// Loaded again: the same key, so the same kid (its thumbprint) in every bundle.
	again, err := LoadOrCreateEvidenceKey(path)
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := jose.Thumbprint(key.Public())
	kid2, _ := jose.Thumbprint(again.Public())
	if kid == "" || kid2 != kid || !again.(*ecdsa.PrivateKey).Equal(key) {
		t.Fatal("reloading gave another key or kid")
	}
}

func TestLoadEvidenceKeyForms(t *testing.T) {
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ec := ecKey(t, "sec1")
	sec1, _ := x509.MarshalECPrivateKey(ec)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(rk)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384der, _ := x509.MarshalPKCS8PrivateKey(p384)

	if k, err := LoadOrCreateEvidenceKey(write("ec.pem", "EC PRIVATE KEY", sec1)); err != nil || !ec.Equal(k) {
		t.Fatalf("SEC 1 EC key: %v", err)
	}
	if k, err := LoadOrCreateEvidenceKey(write("rsa.pem", "PRIVATE KEY", p8)); err != nil {
		t.Fatalf("PKCS#8 RSA key: %v", err)
	} else if _, ok := k.(*rsa.PrivateKey); !ok {
		t.Fatalf("got %T", k)
	}
	if _, err := LoadOrCreateEvidenceKey(write("p384.pem", "PRIVATE KEY", p384der)); err == nil {
		t.Fatal("P-384 key accepted (the bundle signs ES256 or PS256)")
	}
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a key"), 0o600)
	if _, err := LoadOrCreateEvidenceKey(garbage); err == nil || strings.Contains(err.Error(), "not a key") {
		t.Fatalf("garbage: %v", err)
	}
	if _, err := LoadOrCreateEvidenceKey(""); err == nil {
		t.Fatal("empty path accepted")
	}
	if info, err := os.Stat(garbage); err != nil || info.Size() != int64(len("not a key")) {
		t.Fatal("an unreadable key file was overwritten")
	}
}

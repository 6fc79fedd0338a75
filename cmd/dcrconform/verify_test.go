package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/engine"
	"github.com/dcrconform/dcrconform/internal/evidence"
	"github.com/dcrconform/dcrconform/internal/jose"
)

func verifyBundle(t *testing.T) (dir string, key, other *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	dir = filepath.Join(t.TempDir(), "reports", "run-1")
	now := time.Now()
	outs := []engine.Outcome{{ID: "JWS-01", Title: "t", Group: "request-jws", Level: catalogue.MUST, Verdict: engine.Pass, Reason: "ok"}}
	meta := evidence.Meta{Tool: "dcrconform", Version: "test", Target: "https://127.0.0.1:1/register", Profile: "revolut",
		Started: now, Finished: now}
	if err := evidence.WriteBundle(dir, meta, outs, map[string][]byte{"junit.xml": []byte("<x/>")}, key); err != nil {
		t.Fatal(err)
	}
	return dir, key, other
}

func writeJWK(t *testing.T, k *ecdsa.PrivateKey) string {
	t.Helper()
	doc, err := jose.PublicJWK(&k.PublicKey, "k")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "key.jwk")
	os.WriteFile(p, doc, 0o644)
	return p
}

func runVerify(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := dispatch(append([]string{"verify"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestVerifyCommand(t *testing.T) {
	dir, key, other := verifyBundle(t)
	keyJWK, otherJWK := writeJWK(t, key), writeJWK(t, other)

	code, out, _ := runVerify(dir)
	if code != 0 || !strings.HasPrefix(out, "integrity verified; signer NOT proven (no --key given)\n") {
		t.Fatalf("no key: %d %q", code, out)
	}
	for _, args := range [][]string{{dir, "--key", keyJWK}, {"--key", keyJWK, dir}} {
		code, out, _ = runVerify(args...)
		if code != 0 || !strings.HasPrefix(out, "integrity verified; signed by the given key\n") {
			t.Fatalf("%v: %d %q", args, code, out)
		}
	}
	// A PEM PUBLIC KEY works too.
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pemPath := filepath.Join(t.TempDir(), "key.pem")
	os.WriteFile(pemPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)
	if code, out, _ = runVerify(dir, "--key", pemPath); code != 0 {
		t.Fatalf("PEM key: %d %q", code, out)
	}

	code, out, _ = runVerify(dir, "--key", otherJWK)
	if code != 1 || !strings.Contains(out, "verification FAILED") || !strings.Contains(out, "not signed by the given key") {
		t.Fatalf("other key: %d %q", code, out)
	}

	os.WriteFile(filepath.Join(dir, "extra.txt"), []byte("x"), 0o644)
	code, out, _ = runVerify(dir)
	if code != 1 || !strings.Contains(out, "  - extra: extra.txt is not in the manifest") {
		t.Fatalf("extra file: %d %q", code, out)
	}
}

func TestVerifyCommandUnusableInput(t *testing.T) {
	dir, key, _ := verifyBundle(t)
	b64 := func(n *big.Int) string { return base64.RawURLEncoding.EncodeToString(n.FillBytes(make([]byte, 32))) }
	privJWK := filepath.Join(t.TempDir(), "priv.jwk")
	os.WriteFile(privJWK, []byte(`{"kty":"EC","crv":"P-256","x":"`+b64(key.X)+`","y":"`+b64(key.Y)+`","d":"`+b64(key.D)+`"}`), 0o644)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	// The key in the forms a careless message could echo: the JWK's d and the PEM's base64 body.
	secrets := []string{"-----BEGIN", b64(key.D), base64.StdEncoding.EncodeToString(der)[len(der)/2:][:32]}
	privPEM := filepath.Join(t.TempDir(), "priv.pem")
	os.WriteFile(privPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	for name, args := range map[string][]string{
		"missing dir":     {filepath.Join(t.TempDir(), "nope")},
		"no dir":          {},
		"two dirs":        {dir, dir},
		"missing key":     {dir, "--key", filepath.Join(t.TempDir(), "nope.jwk")},
		"private JWK":     {dir, "--key", privJWK},
		"private PEM":     {dir, "--key", privPEM},
		"unknown flag":    {dir, "--nope"},
		"key not a key":   {dir, "--key", filepath.Join(dir, "junit.xml")},
		"dir is a file":   {filepath.Join(dir, "junit.xml")},
		"key flag no arg": {dir, "--key"},
	} {
		code, out, errOut := runVerify(args...)
		if code != 2 || out != "" || errOut == "" {
			t.Errorf("%s: code %d, stdout %q, stderr %q", name, code, out, errOut)
		}
		for _, s := range secrets {
			if strings.Contains(errOut, s) {
				t.Errorf("%s: key material in the message: %q", name, errOut)
			}
		}
	}
}

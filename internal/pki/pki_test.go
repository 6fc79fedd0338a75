package pki_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/pki"
)

var (
	setOnce sync.Once
	theSet  *pki.Set
	setErr  error
)

// keys returns one generated Set shared by the package's tests; Generate makes several RSA keys.
func keys(t testing.TB) *pki.Set {
	t.Helper()
	setOnce.Do(func() { theSet, setErr = pki.Generate() })
	if setErr != nil {
		t.Fatalf("Generate: %v", setErr)
	}
	return theSet
}

// written writes the shared Set into a fresh directory and returns it.
func written(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "keys")
	if err := keys(t).WriteDir(dir); err != nil {
		t.Fatalf("WriteDir: %v", err)
	}
	return dir
}

func TestGenerateTransportCert(t *testing.T) {
	s := keys(t)
	if s.Transport.Cert == nil || s.Transport.Key == nil {
		t.Fatal("no transport certificate")
	}
	opts := x509.VerifyOptions{Roots: s.CAPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if _, err := s.Transport.Cert.Verify(opts); err != nil {
		t.Fatalf("transport certificate does not verify for client auth against CAPool: %v", err)
	}
	// It is a client certificate only.
	opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	if _, err := s.Transport.Cert.Verify(opts); err == nil {
		t.Fatal("transport certificate verifies for server auth")
	}
	// Nor does it verify against an empty pool: the CA really is what makes it trusted.
	if _, err := s.Transport.Cert.Verify(x509.VerifyOptions{Roots: x509.NewCertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Fatal("transport certificate verifies against an empty pool")
	}
	rk, ok := s.Transport.Key.(*rsa.PrivateKey)
	if !ok || rk.N.BitLen() < 2048 {
		t.Fatalf("transport key is %T, want RSA >= 2048 bits", s.Transport.Key)
	}
	if !rk.PublicKey.Equal(s.Transport.Cert.PublicKey) {
		t.Fatal("transport key does not match its certificate")
	}
	dn := pki.SubjectDN(s.Transport.Cert)
	for _, want := range []string{"CN=dcrconform-tpp", "OU=0015800001041RHAAY", "O=dcrconform Test TPP", "C=GB"} {
		if !strings.Contains(dn, want) {
			t.Errorf("SubjectDN = %q, missing %q", dn, want)
		}
	}
}

func TestGenerateServerCert(t *testing.T) {
	s := keys(t)
	for _, host := range []string{"127.0.0.1", "localhost", "::1"} {
		opts := x509.VerifyOptions{Roots: s.CAPool(), DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if _, err := s.Server.Cert.Verify(opts); err != nil {
			t.Errorf("server certificate is not valid for %s: %v", host, err)
		}
	}
	for _, host := range []string{"example.com", "127.0.0.2", "localhost.example"} {
		if err := s.Server.Cert.VerifyHostname(host); err == nil {
			t.Errorf("server certificate is valid for %s", host)
		}
	}
	opts := x509.VerifyOptions{Roots: s.CAPool(), DNSName: "localhost", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if _, err := s.Server.Cert.Verify(opts); err == nil {
		t.Error("server certificate verifies for client auth")
	}
	if !s.CA.Cert.IsCA {
		t.Error("CA certificate is not a CA")
	}
}

func TestGenerateUntrustedCert(t *testing.T) {
	s := keys(t)
	if s.Untrusted == nil {
		t.Fatal("no untrusted certificate")
	}
	opts := x509.VerifyOptions{Roots: s.CAPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	_, err := s.Untrusted.Cert.Verify(opts)
	if err == nil {
		t.Fatal("untrusted certificate verifies against CAPool")
	}
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("untrusted certificate fails for the wrong reason: %v", err)
	}
	if !s.Untrusted.Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(s.Untrusted.Cert.PublicKey) {
		t.Fatal("untrusted key does not match its certificate")
	}
}

func TestGenerateSigningKeys(t *testing.T) {
	s := keys(t)
	for name, k := range map[string]pki.SigningKey{"signing": s.Signing, "foreign": s.Foreign, "directory": s.Directory} {
		if k.Key == nil || k.Key.N.BitLen() != 2048 {
			t.Errorf("%s key is not RSA-2048", name)
			continue
		}
		if k.Kid != pki.KidOf(&k.Key.PublicKey) {
			t.Errorf("%s kid %q is not KidOf its key", name, k.Kid)
		}
	}
	if s.Signing.Kid == s.Foreign.Kid || s.Signing.Kid == s.Directory.Kid || s.Foreign.Kid == s.Directory.Kid {
		t.Error("two generated signing keys share a kid")
	}
	if s.Signing.Key.Equal(s.Foreign.Key) {
		t.Error("signing and foreign keys are the same key")
	}
	if s.Signing.EC == nil || s.Signing.EC.Curve != elliptic.P256() || s.Signing.ECKid() != s.Signing.Kid+"-es256" {
		t.Error("the TPP's signing key has no EC P-256 partner under its derived kid")
	}
	if s.Signing.ECKid() == s.Signing.Kid {
		t.Error("the EC and RSA signing keys share a kid")
	}
}

// The pairs Generate makes work in a real TLS handshake, run over an in-memory pipe.
func TestTLSHandshake(t *testing.T) {
	s := keys(t)
	handshake := func(client *pki.Issued) (clientErr, serverErr error) {
		c, sv := net.Pipe()
		defer c.Close()
		defer sv.Close()
		deadline := time.Now().Add(10 * time.Second)
		_ = c.SetDeadline(deadline)
		_ = sv.SetDeadline(deadline)
		srv := tls.Server(sv, &tls.Config{
			Certificates: []tls.Certificate{s.Server.TLSCertificate()},
			ClientCAs:    s.CAPool(),
			ClientAuth:   tls.RequireAndVerifyClientCert,
			MinVersion:   tls.VersionTLS12,
		})
		cfg := &tls.Config{RootCAs: s.CAPool(), ServerName: "localhost", MinVersion: tls.VersionTLS12}
		if client != nil {
			cfg.Certificates = []tls.Certificate{client.TLSCertificate()}
		}
		cli := tls.Client(c, cfg)
		done := make(chan error, 1)
		go func() {
			err := srv.Handshake()
			if err != nil {
				sv.Close()
			}
			done <- err
		}()
		clientErr = cli.Handshake()
		if clientErr == nil {
			// In TLS 1.3 the client finishes first; a read surfaces the server's verdict.
			_ = cli.SetReadDeadline(time.Now().Add(2 * time.Second))
			_, _ = cli.Read(make([]byte, 1))
		}
		c.Close()
		serverErr = <-done
		return clientErr, serverErr
	}
	if cerr, serr := handshake(&s.Transport); cerr != nil || serr != nil {
		t.Fatalf("handshake with the transport certificate: client %v, server %v", cerr, serr)
	}
	if _, serr := handshake(s.Untrusted); serr == nil {
		t.Fatal("server accepted the untrusted client certificate")
	}
	if _, serr := handshake(nil); serr == nil {
		t.Fatal("server accepted a client without a certificate")
	}
}

func TestIssueServer(t *testing.T) {
	s := keys(t)
	iss, err := s.IssueServer()
	if err != nil {
		t.Fatal(err)
	}
	if iss.Cert.SerialNumber.Cmp(s.Server.Cert.SerialNumber) == 0 {
		t.Error("IssueServer reused the server certificate's serial")
	}
	if _, err := iss.Cert.Verify(x509.VerifyOptions{Roots: s.CAPool(), DNSName: "127.0.0.1"}); err != nil {
		t.Errorf("issued server certificate does not verify: %v", err)
	}
	if _, err := (&pki.Set{}).IssueServer(); err == nil {
		t.Error("IssueServer without a CA: no error")
	}
	var empty pki.Set
	if p := empty.CAPool(); p == nil || p.Equal(s.CAPool()) {
		t.Error("CAPool of a set without a CA is not an empty pool")
	}
}

func TestKidOf(t *testing.T) {
	s := keys(t)
	pub := &s.Signing.Key.PublicKey
	kid := pki.KidOf(pub)
	if kid != pki.KidOf(pub) {
		t.Fatal("KidOf is not stable")
	}
	cp := &rsa.PublicKey{N: new(big.Int).Set(pub.N), E: pub.E}
	if pki.KidOf(cp) != kid {
		t.Fatal("KidOf differs for an equal copy of the key")
	}
	if pki.KidOf(&s.Foreign.Key.PublicKey) == kid {
		t.Fatal("KidOf is the same for different keys")
	}
	if len(kid) != 27 || strings.ContainsAny(kid, "+/=") {
		t.Fatalf("KidOf = %q, want 27 base64url characters", kid)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	if want := base64.RawURLEncoding.EncodeToString(sum[:20]); kid != want {
		t.Fatalf("KidOf = %q, want %q (SHA-256 of the PKIX DER, truncated)", kid, want)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if k := pki.KidOf(&ec.PublicKey); k == kid || len(k) != 27 {
		t.Fatalf("KidOf(EC key) = %q", k)
	}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestWriteDirModes(t *testing.T) {
	dir := written(t)
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("key directory mode = %o, want 700", m)
	}
	keyFiles := []string{pki.Files.CAKey, pki.Files.ServerKey, pki.Files.TransportKey, pki.Files.UntrustedKey,
		pki.Files.Signing, pki.Files.Foreign, pki.Files.Directory}
	for _, name := range keyFiles {
		if m := mode(t, filepath.Join(dir, name)); m != 0o600 {
			t.Errorf("%s mode = %o, want 600", name, m)
		}
	}
	for _, name := range []string{pki.Files.CA, pki.Files.Server, pki.Files.Transport, pki.Files.Untrusted} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := pem.Decode(data); b == nil || b.Type != "CERTIFICATE" {
			t.Errorf("%s is not a PEM certificate", name)
		}
	}
}

// A key written over an existing world-readable file must end up 0600 all the same.
func TestWriteDirTightensExistingKeyFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{pki.Files.Signing, pki.Files.TransportKey} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := keys(t).WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{pki.Files.Signing, pki.Files.TransportKey} {
		if m := mode(t, filepath.Join(dir, name)); m != 0o600 {
			t.Errorf("%s mode after rewrite = %o, want 600", name, m)
		}
	}
	if _, err := pki.LoadSigningKey(filepath.Join(dir, pki.Files.Signing), ""); err != nil {
		t.Errorf("rewritten key does not load: %v", err)
	}
}

func TestWriteDirPartialSet(t *testing.T) {
	s := keys(t)
	partial := &pki.Set{Transport: s.Transport, Signing: s.Signing}
	dir := filepath.Join(t.TempDir(), "k")
	if err := partial.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// The signing key carries its EC partner, so both are written.
	if got, want := strings.Join(names, ","), "signing-ec-key.pem,signing-key.pem,transport-key.pem,transport.pem"; got != want {
		t.Errorf("partial set wrote %s, want %s", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	s := keys(t)
	dir := written(t)

	sk, err := pki.LoadSigningKey(filepath.Join(dir, pki.Files.Signing), "")
	if err != nil {
		t.Fatalf("LoadSigningKey: %v", err)
	}
	if !sk.Key.Equal(s.Signing.Key) || sk.Kid != s.Signing.Kid {
		t.Fatalf("LoadSigningKey: got kid %q, want the written key with kid %q", sk.Kid, s.Signing.Kid)
	}
	sk, err = pki.LoadSigningKey(filepath.Join(dir, pki.Files.Directory), "given-kid")
	if err != nil || sk.Kid != "given-kid" || !sk.Key.Equal(s.Directory.Key) {
		t.Fatalf("LoadSigningKey with kid: %v, kid %q", err, sk.Kid)
	}

	for _, pair := range []struct {
		cert, key string
		want      *pki.Issued
	}{
		{pki.Files.Transport, pki.Files.TransportKey, &s.Transport},
		{pki.Files.Server, pki.Files.ServerKey, s.Server},
		{pki.Files.Untrusted, pki.Files.UntrustedKey, s.Untrusted},
		{pki.Files.CA, pki.Files.CAKey, s.CA},
	} {
		iss, err := pki.LoadIssued(filepath.Join(dir, pair.cert), filepath.Join(dir, pair.key))
		if err != nil {
			t.Fatalf("LoadIssued(%s): %v", pair.cert, err)
		}
		if !iss.Cert.Equal(pair.want.Cert) {
			t.Errorf("LoadIssued(%s): different certificate", pair.cert)
		}
		if !iss.Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pair.want.Key.Public()) {
			t.Errorf("LoadIssued(%s): different key", pair.cert)
		}
	}

	pool, err := pki.LoadCertPool(filepath.Join(dir, pki.Files.CA))
	if err != nil {
		t.Fatalf("LoadCertPool: %v", err)
	}
	if !pool.Equal(s.CAPool()) {
		t.Error("loaded pool differs from CAPool")
	}
	if _, err := s.Transport.Cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("transport certificate does not verify against the loaded pool: %v", err)
	}
	if _, err := s.Untrusted.Cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("untrusted certificate verifies against the loaded pool")
	}
}

func TestLoadIssuedMismatch(t *testing.T) {
	dir := written(t)
	cert, key := filepath.Join(dir, pki.Files.Transport), filepath.Join(dir, pki.Files.ServerKey)
	_, err := pki.LoadIssued(cert, key)
	if err == nil {
		t.Fatal("LoadIssued accepted a certificate with another certificate's key")
	}
	if !strings.Contains(err.Error(), cert) || !strings.Contains(err.Error(), key) {
		t.Fatalf("LoadIssued error %q does not name both %s and %s", err, cert, key)
	}
	// Same key type, different key: still a mismatch.
	if _, err := pki.LoadIssued(cert, filepath.Join(dir, pki.Files.Signing)); err == nil {
		t.Fatal("LoadIssued accepted the transport certificate with the signing key")
	}
	if _, err := pki.LoadIssued(filepath.Join(dir, "missing.pem"), key); err == nil {
		t.Fatal("LoadIssued with a missing certificate: no error")
	}
	if _, err := pki.LoadIssued(cert, filepath.Join(dir, "missing.pem")); err == nil {
		t.Fatal("LoadIssued with a missing key: no error")
	}
	if _, err := pki.LoadIssued(filepath.Join(dir, pki.Files.Signing), key); err == nil {
		t.Fatal("LoadIssued with a key file as the certificate: no error")
	}
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// assertNoLeak fails when err's text holds any 20-character run of the base64 text in secret.
func assertNoLeak(t *testing.T, err error, secret string) {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(secret, "\n") {
		if !strings.HasPrefix(line, "-----") {
			b.WriteString(strings.TrimSpace(line))
		}
	}
	body, msg := b.String(), err.Error()
	for i := 0; i+20 <= len(body); i++ {
		if strings.Contains(msg, body[i:i+20]) {
			t.Fatalf("error %q contains key bytes %q", msg, body[i:i+20])
		}
	}
}

func TestLoadPrivateKeyFailures(t *testing.T) {
	s := keys(t)
	src := written(t)
	dir := t.TempDir()
	keyPEM, err := os.ReadFile(filepath.Join(src, pki.Files.Signing))
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := os.ReadFile(filepath.Join(src, pki.Files.CA))
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(s.Signing.Key)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := append([]byte{}, der...)
	for i := 0; i < len(corrupt); i += 7 {
		corrupt[i] ^= 0x5a
	}
	lines := strings.Split(string(keyPEM), "\n")
	cases := map[string][]byte{
		"non-PEM base64 body": []byte(base64.StdEncoding.EncodeToString(der)),
		"non-PEM text":        []byte("this is not a key at all\n"),
		"empty":               nil,
		"CERTIFICATE block":   certPEM,
		"truncated DER":       pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der[:len(der)/2]}),
		"corrupt DER":         pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: corrupt}),
		"truncated text":      []byte(strings.Join(lines[:len(lines)/2], "\n")),
		"missing END line":    []byte(strings.Join(lines[:len(lines)-2], "\n") + "\n"),
		"RSA label, PKCS#8":   pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}),
		"EC label, RSA key":   pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}),
		"PUBLIC KEY block":    pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"zero-length block":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY"}),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, dir, strings.ReplaceAll(name, " ", "_")+".pem", data)
			k, err := pki.LoadPrivateKey(p)
			if err == nil {
				t.Fatalf("LoadPrivateKey accepted it: %T", k)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file", err)
			}
			assertNoLeak(t, err, string(data))
			assertNoLeak(t, err, string(keyPEM))
		})
	}
	_, err = pki.LoadPrivateKey(filepath.Join(dir, "does-not-exist.pem"))
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadPrivateKey(missing): err = %v, want one wrapping ErrNotExist", err)
	}
	if _, err := pki.LoadPrivateKey(dir); err == nil {
		t.Fatal("LoadPrivateKey(directory): no error")
	}
}

func TestLoadPrivateKeyForms(t *testing.T) {
	s := keys(t)
	dir := t.TempDir()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	forms := map[string]struct {
		block *pem.Block
		want  interface{ Equal(crypto.PublicKey) bool }
	}{
		"PKCS#1": {&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(s.Signing.Key)}, &s.Signing.Key.PublicKey},
		"SEC 1":  {&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}, &ec.PublicKey},
	}
	for name, f := range forms {
		p := writeFile(t, dir, strings.ReplaceAll(name, " ", "")+".pem", append([]byte("leading text\n"), pem.EncodeToMemory(f.block)...))
		k, err := pki.LoadPrivateKey(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !f.want.Equal(k.Public()) {
			t.Fatalf("%s: loaded a different key", name)
		}
	}
}

func TestLoadSigningKeyRejects(t *testing.T) {
	dir := t.TempDir()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPath := filepath.Join(dir, "ec.pem")
	if err := pki.WriteKey(ecPath, ec); err != nil {
		t.Fatal(err)
	}
	_, err = pki.LoadSigningKey(ecPath, "kid")
	if err == nil {
		t.Fatal("LoadSigningKey accepted an EC key")
	}
	if !strings.Contains(err.Error(), "RSA") || !strings.Contains(err.Error(), ecPath) {
		t.Fatalf("EC key error %q should say an RSA key is needed and name the file", err)
	}

	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallPath := filepath.Join(dir, "rsa1024.pem")
	if err := pki.WriteKey(smallPath, small); err != nil {
		t.Fatal(err)
	}
	if _, err := pki.LoadPrivateKey(smallPath); err != nil {
		t.Fatalf("control: LoadPrivateKey(RSA-1024): %v", err)
	}
	_, err = pki.LoadSigningKey(smallPath, "kid")
	if err == nil {
		t.Fatal("LoadSigningKey accepted an RSA-1024 key")
	}
	if !strings.Contains(err.Error(), "1024") || !strings.Contains(err.Error(), "2048") || !strings.Contains(err.Error(), smallPath) {
		t.Fatalf("RSA-1024 error %q should give the size, the minimum and the file", err)
	}
	if _, err := pki.LoadSigningKey(filepath.Join(dir, "missing.pem"), ""); err == nil {
		t.Fatal("LoadSigningKey(missing): no error")
	}
}

func TestLoadCertPool(t *testing.T) {
	s := keys(t)
	src := written(t)
	dir := t.TempDir()
	keyPEM, _ := os.ReadFile(filepath.Join(src, pki.Files.Signing))
	caPEM, _ := os.ReadFile(filepath.Join(src, pki.Files.CA))
	serverPEM, _ := os.ReadFile(filepath.Join(src, pki.Files.Server))

	bad := map[string][]byte{
		"empty":              nil,
		"text":               []byte("no certificates here\n"),
		"only a private key": keyPEM,
		"corrupt cert":       append(append([]byte{}, caPEM...), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")})...),
	}
	for name, data := range bad {
		p := writeFile(t, dir, strings.ReplaceAll(name, " ", "_")+".pem", data)
		_, err := pki.LoadCertPool(p)
		if err == nil {
			t.Errorf("LoadCertPool(%s): no error", name)
			continue
		}
		if !strings.Contains(err.Error(), p) {
			t.Errorf("LoadCertPool(%s): error %q does not name the file", name, err)
		}
		assertNoLeak(t, err, string(keyPEM))
	}
	if _, err := pki.LoadCertPool(filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("LoadCertPool(missing): no error")
	}

	// A bundle with a key block and two certificates loads both certificates.
	p := writeFile(t, dir, "bundle.pem", append(append(append([]byte{}, keyPEM...), serverPEM...), caPEM...))
	pool, err := pki.LoadCertPool(p)
	if err != nil {
		t.Fatalf("LoadCertPool(bundle): %v", err)
	}
	want := x509.NewCertPool()
	want.AddCert(s.Server.Cert)
	want.AddCert(s.CA.Cert)
	if !pool.Equal(want) {
		t.Error("bundle pool does not hold exactly the two certificates")
	}

	// LoadCertificate takes the first certificate, skipping other blocks.
	c, err := pki.LoadCertificate(p)
	if err != nil || !c.Equal(s.Server.Cert) {
		t.Fatalf("LoadCertificate(bundle) = %v, want the server certificate", err)
	}
	if _, err := pki.LoadCertificate(filepath.Join(src, pki.Files.Signing)); err == nil {
		t.Error("LoadCertificate(key file): no error")
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		if _, err := pki.Generate(); err != nil {
			b.Fatal(err)
		}
	}
}

package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"
)

// minRemaining is how long a kept key set's certificates must still be valid for it to be used
// again; one closer to its end is replaced, so no run starts with certificates that expire
// during it.
const minRemaining = 24 * time.Hour

// LoadOrGenerate returns the loopback key set kept in dir, or makes a fresh one and keeps it
// there when dir holds none, or one that is broken, incomplete or about to expire. Making a set
// costs several RSA-2048 key generations, a large share of a short run's CPU, so runs in one
// work directory share it.
//
// A fresh set is written to a new directory beside dir and renamed into place whole, so a run
// never reads a set another run is half-way through writing. When a concurrent run put its own
// set there first, that set is used if it is sound; otherwise this run keeps its own set in the
// directory it wrote. The returned directory is where the returned set's files are.
func LoadOrGenerate(dir string) (*Set, string, error) {
	if s, err := LoadDir(dir, time.Now()); err == nil {
		return s, dir, nil
	}
	s, err := Generate()
	if err != nil {
		return nil, "", err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, "", fmt.Errorf("create key directory: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".new-")
	if err != nil {
		return nil, "", fmt.Errorf("create key directory: %w", err)
	}
	if err := s.WriteDir(tmp); err != nil {
		os.RemoveAll(tmp)
		return nil, "", err
	}
	for range 3 {
		// A directory can only be renamed onto a missing or empty one, so this never replaces
		// a set another run has put in place.
		if os.Rename(tmp, dir) == nil {
			return s, dir, nil
		}
		if theirs, err := LoadDir(dir, time.Now()); err == nil {
			os.RemoveAll(tmp)
			return theirs, dir, nil
		}
		// A broken set: move it aside whole (a reader holding it keeps reading the same
		// files), then try again.
		if old, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".old-"); err == nil {
			_ = os.Rename(dir, filepath.Join(old, "keys"))
			os.RemoveAll(old)
		}
	}
	// Keep this run's set where it was written: its files must match the keys it uses.
	return s, tmp, nil
}

// LoadDir reads a key set that WriteDir wrote and checks that it is whole and sound at now:
// every file parses, each certificate matches its key, the server and transport certificates
// chain to the set's CA and the untrusted one does not, the server certificate names loopback,
// every certificate is valid for at least another day, the JWT signing keys are RSA of at
// least 2048 bits, and the TPP's second signing key is ECDSA P-256.
func LoadDir(dir string, now time.Time) (*Set, error) {
	// Every file is read through one handle on the directory, so a set renamed into place by
	// another run meanwhile cannot be read half from one set and half from the other.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	issued := func(certName, keyName string) (Issued, error) {
		cert, err := readCert(root, certName)
		if err != nil {
			return Issued{}, err
		}
		key, err := readKey(root, keyName)
		if err != nil {
			return Issued{}, err
		}
		if pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(key.Public()) {
			return Issued{}, fmt.Errorf("kept key set: %s and %s do not match", certName, keyName)
		}
		return Issued{Cert: cert, Key: key}, nil
	}
	ca, err := issued(Files.CA, Files.CAKey)
	if err != nil {
		return nil, err
	}
	server, err := issued(Files.Server, Files.ServerKey)
	if err != nil {
		return nil, err
	}
	transport, err := issued(Files.Transport, Files.TransportKey)
	if err != nil {
		return nil, err
	}
	untrusted, err := issued(Files.Untrusted, Files.UntrustedKey)
	if err != nil {
		return nil, err
	}
	keys := map[string]*SigningKey{}
	for _, name := range []string{Files.Signing, Files.Foreign, Files.Directory} {
		k, err := readKey(root, name)
		if err != nil {
			return nil, err
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok || rk.N.BitLen() < 2048 {
			return nil, fmt.Errorf("kept key set: %s is not an RSA key of at least 2048 bits", name)
		}
		keys[name] = &SigningKey{Key: rk, Kid: KidOf(&rk.PublicKey)}
	}
	// The TPP's EC key is part of a whole set: a set kept before it existed is replaced, not
	// used without it, or the ES256 case could not run.
	ek, err := readKey(root, Files.SigningEC)
	if err != nil {
		return nil, err
	}
	ec, ok := ek.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("kept key set: %s is not an ECDSA P-256 key", Files.SigningEC)
	}
	keys[Files.Signing].EC = ec
	if keys[Files.Signing].Key.Equal(keys[Files.Foreign].Key) || keys[Files.Signing].Key.Equal(keys[Files.Directory].Key) {
		return nil, errors.New("kept key set: the signing key is also the foreign or directory key")
	}
	if !ca.Cert.IsCA {
		return nil, errors.New("kept key set: ca.pem is not a CA certificate")
	}
	if _, ok := transport.Key.(*rsa.PrivateKey); !ok {
		return nil, errors.New("kept key set: the transport key is not RSA")
	}
	for name, c := range map[string]*x509.Certificate{Files.CA: ca.Cert, Files.Server: server.Cert, Files.Transport: transport.Cert, Files.Untrusted: untrusted.Cert} {
		if now.Before(c.NotBefore) || now.Add(minRemaining).After(c.NotAfter) {
			return nil, fmt.Errorf("kept key set: %s is not valid from now for another %s", name, minRemaining)
		}
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	verify := func(c *x509.Certificate, usage x509.ExtKeyUsage) error {
		_, err := c.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}})
		return err
	}
	if err := verify(server.Cert, x509.ExtKeyUsageServerAuth); err != nil {
		return nil, fmt.Errorf("kept key set: server certificate: %w", err)
	}
	if err := server.Cert.VerifyHostname("127.0.0.1"); err != nil || !hasIP(server.Cert, net.IPv6loopback) {
		return nil, errors.New("kept key set: the server certificate does not name loopback")
	}
	if err := verify(transport.Cert, x509.ExtKeyUsageClientAuth); err != nil {
		return nil, fmt.Errorf("kept key set: transport certificate: %w", err)
	}
	if verify(untrusted.Cert, x509.ExtKeyUsageClientAuth) == nil {
		return nil, errors.New("kept key set: the untrusted certificate chains to the trusted CA")
	}
	return &Set{
		CA: &ca, Server: &server, Transport: transport, Untrusted: &untrusted,
		Signing: *keys[Files.Signing], Foreign: *keys[Files.Foreign], Directory: *keys[Files.Directory],
	}, nil
}

func hasIP(c *x509.Certificate, ip net.IP) bool {
	for _, a := range c.IPAddresses {
		if a.Equal(ip) {
			return true
		}
	}
	return false
}

// maxKeyFile bounds what is read of a kept file; the set's files are a few KiB.
const maxKeyFile = 64 << 10

func readPEM(root *os.Root, name, typ string) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile))
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != typ {
		return nil, fmt.Errorf("kept key set: %s holds no %s", name, typ)
	}
	return b.Bytes, nil
}

func readCert(root *os.Root, name string) (*x509.Certificate, error) {
	der, err := readPEM(root, name, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func readKey(root *os.Root, name string) (crypto.Signer, error) {
	der, err := readPEM(root, name, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("kept key set: %s: %v", name, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("kept key set: %s is not a signing key", name)
	}
	return signer, nil
}

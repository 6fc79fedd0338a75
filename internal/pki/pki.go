// Package pki makes and loads the keys and certificates of one conformance run: a test CA, the
// server certificates of the embedded reference bank and JWKS host, the TPP's transport
// certificate, and the request signing key with its kid.
//
// Keys are expensive (an RSA-2048 key costs tens of milliseconds), so a run makes them once and
// every case shares them; nothing here is called per case.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Issued is a certificate with its private key.
type Issued struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// TLSCertificate returns the pair in the form crypto/tls wants.
func (i Issued) TLSCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{i.Cert.Raw}, PrivateKey: i.Key, Leaf: i.Cert}
}

// SigningKey is the TPP's request-signing key and the kid it is published under.
type SigningKey struct {
	Key *rsa.PrivateKey
	Kid string
	// EC, when set, is a second key of the same TPP, ECDSA P-256, published in the same JWKS
	// under ECKid. Only the ES256 case signs with it: the happy path stays PS256, the one
	// algorithm Revolut allows, and a key set with both kinds is what an OBIE TPP may publish.
	EC *ecdsa.PrivateKey
}

// ECKid is the kid the EC key is published under: the RSA key's kid with an "-es256" suffix.
// Deriving it keeps the TPP's two keys one identity: a run that changes the kid it signs under
// changes both, so no request of the TPP keeps a kid the run meant to break.
func (k SigningKey) ECKid() string {
	if k.EC == nil {
		return ""
	}
	return k.Kid + "-es256"
}

// NewECKey makes an ECDSA P-256 key.
func NewECKey() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate EC key: %w", err)
	}
	return k, nil
}

// Set is every key and certificate a run needs. The embedded reference bank trusts CA for client
// certificates and JWKS hosts; a remote target brings its own trust and only some fields are set.
type Set struct {
	CA *Issued
	// Server is the TLS identity of loopback servers (reference bank, JWKS host).
	Server *Issued
	// Transport is the TPP's mTLS client certificate.
	Transport Issued
	// Untrusted is a client certificate from a CA no target trusts, for the bad-mTLS cases.
	Untrusted *Issued
	// Signing signs the registration request; its public half is in the TPP's JWKS.
	Signing SigningKey
	// Foreign is a second RSA key published nowhere, for "signed by a key outside the JWKS".
	Foreign SigningKey
	// Directory signs software statements in the directory-signed SSA mode.
	Directory SigningKey
}

// Generate makes a fresh Set for loopback use: the server certificate names 127.0.0.1, ::1 and
// localhost. The CA and TLS keys are ECDSA P-256 (cheap to make); the keys that sign JWTs and the
// transport certificate are RSA-2048, as Open Banking requires.
func Generate() (*Set, error) {
	ca, err := newCA("dcrconform test CA")
	if err != nil {
		return nil, err
	}
	server, err := ca.issue(serverTemplate())
	if err != nil {
		return nil, fmt.Errorf("issue server certificate: %w", err)
	}
	transport, err := ca.issueRSA(clientTemplate(pkix.Name{
		CommonName:         "dcrconform-tpp",
		Organization:       []string{"dcrconform Test TPP"},
		OrganizationalUnit: []string{"0015800001041RHAAY"},
		Country:            []string{"GB"},
	}))
	if err != nil {
		return nil, fmt.Errorf("issue transport certificate: %w", err)
	}
	rogueCA, err := newCA("dcrconform untrusted CA")
	if err != nil {
		return nil, err
	}
	untrusted, err := rogueCA.issue(clientTemplate(pkix.Name{CommonName: "dcrconform-untrusted-tpp"}))
	if err != nil {
		return nil, fmt.Errorf("issue untrusted certificate: %w", err)
	}
	signing, err := NewSigningKey()
	if err != nil {
		return nil, err
	}
	if signing.EC, err = NewECKey(); err != nil {
		return nil, err
	}
	foreign, err := NewSigningKey()
	if err != nil {
		return nil, err
	}
	directory, err := NewSigningKey()
	if err != nil {
		return nil, err
	}
	return &Set{
		CA:        &Issued{Cert: ca.cert, Key: ca.key},
		Server:    &server,
		Transport: transport,
		Untrusted: &untrusted,
		Signing:   signing,
		Foreign:   foreign,
		Directory: directory,
	}, nil
}

// NewSigningKey makes an RSA-2048 key whose kid is a digest of its public key, so the same key
// always gets the same kid.
func NewSigningKey() (SigningKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return SigningKey{}, fmt.Errorf("generate RSA key: %w", err)
	}
	return SigningKey{Key: k, Kid: KidOf(&k.PublicKey)}, nil
}

// KidOf derives a stable kid from a public key (SHA-256 of its DER form, base64url, 27 chars).
func KidOf(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "unknown"
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:20])
}

// IssueServer issues a loopback server certificate from the set's CA. It is how a second loopback
// server (a JWKS host in another process) gets a certificate the same reference bank trusts.
func (s *Set) IssueServer() (Issued, error) {
	if s.CA == nil {
		return Issued{}, errors.New("no CA in this key set")
	}
	ca := &authority{cert: s.CA.Cert, key: s.CA.Key}
	return ca.issue(serverTemplate())
}

// CAPool returns a pool holding only the set's CA.
func (s *Set) CAPool() *x509.CertPool {
	p := x509.NewCertPool()
	if s.CA != nil {
		p.AddCert(s.CA.Cert)
	}
	return p
}

// SubjectDN renders a certificate subject the way the DN claim carries it.
func SubjectDN(c *x509.Certificate) string { return c.Subject.String() }

type authority struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newCA(name string) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"dcrconform"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("self-sign CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key}, nil
}

func (a *authority) issue(tmpl *x509.Certificate) (Issued, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Issued{}, err
	}
	return a.sign(tmpl, key)
}

func (a *authority) issueRSA(tmpl *x509.Certificate) (Issued, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Issued{}, err
	}
	return a.sign(tmpl, key)
}

func (a *authority) sign(tmpl *x509.Certificate, key crypto.Signer) (Issued, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, key.Public(), a.key)
	if err != nil {
		return Issued{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Issued{}, err
	}
	return Issued{Cert: cert, Key: key}, nil
}

func serverTemplate() *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
}

func clientTemplate(subject pkix.Name) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: serial(),
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

// Files names where a Set is written by WriteDir. Paths are relative to that directory.
var Files = struct {
	CA, CAKey, Server, ServerKey, Transport, TransportKey, Untrusted, UntrustedKey, Signing, SigningEC, Foreign, Directory string
}{
	CA: "ca.pem", CAKey: "ca-key.pem", Server: "server.pem", ServerKey: "server-key.pem",
	Transport: "transport.pem", TransportKey: "transport-key.pem",
	Untrusted: "untrusted.pem", UntrustedKey: "untrusted-key.pem",
	Signing: "signing-key.pem", SigningEC: "signing-ec-key.pem", Foreign: "foreign-key.pem", Directory: "directory-key.pem",
}

// WriteDir writes the set as PEM files (keys 0600) into dir, creating it 0700. Reports never point
// here: this is the run's work directory, outside reports/.
func (s *Set) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create key directory: %w", err)
	}
	type item struct {
		name string
		cert *x509.Certificate
		key  crypto.Signer
	}
	items := []item{{Files.Transport, s.Transport.Cert, s.Transport.Key}, {Files.Signing, nil, s.Signing.Key}}
	if s.CA != nil {
		items = append(items, item{Files.CA, s.CA.Cert, s.CA.Key})
	}
	if s.Server != nil {
		items = append(items, item{Files.Server, s.Server.Cert, s.Server.Key})
	}
	if s.Untrusted != nil {
		items = append(items, item{Files.Untrusted, s.Untrusted.Cert, s.Untrusted.Key})
	}
	if s.Signing.EC != nil {
		items = append(items, item{Files.SigningEC, nil, s.Signing.EC})
	}
	if s.Foreign.Key != nil {
		items = append(items, item{Files.Foreign, nil, s.Foreign.Key})
	}
	if s.Directory.Key != nil {
		items = append(items, item{Files.Directory, nil, s.Directory.Key})
	}
	keyName := map[string]string{Files.Transport: Files.TransportKey, Files.CA: Files.CAKey, Files.Server: Files.ServerKey, Files.Untrusted: Files.UntrustedKey}
	for _, it := range items {
		if it.cert != nil {
			if err := writePEM(filepath.Join(dir, it.name), "CERTIFICATE", it.cert.Raw, 0o644); err != nil {
				return err
			}
			if err := WriteKey(filepath.Join(dir, keyName[it.name]), it.key); err != nil {
				return err
			}
			continue
		}
		if err := WriteKey(filepath.Join(dir, it.name), it.key); err != nil {
			return err
		}
	}
	return nil
}

// WriteKey writes a private key as PKCS#8 PEM, readable by its owner only.
func WriteKey(path string, key crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode key %s: %w", filepath.Base(path), err)
	}
	return writePEM(path, "PRIVATE KEY", der, 0o600)
}

// WriteCert writes a certificate as PEM.
func WriteCert(path string, cert *x509.Certificate) error {
	return writePEM(path, "CERTIFICATE", cert.Raw, 0o644)
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	// os.WriteFile keeps the mode of a file that already exists, so set it before writing: a key
	// written over an older world-readable file must not stay readable.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

package pki

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/safefile"
)

// LoadCertPool reads a PEM bundle of CA certificates. An empty or certificate-free file is an
// error: a silently empty pool would make every TLS call fail with a confusing message later.
func LoadCertPool(path string) (*x509.CertPool, error) {
	certs, err := LoadCertificates(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// LoadCertificates reads every PEM CERTIFICATE block of a bundle; a bundle with none is an error.
// Like every loader here it follows symbolic links (a mounted secret is one) but reads only a
// regular file of at most safefile.MaxPEM bytes.
func LoadCertificates(path string) ([]*x509.Certificate, error) {
	data, err := safefile.ReadFile(path, safefile.MaxPEM)
	if err != nil {
		return nil, fmt.Errorf("CA bundle: %w", err)
	}
	var out []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CA bundle %s: certificate %d does not parse: %v", path, len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("CA bundle %s: no PEM CERTIFICATE block found", path)
	}
	return out, nil
}

// LoadCertificate reads one PEM certificate (the first CERTIFICATE block).
func LoadCertificate(path string) (*x509.Certificate, error) {
	data, err := safefile.ReadFile(path, safefile.MaxPEM)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("certificate %s: no PEM CERTIFICATE block found", path)
		}
		if block.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("certificate %s: does not parse: %v", path, err)
			}
			return c, nil
		}
	}
}

// LoadPrivateKey reads a private key: PEM in PKCS#8, PKCS#1 (RSA) or SEC 1 (EC) form, or a JWK
// document. Errors name
// the file and the problem, never the key's bytes.
func LoadPrivateKey(path string) (crypto.Signer, error) {
	data, err := safefile.ReadFile(path, safefile.MaxPEM)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		key, _, err := jose.ParsePrivateJWK(trimmed)
		if err != nil {
			return nil, fmt.Errorf("private key %s: %v", path, err)
		}
		return key, nil
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("private key %s: not PEM (expected a PRIVATE KEY block) nor a JWK", path)
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("private key %s: PEM block %q is not a private key", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("private key %s: %s block does not parse", path, block.Type)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key %s: unsupported key type %T", path, key)
	}
	return signer, nil
}

// LoadSigningKey reads an RSA private key for PS256 and pairs it with kid. PS256 needs RSA; an EC
// key here is reported as such rather than failing later at signing time.
func LoadSigningKey(path, kid string) (SigningKey, error) {
	k, err := LoadPrivateKey(path)
	if err != nil {
		return SigningKey{}, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return SigningKey{}, fmt.Errorf("signing key %s: PS256 needs an RSA key, got %T", path, k)
	}
	if rk.N.BitLen() < 2048 {
		return SigningKey{}, fmt.Errorf("signing key %s: RSA key is %d bits; PS256 for Open Banking needs at least 2048", path, rk.N.BitLen())
	}
	if kid == "" {
		kid = KidOf(&rk.PublicKey)
	}
	return SigningKey{Key: rk, Kid: kid}, nil
}

// LoadIssued reads a certificate and its private key and checks that they belong together.
func LoadIssued(certPath, keyPath string) (Issued, error) {
	cert, err := LoadCertificate(certPath)
	if err != nil {
		return Issued{}, err
	}
	key, err := LoadPrivateKey(keyPath)
	if err != nil {
		return Issued{}, err
	}
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return Issued{}, fmt.Errorf("certificate %s and key %s do not match", certPath, keyPath)
	}
	return Issued{Cert: cert, Key: key}, nil
}

// JWKS is the TPP's key set as it publishes it: the RSA key (PS256) under Kid, and the EC key
// (ES256) under ECKid when there is one.
func (k SigningKey) JWKS() ([]byte, error) {
	published := []jose.PublicKey{{Key: &k.Key.PublicKey, Kid: k.Kid, Alg: "PS256", Use: "sig"}}
	if k.EC != nil {
		published = append(published, jose.PublicKey{Key: &k.EC.PublicKey, Kid: k.ECKid(), Alg: "ES256", Use: "sig"})
	}
	return jose.PublicJWKS(published...)
}

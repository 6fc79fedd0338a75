package pki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/dcrconform/dcrconform/internal/safefile"
)

// NewCSR makes an RSA-2048 key and a certificate signing request for a transport certificate
// with the subject given: what a bank's portal or the Open Banking directory asks a TPP for.
func NewCSR(subject pkix.Name) (*rsa.PrivateKey, []byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, key)
	if err != nil {
		return nil, nil, err
	}
	return key, der, nil
}

// WriteCSR writes a certificate request as PEM.
func WriteCSR(path string, der []byte) error {
	return writePEM(path, "CERTIFICATE REQUEST", der, 0o644)
}

// SignCSR plays a bank's portal: it reads a PEM certificate request, checks its signature, and
// issues a TLS client certificate for its subject and key from the CA given (certificate and key
// files), valid for validity.
func SignCSR(csrPath, caCertPath, caKeyPath string, validity time.Duration) (*x509.Certificate, error) {
	data, err := safefile.ReadFile(csrPath, safefile.MaxPEM)
	if err != nil {
		return nil, fmt.Errorf("certificate request: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, fmt.Errorf("certificate request %s: no PEM CERTIFICATE REQUEST block", csrPath)
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certificate request %s: does not parse", csrPath)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("certificate request %s: its signature does not verify", csrPath)
	}
	ca, err := LoadIssued(caCertPath, caKeyPath)
	if err != nil {
		return nil, fmt.Errorf("CA: %w", err)
	}
	if !ca.Cert.IsCA {
		return nil, errors.New("CA: the certificate is not a CA")
	}
	tmpl := clientTemplate(csr.Subject)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(validity)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, csr.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("issue the certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

package evidence

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/pki"
)

// LoadOrCreateEvidenceKey returns the key that signs evidence bundles. An existing PEM key at path
// (PKCS#8, SEC 1 EC or PKCS#1 RSA; ECDSA P-256 or RSA of at least 2048 bits) is loaded; when
// there is none, an ECDSA P-256 key is created there as PKCS#8 PEM, mode 0600, in a directory
// made 0700. path belongs in the run's work directory, never under reports/.
func LoadOrCreateEvidenceKey(path string) (crypto.Signer, error) {
	if path == "" {
		return nil, errors.New("evidence key: no path")
	}
	key, err := pki.LoadPrivateKey(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err = createEvidenceKey(path)
		if errors.Is(err, os.ErrExist) { // another run made it first
			key, err = pki.LoadPrivateKey(path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("evidence key: %w", err)
	}
	if _, err := jose.AlgFor(key.Public()); err != nil {
		return nil, fmt.Errorf("evidence key %s: %w", path, err)
	}
	return key, nil
}

func createEvidenceKey(path string) (crypto.Signer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	werr := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := f.Close(); werr == nil {
		werr = err
	}
	if werr != nil {
		os.Remove(path)
		return nil, fmt.Errorf("write %s: %w", path, werr)
	}
	return key, nil
}

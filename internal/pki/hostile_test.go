//go:build unix

package pki_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/safefile"
	"github.com/dcrconform/dcrconform/internal/safefile/safefiletest"
)

// Every loader refuses what is not a regular PEM-sized file, promptly, with one line naming it.
func TestLoadersRefuseHostileInputs(t *testing.T) {
	inputs := safefiletest.Inputs(t, t.TempDir())
	loaders := map[string]func(string) error{
		"LoadCertificates": func(p string) error { _, err := pki.LoadCertificates(p); return err },
		"LoadCertPool":     func(p string) error { _, err := pki.LoadCertPool(p); return err },
		"LoadCertificate":  func(p string) error { _, err := pki.LoadCertificate(p); return err },
		"LoadPrivateKey":   func(p string) error { _, err := pki.LoadPrivateKey(p); return err },
		"LoadSigningKey":   func(p string) error { _, err := pki.LoadSigningKey(p, "kid"); return err },
		"LoadIssued cert":  func(p string) error { _, err := pki.LoadIssued(p, p); return err },
	}
	for name, p := range inputs {
		for fn, load := range loaders {
			var err error
			took := safefiletest.Bounded(t, fn+" "+name, func() { err = load(p) })
			t.Logf("%-16s %-24s refused in %v: %v", fn, name, took, err)
			if !errors.Is(err, safefile.ErrNotRegular) && !errors.Is(err, safefile.ErrTooLarge) {
				t.Errorf("%s(%s): %v, want a refusal", fn, name, err)
				continue
			}
			if !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s(%s): %q does not name the file on one line", fn, name, err)
			}
		}
	}
}

// Keys and certificates reached through links, as a Kubernetes secret mounts them, load.
func TestLoadersFollowLinks(t *testing.T) {
	dir := t.TempDir()
	if err := keys(t).WriteDir(filepath.Join(dir, "..2025_01_01")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..2025_01_01", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{pki.Files.Transport, pki.Files.TransportKey, pki.Files.CA} {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pki.LoadIssued(filepath.Join(dir, pki.Files.Transport), filepath.Join(dir, pki.Files.TransportKey)); err != nil {
		t.Fatalf("LoadIssued through links: %v", err)
	}
	if _, err := pki.LoadCertPool(filepath.Join(dir, pki.Files.CA)); err != nil {
		t.Fatalf("LoadCertPool through a link: %v", err)
	}
}

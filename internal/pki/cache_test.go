package pki_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/pki"
)

// A work directory's key set is made once and reused; a broken or soon-expiring set is
// replaced; runs that start at once in an empty work directory each end with a set whose files
// are the keys it uses.
func TestKeySetIsKeptAndValidated(t *testing.T) {
	work := t.TempDir()
	dir := filepath.Join(work, "keys")
	first, at, err := pki.LoadOrGenerate(dir)
	if err != nil || at != dir {
		t.Fatalf("first: %v (at %s)", err, at)
	}
	again, _, err := pki.LoadOrGenerate(dir)
	if err != nil || again.Signing.Kid != first.Signing.Kid || !again.Transport.Cert.Equal(first.Transport.Cert) {
		t.Fatalf("second run did not reuse the set: %v", err)
	}
	if again.Signing.EC == nil || !again.Signing.EC.Equal(first.Signing.EC) || again.Signing.ECKid() != first.Signing.ECKid() {
		t.Fatal("the kept set lost the TPP's EC signing key")
	}
	// A set kept before the EC key existed is incomplete: it is replaced, not used without it.
	ecFile := filepath.Join(dir, pki.Files.SigningEC)
	ecPEM, _ := os.ReadFile(ecFile)
	os.Remove(ecFile)
	if _, err := pki.LoadDir(dir, time.Now()); err == nil {
		t.Error("a set without the EC signing key was accepted")
	}
	os.WriteFile(ecFile, ecPEM, 0o600)
	if _, err := pki.LoadDir(dir, time.Now().Add(40*24*time.Hour)); err == nil {
		t.Error("a set past its certificates' end was accepted")
	}
	// A truncated key (a run killed while writing by an older version, a user's edit).
	if err := os.WriteFile(filepath.Join(dir, pki.Files.TransportKey), []byte("-----BEGIN PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fresh, at, err := pki.LoadOrGenerate(dir)
	if err != nil || at != dir || fresh.Signing.Kid == first.Signing.Kid {
		t.Fatalf("a broken set was not replaced: %v", err)
	}
	if loaded, err := pki.LoadDir(dir, time.Now()); err != nil || loaded.Signing.Kid != fresh.Signing.Kid {
		t.Fatalf("the replacement on disk is not the set returned: %v", err)
	}
	// A set with the untrusted certificate swapped for the trusted one is not sound.
	data, _ := os.ReadFile(filepath.Join(dir, pki.Files.Transport))
	key, _ := os.ReadFile(filepath.Join(dir, pki.Files.TransportKey))
	os.WriteFile(filepath.Join(dir, pki.Files.Untrusted), data, 0o644)
	os.WriteFile(filepath.Join(dir, pki.Files.UntrustedKey), key, 0o600)
	if _, err := pki.LoadDir(dir, time.Now()); err == nil {
		t.Error("an untrusted certificate that chains to the CA was accepted")
	}

	empty := filepath.Join(t.TempDir(), "keys")
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, at, err := pki.LoadOrGenerate(empty)
			if err != nil {
				t.Error(err)
				return
			}
			if onDisk, err := pki.LoadDir(at, time.Now()); err != nil || onDisk.Signing.Kid != s.Signing.Kid || !onDisk.Transport.Cert.Equal(s.Transport.Cert) {
				t.Errorf("the files at %s are not the set the run uses: %v", at, err)
			}
		}()
	}
	wg.Wait()
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(empty), ".keys.old-*"))
	if len(leftovers) != 0 {
		t.Errorf("sets moved aside were left behind: %v", leftovers)
	}
}

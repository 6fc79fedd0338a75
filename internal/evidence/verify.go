package evidence

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dcrconform/dcrconform/internal/jose"
)

// VerifyResult is what Verify found.
type VerifyResult struct {
	// IntegrityOK: every file listed in manifest.json is present with its recorded size and
	// SHA-256, no other file is there, and manifest.jws verifies over the exact manifest.json bytes
	// with the bundled evidence-key.jwk. It proves the bundle is whole and self-consistent, not who
	// made it: anyone can re-sign a changed bundle with a key of their own.
	IntegrityOK bool
	// SignerProven: a public key was given, and manifest.jws verifies with it over the exact
	// manifest.json bytes. Only this ties the bundle to a known signer.
	SignerProven bool
	// Problems lists every finding, one line each; empty when the bundle verifies.
	Problems []string
	// Kid is the kid of the bundled evidence key ("" when it could not be read).
	Kid string
	// Files is the number of files the manifest lists.
	Files int
}

// Verify checks an evidence bundle written by WriteBundle. pub, when not nil, is the public key
// the bundle must be signed by (an ECDSA P-256 or RSA public key). It returns an error only for
// unusable input (dir missing or not a directory, pub of an unsupported type); everything wrong
// with the bundle itself is a Problem.
func Verify(dir string, pub crypto.PublicKey) (VerifyResult, error) {
	var res VerifyResult
	st, err := os.Stat(dir)
	if err != nil {
		return res, fmt.Errorf("bundle directory: %w", err)
	}
	if !st.IsDir() {
		return res, fmt.Errorf("bundle directory %s is not a directory", dir)
	}
	if pub != nil {
		if s, ok := pub.(crypto.Signer); ok {
			pub = s.Public()
		}
		if _, err := jose.AlgFor(pub); err != nil {
			return res, fmt.Errorf("given key: %w", err)
		}
	}
	problem := func(format string, args ...any) { res.Problems = append(res.Problems, fmt.Sprintf(format, args...)) }

	manifestBytes, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		problem("%s cannot be read: %v", ManifestFile, shortErr(err))
	}
	jwsBytes, jwsErr := os.ReadFile(filepath.Join(dir, ManifestJWSFile))
	if jwsErr != nil {
		problem("%s cannot be read: %v", ManifestJWSFile, shortErr(jwsErr))
	}
	token := strings.TrimSuffix(string(jwsBytes), "\n")

	// The manifest: its shape and its file list.
	var m Manifest
	listed := map[string]ManifestEntry{}
	if manifestBytes != nil {
		if err := json.Unmarshal(manifestBytes, &m); err != nil {
			problem("%s does not parse: %v", ManifestFile, err)
		} else if m.Format != ManifestFormat {
			problem("%s: format %q, want %q", ManifestFile, m.Format, ManifestFormat)
		}
		for _, e := range m.Files {
			switch {
			case !safeBundlePath(e.Path):
				problem("%s lists an unsafe path %q", ManifestFile, e.Path)
				continue
			case e.Path == ManifestFile || e.Path == ManifestJWSFile:
				problem("%s lists %s, which cannot hash itself", ManifestFile, e.Path)
				continue
			}
			if _, dup := listed[e.Path]; dup {
				problem("%s lists %s twice", ManifestFile, e.Path)
			}
			listed[e.Path] = e
		}
		res.Files = len(listed)
		for _, c := range m.Cases {
			if _, ok := listed[c.Evidence]; !ok {
				problem("case %s: its evidence file %q is not in the manifest", c.ID, c.Evidence)
			}
		}
	}

	// The bundled key and the signature over the exact manifest bytes.
	bundled, kid, keyErr := readPublicJWK(filepath.Join(dir, EvidenceKeyFile))
	res.Kid = kid
	if keyErr != nil {
		problem("%s: %v", EvidenceKeyFile, keyErr)
	}
	if _, ok := listed[EvidenceKeyFile]; manifestBytes != nil && !ok {
		problem("%s is not listed in %s", EvidenceKeyFile, ManifestFile)
	}
	if keyErr == nil && jwsErr == nil {
		payload, h, err := jose.VerifyPayload(token, bundled)
		switch {
		case err != nil:
			problem("%s does not verify with the bundled %s: %v", ManifestJWSFile, EvidenceKeyFile, err)
		case manifestBytes != nil && !bytes.Equal(payload, manifestBytes):
			problem("%s is not the payload signed in %s", ManifestFile, ManifestJWSFile)
		default:
			if hk, _ := h["kid"].(string); hk != kid {
				problem("%s kid %q is not the bundled key's kid %q", ManifestJWSFile, hk, kid)
			}
			if typ, _ := h["typ"].(string); typ != ManifestJWSType {
				problem("%s typ %q, want %q", ManifestJWSFile, typ, ManifestJWSType)
			}
		}
		if m.EvidenceKeyID != "" && m.EvidenceKeyID != kid {
			problem("%s names evidence key %q, but %s holds %q", ManifestFile, m.EvidenceKeyID, EvidenceKeyFile, kid)
		}
	}

	// Every file: listed ones present and unchanged, nothing else there.
	onDisk := map[string]bool{}
	var dirs []string
	walkErr := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		rel, relErr := filepath.Rel(dir, p)
		if relErr != nil {
			return relErr
		}
		rel = filepath.ToSlash(rel)
		if err != nil {
			if rel == "." {
				return err
			}
			problem("%s cannot be read: %v", rel, shortErr(err))
			return nil
		}
		switch {
		case rel == ".":
		case d.IsDir():
			dirs = append(dirs, rel)
		case d.Type().IsRegular():
			onDisk[rel] = true
		default:
			problem("%s is not a regular file (%s)", rel, d.Type())
		}
		return nil
	})
	if walkErr != nil {
		return res, fmt.Errorf("bundle directory: %w", walkErr)
	}
	paths := make([]string, 0, len(listed))
	for p := range listed {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		e := listed[p]
		if !onDisk[p] {
			problem("missing: %s", p)
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			problem("%s cannot be read: %v", p, shortErr(err))
			continue
		}
		if got := sha256Hex(data); got != e.SHA256 || int64(len(data)) != e.Size {
			problem("changed: %s (sha256 %s, %d bytes; the manifest says %s, %d bytes)", p, got, len(data), e.SHA256, e.Size)
		}
	}
	var extra []string
	for p := range onDisk {
		if _, ok := listed[p]; !ok && p != ManifestFile && p != ManifestJWSFile {
			extra = append(extra, p)
		}
	}
	for _, d := range dirs {
		if !dirHoldsListed(d, paths) {
			extra = append(extra, d+"/")
		}
	}
	sort.Strings(extra)
	for _, p := range extra {
		problem("extra: %s is not in the manifest", p)
	}
	res.IntegrityOK = len(res.Problems) == 0

	// The signer: only a key the verifier brings proves who signed.
	if pub != nil && jwsErr == nil {
		payload, _, err := jose.VerifyPayload(token, pub)
		switch {
		case err != nil:
			problem("%s is not signed by the given key: %v", ManifestJWSFile, err)
		case manifestBytes == nil || !bytes.Equal(payload, manifestBytes):
			problem("the given key signed a manifest other than %s", ManifestFile)
		default:
			res.SignerProven = true
		}
		if eq, ok := bundled.(interface{ Equal(crypto.PublicKey) bool }); keyErr == nil && ok && !eq.Equal(pub) {
			problem("the bundled %s is not the given key", EvidenceKeyFile)
		}
	}
	return res, nil
}

func readPublicJWK(p string) (crypto.PublicKey, string, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, "", errors.New("cannot be read: " + shortErr(err))
	}
	return jose.ParsePublicJWK(data)
}

// safeBundlePath accepts a clean, relative, slash-separated path that stays inside the bundle.
func safeBundlePath(p string) bool {
	return p != "" && path.Clean(p) == p && !strings.Contains(p, `\`) && filepath.IsLocal(filepath.FromSlash(p))
}

func dirHoldsListed(d string, listed []string) bool {
	for _, p := range listed {
		if strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// shortErr drops the path an *fs.PathError repeats, for one-line problems.
func shortErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

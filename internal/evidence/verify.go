package evidence

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/printable"
	"github.com/dcrconform/dcrconform/internal/safefile"
)

// maxProblems bounds the problems Verify lists: a hostile manifest can name half a million
// missing files, and the first thousand say all a reader needs.
const maxProblems = 1000

// maxNameRunes is where a name taken from a bundle is cut when it is printed.
const maxNameRunes = 200

// name makes a name taken from a bundle (a manifest path, a directory entry, a kid) safe to print:
// control characters and escape sequences become visible escapes, and a long name is cut.
func name(s string) string { return printable.String(s, maxNameRunes) }

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
	// Problems lists every finding, one line each, printable (every name from the bundle has its
	// control characters escaped); empty when the bundle verifies. It holds the first 1000.
	Problems []string
	// Omitted counts the problems found beyond those Problems lists.
	Omitted int
	// Kid is the kid of the bundled evidence key ("" when it could not be read), as the bundle
	// holds it: pass it through printable before printing it.
	Kid string
	// Files is the number of files the manifest lists.
	Files int
}

// Verify checks an evidence bundle written by WriteBundle. pub, when not nil, is the public key
// the bundle must be signed by (an ECDSA P-256 or RSA public key). It returns an error only for
// unusable input (dir missing or not a directory, pub of an unsupported type); everything wrong
// with the bundle itself is a Problem.
//
// The bundle may come from anyone, so nothing in it is trusted to be small or even a file: dir
// itself may be a symbolic link, but no link inside it is followed, and every file is opened
// within dir (an os.Root), only when it is a regular file within its safefile cap. The manifest,
// its JWS and the key are read whole (MaxManifest, MaxManifestJWS, MaxJWK); the listed files are
// hashed as streams, a file whose size is not the manifest's is reported without being read, and
// MaxBundleFile, MaxBundleTotal and MaxBundleEntries bound the time a hostile bundle can take.
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
	root, err := os.OpenRoot(dir)
	if err != nil {
		return res, fmt.Errorf("bundle directory: %w", err)
	}
	defer root.Close()
	problem := func(format string, args ...any) {
		if len(res.Problems) >= maxProblems {
			res.Omitted++
			return
		}
		// The whole line too: an error's text can quote bytes from the bundle.
		res.Problems = append(res.Problems, printable.String(fmt.Sprintf(format, args...), 0))
	}

	manifestBytes, err := safefile.ReadFileInRoot(root, ManifestFile, safefile.MaxManifest)
	if err != nil {
		problem("%s cannot be read: %v", ManifestFile, shortErr(err))
	}
	jwsBytes, jwsErr := safefile.ReadFileInRoot(root, ManifestJWSFile, safefile.MaxManifestJWS)
	if jwsErr != nil {
		problem("%s cannot be read: %v", ManifestJWSFile, shortErr(jwsErr))
	}
	token := strings.TrimSuffix(string(jwsBytes), "\n")

	// The manifest: its shape and its file list.
	var m Manifest
	listed := map[string]ManifestEntry{}
	manifestOK := manifestBytes != nil
	if manifestBytes != nil {
		if err := json.Unmarshal(manifestBytes, &m); err != nil {
			problem("%s does not parse: %v", ManifestFile, err)
			manifestOK = false
		} else if m.Format != ManifestFormat {
			problem("%s: format \"%s\", want %q", ManifestFile, name(m.Format), ManifestFormat)
		}
		for _, e := range m.Files {
			switch {
			case !safeBundlePath(e.Path):
				problem("%s lists an unsafe path \"%s\"", ManifestFile, name(e.Path))
				continue
			case e.Path == ManifestFile || e.Path == ManifestJWSFile:
				problem("%s lists %s, which cannot hash itself", ManifestFile, e.Path)
				continue
			}
			if _, dup := listed[e.Path]; dup {
				problem("%s lists %s twice", ManifestFile, name(e.Path))
			}
			listed[e.Path] = e
		}
		res.Files = len(listed)
		for _, c := range m.Cases {
			if _, ok := listed[c.Evidence]; !ok {
				problem("case %s: its evidence file \"%s\" is not in the manifest", name(c.ID), name(c.Evidence))
			}
		}
	}

	// The bundled key and the signature over the exact manifest bytes.
	bundled, kid, keyErr := readPublicJWK(root, EvidenceKeyFile)
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
				problem("%s kid \"%s\" is not the bundled key's kid \"%s\"", ManifestJWSFile, name(hk), name(kid))
			}
			if typ, _ := h["typ"].(string); typ != ManifestJWSType {
				problem("%s typ \"%s\", want %q", ManifestJWSFile, name(typ), ManifestJWSType)
			}
		}
		if m.EvidenceKeyID != "" && m.EvidenceKeyID != kid {
			problem("%s names evidence key \"%s\", but %s holds \"%s\"", ManifestFile, name(m.EvidenceKeyID), EvidenceKeyFile, name(kid))
		}
	}

	// Every file: listed ones present and unchanged, nothing else there.
	w := walkBundle(root, safefile.MaxBundleEntries)
	for _, f := range w.findings {
		problem("%s", f)
	}
	paths := make([]string, 0, len(listed))
	for p := range listed {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var hashed int64
	for _, p := range paths {
		e := listed[p]
		if !w.files[p] {
			if !w.truncated {
				problem("missing: %s", name(p))
			}
			continue
		}
		n, sum, err := hashListed(root, p, e.Size, safefile.MaxBundleTotal-hashed)
		if sum != "" {
			hashed += n
		}
		switch {
		case errors.Is(err, errNotHashed):
			problem("%s %v", name(p), err)
		case err != nil:
			problem("%s cannot be read: %v", name(p), shortErr(err))
		case sum == "":
			problem("changed: %s (%d bytes; the manifest says %d bytes)", name(p), n, e.Size)
		case n != e.Size || sum != e.SHA256:
			problem("changed: %s (sha256 %s, %d bytes; the manifest says %s, %d bytes)", name(p), sum, n, name(e.SHA256), e.Size)
		}
	}
	listedDirs := map[string]bool{}
	for _, p := range paths {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			listedDirs[d] = true
		}
	}
	var extra []string
	for p := range w.files {
		if _, ok := listed[p]; !ok && p != ManifestFile && p != ManifestJWSFile {
			extra = append(extra, p)
		}
	}
	for _, d := range w.dirs {
		if !listedDirs[d] {
			extra = append(extra, d+"/")
		}
	}
	sort.Strings(extra)
	if !manifestOK && len(extra) > 0 {
		// Without a file list every file would be "extra": one line says it.
		problem("%d files and folders not checked: there is no readable %s to list them", len(extra), ManifestFile)
		extra = nil
	}
	for _, p := range extra {
		problem("extra: %s is not in the manifest", name(p))
	}
	res.IntegrityOK = len(res.Problems) == 0 && res.Omitted == 0

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

// errNotHashed marks a listed file verify refuses to hash: over a cap.
var errNotHashed = errors.New("not hashed")

// hashListed hashes the listed file p as a stream. A file whose size differs from the manifest's
// is not read: its size alone shows the change, and a sparse 8 GiB file listed as 100 bytes must
// not cost 8 GiB of reading. It returns the bytes hashed and their hex SHA-256, or, when the size
// alone shows the change, the size on disk and "".
func hashListed(root *os.Root, p string, want, budget int64) (int64, string, error) {
	f, st, err := safefile.OpenInRoot(root, p, safefile.MaxBundleFile)
	switch {
	case errors.Is(err, safefile.ErrTooLarge):
		return 0, "", fmt.Errorf("%w: %s", errNotHashed, shortErr(err))
	case err != nil:
		return 0, "", err
	}
	defer f.Close()
	if st.Size() != want {
		return st.Size(), "", nil
	}
	if st.Size() > budget {
		return 0, "", fmt.Errorf("%w: the bundle's files exceed %s in all", errNotHashed, safefile.Size(safefile.MaxBundleTotal))
	}
	h := sha256.New()
	// One byte past the expected size, so a file that grows while it is hashed shows as changed.
	n, err := io.CopyBuffer(h, io.LimitReader(f, want+1), make([]byte, 256<<10))
	if err != nil {
		return n, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// walked is what walkBundle found.
type walked struct {
	files     map[string]bool // regular files, by slash-separated path
	dirs      []string
	findings  []string // problems, sorted
	truncated bool     // the walk stopped at MaxBundleEntries
}

// walkBundle lists the bundle's tree within root without following links, reading each
// directory in batches so that a directory of millions of entries never sits in memory at once,
// and stops after maxEntries entries.
func walkBundle(root *os.Root, maxEntries int) walked {
	w := walked{files: map[string]bool{}}
	entries := 0
	queue := []string{"."}
	for len(queue) > 0 && !w.truncated {
		dir := queue[0]
		queue = queue[1:]
		d, err := safefile.OpenDirInRoot(root, dir)
		if err != nil {
			w.findings = append(w.findings, fmt.Sprintf("%s cannot be read: %v", name(dir), shortErr(err)))
			continue
		}
		for !w.truncated {
			batch, err := d.ReadDir(256)
			for _, e := range batch {
				if entries++; entries > maxEntries {
					w.truncated = true
					w.findings = append(w.findings, fmt.Sprintf("the bundle holds more than %d entries; the rest were not checked", maxEntries))
					break
				}
				rel := e.Name()
				if dir != "." {
					rel = dir + "/" + rel
				}
				switch t := e.Type(); {
				case t.IsDir():
					w.dirs = append(w.dirs, rel)
					queue = append(queue, rel)
				case t.IsRegular():
					w.files[rel] = true
				case t&fs.ModeSymlink != 0:
					w.findings = append(w.findings, fmt.Sprintf("%s is not a regular file: it is a symbolic link, which verify never follows", name(rel)))
				default:
					w.findings = append(w.findings, fmt.Sprintf("%s is not a regular file: it is %s", name(rel), safefile.Kind(t)))
				}
			}
			if err == io.EOF || (err == nil && len(batch) == 0) {
				break
			}
			if err != nil {
				w.findings = append(w.findings, fmt.Sprintf("%s cannot be read: %v", name(dir), shortErr(err)))
				break
			}
		}
		d.Close()
	}
	sort.Strings(w.findings)
	return w
}

func readPublicJWK(root *os.Root, p string) (crypto.PublicKey, string, error) {
	data, err := safefile.ReadFileInRoot(root, p, safefile.MaxJWK)
	if err != nil {
		return nil, "", errors.New("cannot be read: " + shortErr(err))
	}
	return jose.ParsePublicJWK(data)
}

// safeBundlePath accepts a clean, relative, slash-separated path that stays inside the bundle.
func safeBundlePath(p string) bool {
	return p != "" && path.Clean(p) == p && !strings.Contains(p, `\`) && filepath.IsLocal(filepath.FromSlash(p))
}

// shortErr drops the path an *fs.PathError repeats, for one-line problems.
func shortErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

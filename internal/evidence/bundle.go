package evidence

import (
	"crypto"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/dcrconform/dcrconform/internal/engine"
	"github.com/dcrconform/dcrconform/internal/jose"
)

// Names and formats of a signed evidence bundle.
const (
	// ManifestFile lists every other file of the bundle with its SHA-256.
	ManifestFile = "manifest.json"
	// ManifestJWSFile is a compact JWS whose payload is exactly the bytes of ManifestFile.
	ManifestJWSFile = "manifest.jws"
	// EvidenceKeyFile is the public JWK of the key that signed ManifestJWSFile.
	EvidenceKeyFile = "evidence-key.jwk"
	// ManifestFormat names the manifest layout.
	ManifestFormat = "dcrconform-evidence-bundle/1"
	// ManifestJWSType is the typ header of ManifestJWSFile.
	ManifestJWSType = "dcrconform-manifest+jws"
)

// Manifest is the content of manifest.json.
type Manifest struct {
	Format      string `json:"format"`
	Tool        string `json:"tool"`
	ToolVersion string `json:"tool_version"`
	// VCSRevision and VCSModified come from the build information of the binary that wrote the
	// bundle, when it was built from a VCS checkout.
	VCSRevision       string    `json:"vcs_revision,omitempty"`
	VCSModified       bool      `json:"vcs_modified,omitempty"`
	GoVersion         string    `json:"go_version"`
	Target            string    `json:"target"`
	Embedded          bool      `json:"embedded_reference_bank"`
	Profile           string    `json:"profile"`
	Strict            bool      `json:"strict"`
	ConfigFingerprint string    `json:"config_fingerprint"`
	Started           time.Time `json:"started"`
	Finished          time.Time `json:"finished"`
	Result            string    `json:"result"`
	ExitCode          int       `json:"exit_code"`
	// Complete is false when the run stopped before every selected case ran (Stopped says
	// why) or when it ran a selection of the profile's catalogue.
	Complete  bool      `json:"complete"`
	Stopped   string    `json:"stopped,omitempty"`
	Selection Selection `json:"selection"`
	// Cleanup lists the clients the run registered and deleted at its end, and those it had
	// to leave behind on the target, with why.
	Cleanup       *engine.CleanupResult `json:"cleanup,omitempty"`
	Total         int                   `json:"total"`
	Counts        map[string]int        `json:"counts"`
	Cases         []ManifestCase        `json:"cases"`
	EvidenceKeyID string                `json:"evidence_key_kid"`
	Files         []ManifestEntry       `json:"files"`
}

// ManifestCase is one case of the run as the manifest records it.
type ManifestCase struct {
	ID       string `json:"id"`
	Level    string `json:"level"`
	Verdict  string `json:"verdict"`
	Reason   string `json:"reason"`
	Answer   string `json:"answer,omitempty"`
	Evidence string `json:"evidence"`
}

// ManifestEntry is one file of the bundle: its slash-separated path inside the bundle, its size
// and the hex SHA-256 of its bytes.
type ManifestEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// WriteBundle writes a signed evidence bundle into dir, which must be missing or empty:
//
//   - the given reports (name -> bytes, e.g. "junit.xml", "report.json", "report.html");
//   - cases/<ID>.json per outcome (CaseEvidence; "/" and other unsafe characters in the ID become
//     "_", with -2, -3... on a clash) and cases/<ID>.body, the request body its curl command sends
//     (cases/<ID>.<n>.body for a later exchange whose body differs);
//   - evidence-key.jwk, the public half of signer as a JWK with kid;
//   - manifest.json (Manifest: run, counts, cases and the SHA-256 of every other file, sorted by
//     path) and manifest.jws, a compact JWS over the exact manifest.json bytes, ES256 for an ECDSA
//     P-256 key or PS256 for an RSA key.
//
// The manifest files are written last, so a bundle whose writing failed never verifies. The kid
// is the key's RFC 7638 thumbprint, stable across runs so a certifier can pin it. The key paths
// of meta are written into curl commands; no key material other than the public JWK enters the
// bundle.
func WriteBundle(dir string, meta Meta, outs []engine.Outcome, reports map[string][]byte, signer crypto.Signer) error {
	if signer == nil {
		return errors.New("evidence bundle: no signing key")
	}
	pub := signer.Public()
	if _, err := jose.AlgFor(pub); err != nil {
		return fmt.Errorf("evidence bundle: signing key: %w", err)
	}
	kid, err := jose.Thumbprint(pub)
	if err != nil {
		return fmt.Errorf("evidence bundle: %w", err)
	}
	if err := requireEmptyDir(dir); err != nil {
		return err
	}

	files := map[string][]byte{}
	taken := map[string]bool{} // lower-cased: bundles travel to case-insensitive file systems
	add := func(name string, data []byte) error {
		if taken[strings.ToLower(name)] {
			return fmt.Errorf("evidence bundle: two files named %s", name)
		}
		files[name], taken[strings.ToLower(name)] = data, true
		return nil
	}
	for name, data := range reports {
		clean, err := reportName(name)
		if err != nil {
			return err
		}
		if err := add(clean, data); err != nil {
			return err
		}
	}

	m := Manifest{
		Format: ManifestFormat, Tool: meta.Tool, ToolVersion: meta.Version, GoVersion: runtime.Version(),
		Target: meta.Target, Embedded: meta.Embedded, Profile: meta.Profile, Strict: meta.Strict,
		ConfigFingerprint: meta.ConfigFingerprint, Started: meta.Started.UTC(), Finished: meta.Finished.UTC(),
		Total: len(outs), Counts: map[string]int{}, Cases: []ManifestCase{}, EvidenceKeyID: kid,
	}
	if m.Tool == "" {
		m.Tool = "dcrconform"
	}
	m.VCSRevision, m.VCSModified = vcsInfo()
	m.ExitCode, m.Result = meta.Outcome(outs)
	m.Stopped, m.Selection, m.Cleanup = meta.Stopped, meta.Selection, meta.Cleanup
	m.Complete = meta.Stopped == "" && meta.Selection.Complete()
	for _, v := range verdictOrder {
		m.Counts[string(v)] = 0
	}
	bases := caseBases(outs)
	for i, o := range outs {
		m.Counts[string(o.Verdict)]++
		base := bases[i]
		evidencePath := CasesDir + "/" + base + ".json"
		if err := add(evidencePath, caseEvidence(o, meta.KeyPaths, base)); err != nil {
			return err
		}
		bodies := map[string]bool{}
		for i, name := range bodyFiles(o.Exchanges, base) {
			if name == "" || bodies[name] {
				continue // no exchange, or a repeated send of the same body
			}
			bodies[name] = true
			if err := add(name, []byte(o.Exchanges[i].Request.Body)); err != nil {
				return err
			}
		}
		m.Cases = append(m.Cases, ManifestCase{ID: o.ID, Level: string(o.Level), Verdict: string(o.Verdict),
			Reason: o.Reason, Answer: o.Answer, Evidence: evidencePath})
	}
	jwkDoc, err := jose.PublicJWK(pub, kid)
	if err != nil {
		return fmt.Errorf("evidence bundle: public key: %w", err)
	}
	if err := add(EvidenceKeyFile, jwkDoc); err != nil {
		return err
	}

	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		data := files[name]
		m.Files = append(m.Files, ManifestEntry{Path: name, Size: int64(len(data)), SHA256: sha256Hex(data)})
		if err := writeFile(filepath.Join(dir, filepath.FromSlash(name)), data); err != nil {
			return fmt.Errorf("evidence bundle: %w", err)
		}
	}
	manifest, err := marshalJSON(m)
	if err != nil {
		return fmt.Errorf("evidence bundle: encode manifest: %w", err)
	}
	token, err := jose.SignPayload(signer, kid, ManifestJWSType, manifest)
	if err != nil {
		return fmt.Errorf("evidence bundle: sign manifest: %w", err)
	}
	// A signer that produced a bad signature (an HSM, a wrong key type) is caught here, not by
	// the certifier.
	if payload, _, err := jose.VerifyPayload(token, pub); err != nil || string(payload) != string(manifest) {
		return fmt.Errorf("evidence bundle: the manifest signature does not verify with the signer's own public key")
	}
	if err := writeFile(filepath.Join(dir, ManifestFile), manifest); err != nil {
		return fmt.Errorf("evidence bundle: %w", err)
	}
	if err := writeFile(filepath.Join(dir, ManifestJWSFile), []byte(token+"\n")); err != nil {
		return fmt.Errorf("evidence bundle: %w", err)
	}
	return nil
}

// requireEmptyDir makes dir, or accepts it when it exists and is empty: a file left there by an
// earlier run would otherwise have to be either signed unseen or reported as extra.
func requireEmptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("evidence bundle: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("evidence bundle: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("evidence bundle: directory %s is not empty; a bundle needs a directory of its own", dir)
	}
	return nil
}

// reservedNames are the bundle's own files, which a report may not take.
var reservedNames = map[string]bool{ManifestFile: true, ManifestJWSFile: true, EvidenceKeyFile: true}

// reportName checks a report's name: a relative slash-separated path that stays inside the
// bundle and does not take one of the bundle's own names or the cases/ folder.
func reportName(name string) (string, error) {
	clean := path.Clean(name)
	switch {
	case name == "" || clean != name || strings.Contains(name, `\`) || !filepath.IsLocal(filepath.FromSlash(name)):
		return "", fmt.Errorf("evidence bundle: report name %q is not a plain relative path", name)
	case reservedNames[strings.ToLower(clean)]:
		return "", fmt.Errorf("evidence bundle: report name %q is reserved for the bundle itself", name)
	case strings.EqualFold(clean, CasesDir) || strings.HasPrefix(strings.ToLower(clean), CasesDir+"/"):
		return "", fmt.Errorf("evidence bundle: report name %q is inside %s/, which holds per-case evidence", name, CasesDir)
	}
	return clean, nil
}

func vcsInfo() (revision string, modified bool) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return revision, modified
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

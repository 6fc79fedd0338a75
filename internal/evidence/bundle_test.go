package evidence

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/engine"
	"github.com/dcrconform/dcrconform/internal/jose"
)

func readManifest(t *testing.T, dir string) Manifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustVerify(t *testing.T, dir string, pub crypto.PublicKey) VerifyResult {
	t.Helper()
	res, err := Verify(dir, pub)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

func TestBundleLayoutAndManifest(t *testing.T) {
	key := ecKey(t, "evidence")
	dir := writeTestBundle(t, key)
	var got []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(got)
	want := []string{
		"cases/CLM-07.body", "cases/CLM-07.json", "cases/HAPPY-01.body", "cases/HAPPY-01.json",
		"cases/HTTP-09.body", "cases/HTTP-09.json", "cases/JWS-11_blackhole.body", "cases/JWS-11_blackhole.json",
		"cases/SSA-03.json", "evidence-key.jwk", "junit.xml", "manifest.json", "manifest.jws", "report.html", "report.json",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("bundle files:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	m := readManifest(t, dir)
	if m.Format != ManifestFormat || m.ToolVersion != testMeta.Version || m.GoVersion != runtime.Version() ||
		m.Target != testMeta.Target || m.Profile != "obie-3.2" || m.ConfigFingerprint != testMeta.ConfigFingerprint ||
		!m.Started.Equal(testMeta.Started) || !m.Finished.Equal(testMeta.Finished) {
		t.Fatalf("manifest header: %+v", m)
	}
	if m.Counts["fail"] != 1 || m.Counts["pass"] != 1 || m.Counts["warn"] != 1 || m.Counts["skipped"] != 1 ||
		m.Counts["observed"] != 1 || m.Total != 5 || m.Result != "NOT CONFORMANT" || m.ExitCode != 1 {
		t.Fatalf("manifest counts: %v total %d result %s", m.Counts, m.Total, m.Result)
	}
	if len(m.Cases) != 5 || m.Cases[1].ID != "JWS-11/blackhole" || m.Cases[1].Level != "MUST" ||
		m.Cases[1].Verdict != "fail" || m.Cases[1].Evidence != "cases/JWS-11_blackhole.json" || m.Cases[1].Reason == "" {
		t.Fatalf("manifest cases: %+v", m.Cases)
	}
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path)
		data, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil || sha256Hex(data) != f.SHA256 || int64(len(data)) != f.Size {
			t.Fatalf("manifest entry %+v does not match the file (%v)", f, err)
		}
	}
	if !sort.StringsAreSorted(paths) || len(paths) != len(want)-2 {
		t.Fatalf("manifest files not sorted or incomplete: %v", paths)
	}

	// The JWS payload is exactly manifest.json, and the key file is public only.
	tok, _ := os.ReadFile(filepath.Join(dir, ManifestJWSFile))
	payload, h, err := jose.VerifyPayload(strings.TrimSpace(string(tok)), &key.PublicKey)
	manifest, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil || !bytes.Equal(payload, manifest) || h["alg"] != "ES256" || h["kid"] != m.EvidenceKeyID {
		t.Fatalf("manifest.jws: %v %v", err, h)
	}
	jwk, _ := os.ReadFile(filepath.Join(dir, EvidenceKeyFile))
	var members map[string]any
	json.Unmarshal(jwk, &members)
	if _, ok := members["d"]; ok {
		t.Fatal("evidence-key.jwk holds the private key")
	}

	// The request body of a case is the file its curl command sends.
	body, _ := os.ReadFile(filepath.Join(dir, "cases", "JWS-11_blackhole.body"))
	if string(body) != testOutcomes()[1].Exchanges[0].Request.Body {
		t.Fatalf("body file %q", body)
	}
	var ce struct {
		ID        string
		Exchanges []struct {
			Curl    string
			Request struct {
				BodyFile string `json:"body_file"`
			}
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, "cases", "HTTP-09.json"))
	if err := json.Unmarshal(data, &ce); err != nil {
		t.Fatal(err)
	}
	if len(ce.Exchanges) != 2 || ce.Exchanges[1].Request.BodyFile != "cases/HTTP-09.body" ||
		!strings.Contains(ce.Exchanges[1].Curl, "--data-binary @cases/HTTP-09.body") {
		t.Fatalf("repeated exchange evidence: %+v", ce)
	}
}

func TestBundleVerifies(t *testing.T) {
	key := ecKey(t, "evidence")
	dir := writeTestBundle(t, key)
	res := mustVerify(t, dir, nil)
	if !res.IntegrityOK || res.SignerProven || len(res.Problems) != 0 {
		t.Fatalf("untouched bundle without key: %+v", res)
	}
	res = mustVerify(t, dir, &key.PublicKey)
	if !res.IntegrityOK || !res.SignerProven || len(res.Problems) != 0 || res.Files != 13 {
		t.Fatalf("untouched bundle with its key: %+v", res)
	}
	kid, _ := jose.Thumbprint(&key.PublicKey)
	if res.Kid != kid {
		t.Fatalf("kid %q, want %q", res.Kid, kid)
	}
}

func TestBundleRSASigner(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	dir := writeTestBundle(t, key)
	tok, _ := os.ReadFile(filepath.Join(dir, ManifestJWSFile))
	if h, _, err := jose.Decode(strings.TrimSpace(string(tok))); err != nil || h["alg"] != "PS256" {
		t.Fatalf("RSA evidence key: header %v (%v)", h, err)
	}
	if res := mustVerify(t, dir, &key.PublicKey); !res.IntegrityOK || !res.SignerProven {
		t.Fatalf("%+v", res)
	}
}

// Every tampering of a genuine bundle must be caught.
func TestBundleTamperingIsCaught(t *testing.T) {
	key := ecKey(t, "evidence")
	other := ecKey(t, "other")
	genuine := writeTestBundle(t, key)
	write := func(t *testing.T, dir, name string, data []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(t *testing.T, dir, name string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	otherJWK, err := jose.PublicJWK(&other.PublicKey, "other")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, dir string)
		pub    crypto.PublicKey
		want   string
	}{
		{"one byte of a case file", func(t *testing.T, dir string) {
			data := read(t, dir, "cases/JWS-11_blackhole.json")
			i := bytes.Index(data, []byte(`"fail"`))
			data[i+1] = 'F'
			write(t, dir, "cases/JWS-11_blackhole.json", data)
		}, nil, "changed: cases/JWS-11_blackhole.json"},
		{"one byte of a report", func(t *testing.T, dir string) {
			data := read(t, dir, "junit.xml")
			data[1] ^= 0x20
			write(t, dir, "junit.xml", data)
		}, nil, "changed: junit.xml"},
		{"one byte of a request body", func(t *testing.T, dir string) {
			data := read(t, dir, "cases/HAPPY-01.body")
			data[len(data)-1] ^= 0x01
			write(t, dir, "cases/HAPPY-01.body", data)
		}, nil, "changed: cases/HAPPY-01.body"},
		{"one field of manifest.json", func(t *testing.T, dir string) {
			data := read(t, dir, ManifestFile)
			changed := bytes.Replace(data, []byte(`"verdict": "fail"`), []byte(`"verdict": "pass"`), 1)
			if bytes.Equal(changed, data) {
				t.Fatal("fixture: no fail verdict in the manifest")
			}
			write(t, dir, ManifestFile, changed)
		}, nil, "manifest.json is not the payload signed in manifest.jws"},
		{"manifest.json rehashed after changing a file", func(t *testing.T, dir string) {
			data := read(t, dir, "junit.xml")
			data = append(data, ' ')
			write(t, dir, "junit.xml", data)
			m := readManifest(t, dir)
			for i := range m.Files {
				if m.Files[i].Path == "junit.xml" {
					m.Files[i].SHA256, m.Files[i].Size = sha256Hex(data), int64(len(data))
				}
			}
			out, _ := marshalJSON(m)
			write(t, dir, ManifestFile, out)
		}, nil, "manifest.json is not the payload signed in manifest.jws"},
		{"an added file", func(t *testing.T, dir string) {
			write(t, dir, "notes.txt", []byte("added later"))
		}, nil, "extra: notes.txt is not in the manifest"},
		{"an added file in a new folder", func(t *testing.T, dir string) {
			write(t, dir, "more/x.json", []byte("{}"))
		}, nil, "extra: more/x.json is not in the manifest"},
		{"an added case file", func(t *testing.T, dir string) {
			write(t, dir, "cases/EXTRA-01.json", []byte("{}"))
		}, nil, "extra: cases/EXTRA-01.json is not in the manifest"},
		{"an added empty folder", func(t *testing.T, dir string) {
			os.Mkdir(filepath.Join(dir, "empty"), 0o755)
		}, nil, "extra: empty/ is not in the manifest"},
		{"a removed file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "cases", "SSA-03.json"))
		}, nil, "missing: cases/SSA-03.json"},
		{"a removed report", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "report.html"))
		}, nil, "missing: report.html"},
		{"evidence-key.jwk replaced by another key", func(t *testing.T, dir string) {
			write(t, dir, EvidenceKeyFile, otherJWK)
		}, nil, "manifest.jws does not verify with the bundled evidence-key.jwk"},
		{"manifest.jws signature flipped", func(t *testing.T, dir string) {
			tok, err := jose.TamperSignature(strings.TrimSpace(string(read(t, dir, ManifestJWSFile))))
			if err != nil {
				t.Fatal(err)
			}
			write(t, dir, ManifestJWSFile, []byte(tok))
		}, nil, "manifest.jws does not verify"},
		{"manifest.jws removed", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, ManifestJWSFile))
		}, nil, "manifest.jws cannot be read"},
		{"manifest.json removed", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, ManifestFile))
		}, nil, "manifest.json cannot be read"},
		{"a file replaced by a symlink", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "junit.xml"))
			if err := os.Symlink(filepath.Join(genuine, "junit.xml"), filepath.Join(dir, "junit.xml")); err != nil {
				t.Skip("no symlinks here:", err)
			}
		}, nil, "junit.xml is not a regular file"},
		{"--key with a different key", func(t *testing.T, dir string) {}, &other.PublicKey,
			"manifest.jws is not signed by the given key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, genuine)
			if res := mustVerify(t, dir, nil); !res.IntegrityOK {
				t.Fatalf("the copy does not verify before tampering: %v", res.Problems)
			}
			tc.tamper(t, dir)
			res := mustVerify(t, dir, tc.pub)
			if tc.pub == nil && res.IntegrityOK {
				t.Fatalf("tampering not caught: %+v", res)
			}
			if tc.pub != nil && res.SignerProven {
				t.Fatalf("wrong signer not caught: %+v", res)
			}
			if !containsSub(res.Problems, tc.want) {
				t.Fatalf("problems %q lack %q", res.Problems, tc.want)
			}
			// With the genuine key given, the tampering is still caught.
			if res = mustVerify(t, dir, &key.PublicKey); tc.pub == nil && len(res.Problems) == 0 {
				t.Fatalf("with the genuine key: no problem found")
			}
		})
	}
}

// A forger who changes the bundle and re-signs it with a key of their own gets a self-consistent
// bundle: integrity holds, and only the verifier's own key exposes it.
func TestBundleReSignedByAnotherKey(t *testing.T) {
	key, forger := ecKey(t, "evidence"), ecKey(t, "forger")
	forged := writeTestBundle(t, forger)
	res := mustVerify(t, forged, nil)
	if !res.IntegrityOK || res.SignerProven {
		t.Fatalf("re-signed bundle without key: %+v", res)
	}
	res = mustVerify(t, forged, &key.PublicKey)
	if res.SignerProven || !containsSub(res.Problems, "not signed by the given key") ||
		!containsSub(res.Problems, "the bundled evidence-key.jwk is not the given key") {
		t.Fatalf("re-signed bundle with the genuine key: %+v", res)
	}
}

func TestVerifyUnusableInput(t *testing.T) {
	if _, err := Verify(filepath.Join(t.TempDir(), "nope"), nil); err == nil {
		t.Fatal("missing dir: no error")
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := Verify(f, nil); err == nil {
		t.Fatal("file as dir: no error")
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	if _, err := Verify(t.TempDir(), &small.PublicKey); err == nil {
		t.Fatal("1024-bit key: no error")
	}
	// An empty directory is usable input and fails verification.
	res := mustVerify(t, t.TempDir(), nil)
	if res.IntegrityOK || len(res.Problems) == 0 {
		t.Fatalf("empty dir: %+v", res)
	}
}

func TestVerifyRefusesUnsafeManifestPaths(t *testing.T) {
	key := ecKey(t, "evidence")
	dir := writeTestBundle(t, key)
	m := readManifest(t, dir)
	m.Files = append(m.Files, ManifestEntry{Path: "../outside", SHA256: sha256Hex(nil)},
		ManifestEntry{Path: "/etc/passwd", SHA256: sha256Hex(nil)})
	out, _ := marshalJSON(m)
	tok, err := jose.SignPayload(key, m.EvidenceKeyID, ManifestJWSType, out) // even when signed
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ManifestFile), out, 0o644)
	os.WriteFile(filepath.Join(dir, ManifestJWSFile), []byte(tok), 0o644)
	res := mustVerify(t, dir, &key.PublicKey)
	if res.IntegrityOK || !containsSub(res.Problems, `unsafe path "../outside"`) || !containsSub(res.Problems, `unsafe path "/etc/passwd"`) {
		t.Fatalf("%+v", res)
	}
}

func TestWriteBundleRefuses(t *testing.T) {
	key := ecKey(t, "evidence")
	outs := testOutcomes()
	nonEmpty := t.TempDir()
	os.WriteFile(filepath.Join(nonEmpty, "old.xml"), nil, 0o644)
	if err := WriteBundle(nonEmpty, testMeta, outs, nil, key); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("non-empty dir: %v", err)
	}
	for _, name := range []string{"../x", "/abs", "manifest.json", "MANIFEST.JWS", "evidence-key.jwk", "cases/x.json", "a/../b", ""} {
		err := WriteBundle(filepath.Join(t.TempDir(), "b"), testMeta, outs, map[string][]byte{name: nil}, key)
		if err == nil {
			t.Errorf("report name %q accepted", name)
		}
	}
	if err := WriteBundle(filepath.Join(t.TempDir(), "b"), testMeta, outs, nil, nil); err == nil {
		t.Error("nil signer accepted")
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	if err := WriteBundle(filepath.Join(t.TempDir(), "b"), testMeta, outs, nil, small); err == nil {
		t.Error("1024-bit RSA signer accepted")
	}
}

// IDs that map to one file name get distinct files, the HTML report's curl commands name the
// files the bundle holds, and the bundle still verifies.
func TestBundleCaseNameClashes(t *testing.T) {
	key := ecKey(t, "evidence")
	base := testOutcomes()[0]
	a, b, c := base, base, base
	a.ID, b.ID, c.ID = "X/1", "X_1", "x_1"
	outs := []engine.Outcome{a, b, c}
	html, err := HTML(testMeta, outs)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "b")
	if err := WriteBundle(dir, testMeta, outs, map[string][]byte{"report.html": html}, key); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"cases/X_1.body", "cases/X_1-2.body", "cases/x_1-3.body"} {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(body))); err != nil {
			t.Errorf("bundle lacks %s: %v", body, err)
		}
		if !strings.Contains(string(html), "@"+body) {
			t.Errorf("no curl command in the HTML report sends @%s", body)
		}
	}
	m := readManifest(t, dir)
	got := []string{m.Cases[0].Evidence, m.Cases[1].Evidence, m.Cases[2].Evidence}
	want := []string{"cases/X_1.json", "cases/X_1-2.json", "cases/x_1-3.json"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("evidence files %v, want %v", got, want)
	}
	if res := mustVerify(t, dir, &key.PublicKey); !res.IntegrityOK || !res.SignerProven {
		t.Fatalf("%+v", res)
	}
}

// No file of a bundle holds the secrets the target sent (the client redacted them at capture),
// nor any private key material of the evidence key.
func TestBundleHoldsNoSecrets(t *testing.T) {
	key := ecKey(t, "evidence")
	dir := writeTestBundle(t, key)
	dBytes := key.D.Bytes()
	hits, err := ScanForSecrets(dir, [][]byte{[]byte(responseSecret), []byte(tokenSecret), dBytes})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 0 {
		t.Fatalf("secrets found in %v", hits)
	}
}

func containsSub(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

//go:build unix

package evidence

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/safefile/safefiletest"
)

// ansiName is a file name that would clear the screen and retitle the terminal if printed raw.
const ansiName = "\x1b[2J\x1b]0;pwned\x07.txt"

// resign writes m as the bundle's manifest and signs it with key, as a forger holding the
// bundle's key (or a bank that wrote a hostile bundle itself) would, so that only the checks
// under test can catch it.
func resign(t *testing.T, dir string, key *ecdsa.PrivateKey, m Manifest) {
	t.Helper()
	out, err := marshalJSON(m)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jose.SignPayload(key, m.EvidenceKeyID, ManifestJWSType, out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), out, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestJWSFile), []byte(tok+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeHostile replaces the bundle file p with a hostile input of the given kind.
func makeHostile(t *testing.T, p, kind string) {
	t.Helper()
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
	var err error
	switch kind {
	case "symlink to /dev/zero":
		err = os.Symlink("/dev/zero", p)
	case "symlink to /dev/urandom":
		err = os.Symlink("/dev/urandom", p)
	case "FIFO":
		err = syscall.Mkfifo(p, 0o644)
	case "sparse 8 GiB file":
		safefiletest.Sparse(t, p, safefiletest.SparseSize)
	case "directory":
		err = os.Mkdir(p, 0o755)
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	if err != nil {
		t.Skipf("cannot make %s here: %v", kind, err)
	}
}

// verifyBounded runs Verify, failing on a hang, and checks what every hostile bundle must give:
// a failed verification whose problems are printable.
func verifyBounded(t *testing.T, what, dir string) VerifyResult {
	t.Helper()
	var res VerifyResult
	var err error
	took := safefiletest.Bounded(t, what, func() { res, err = Verify(dir, nil) })
	t.Logf("%-50s refused in %v (%d problems)", what, took, len(res.Problems))
	if err != nil {
		t.Fatalf("%s: Verify: %v", what, err)
	}
	if res.IntegrityOK {
		t.Fatalf("%s: verified: %+v", what, res)
	}
	for _, p := range res.Problems {
		if strings.ContainsAny(p, "\x1b\x07\n\r") {
			t.Errorf("%s: a problem holds control characters: %q", what, p)
		}
	}
	return res
}

func TestVerifyRefusesHostileBundleFiles(t *testing.T) {
	key := ecKey(t, "evidence")
	genuine := writeTestBundle(t, key)
	kinds := []string{"symlink to /dev/zero", "symlink to /dev/urandom", "FIFO", "sparse 8 GiB file", "directory"}
	for _, file := range []string{ManifestFile, ManifestJWSFile, EvidenceKeyFile, "junit.xml"} {
		for _, kind := range kinds {
			t.Run(file+"/"+kind, func(t *testing.T) {
				dir := copyDir(t, genuine)
				makeHostile(t, filepath.Join(dir, file), kind)
				res := verifyBounded(t, file+" as "+kind, dir)
				want := file + " cannot be read"
				switch {
				case file == EvidenceKeyFile:
					want = file + ": cannot be read"
				case file == "junit.xml" && kind == "sparse 8 GiB file":
					want = "junit.xml not hashed: 8 GiB, over the 256 MiB limit"
				case file == "junit.xml" && kind == "directory":
					want = "missing: junit.xml"
				case file == "junit.xml":
					want = "junit.xml is not a regular file"
				}
				if !containsSub(res.Problems, want) {
					t.Fatalf("problems %q lack %q", res.Problems, want)
				}
				if strings.HasPrefix(kind, "symlink") && !containsSub(res.Problems, file+" is not a regular file: it is a symbolic link, which verify never follows") {
					t.Fatalf("the link is not reported: %q", res.Problems)
				}
			})
		}
	}
}

// A listed file of the manifest's declared size is hashed as a stream; one whose size differs
// is reported from its size alone; one over the cap is not read at all.
func TestVerifyHashesHugeFilesWithinBounds(t *testing.T) {
	key := ecKey(t, "evidence")
	genuine := writeTestBundle(t, key)
	const big = 200 << 20 // under MaxBundleFile
	for _, tc := range []struct {
		name     string
		size     int64 // on disk, sparse
		listed   int64 // in the manifest
		want     string
		maxAlloc uint64
	}{
		{"8 GiB listed as 8 GiB", safefiletest.SparseSize, safefiletest.SparseSize, "big.bin not hashed: 8 GiB, over the 256 MiB limit", 64 << 20},
		{"8 GiB listed as 100 bytes", safefiletest.SparseSize, 100, "big.bin not hashed: 8 GiB, over the 256 MiB limit", 64 << 20},
		{"200 MiB listed as 100 bytes", big, 100, "changed: big.bin (209715200 bytes; the manifest says 100 bytes)", 64 << 20},
		{"200 MiB listed with a wrong hash", big, big, "changed: big.bin (sha256 ", 64 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, genuine)
			safefiletest.Sparse(t, filepath.Join(dir, "big.bin"), tc.size)
			m := readManifest(t, dir)
			m.Files = append(m.Files, ManifestEntry{Path: "big.bin", Size: tc.listed, SHA256: sha256Hex([]byte("not this"))})
			resign(t, dir, key, m)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res := verifyBounded(t, tc.name, dir)
			runtime.ReadMemStats(&after)
			if !containsSub(res.Problems, tc.want) {
				t.Fatalf("problems %q lack %q", res.Problems, tc.want)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > tc.maxAlloc {
				t.Fatalf("Verify allocated %d bytes for a %d-byte file: it is not streaming", alloc, tc.size)
			}
		})
	}
}

func TestVerifyRefusesAHugeManifest(t *testing.T) {
	key := ecKey(t, "evidence")
	dir := copyDir(t, writeTestBundle(t, key))
	// Real bytes, not a hole: a manifest just over the cap that parses as JSON.
	big := []byte(`{"format":"` + strings.Repeat("x", 16<<20) + `"}`)
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), big, 0o644); err != nil {
		t.Fatal(err)
	}
	res := verifyBounded(t, "17 MiB manifest.json", dir)
	if !containsSub(res.Problems, "manifest.json cannot be read: 16.0 MiB (16777229 bytes), over the 16 MiB limit") {
		t.Fatalf("%q", res.Problems)
	}
}

// The total a bundle may make verify hash is bounded too: once the budget is spent, a file is
// reported, not read.
func TestHashListedBudget(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if n, sum, err := hashListed(root, "f", 10, 10); err != nil || n != 10 || sum != sha256Hex([]byte("0123456789")) {
		t.Fatalf("within the budget: %d %q %v", n, sum, err)
	}
	if _, _, err := hashListed(root, "f", 10, 9); !errors.Is(err, errNotHashed) || !strings.Contains(err.Error(), "exceed 1 GiB in all") {
		t.Fatalf("over the budget: %v", err)
	}
	if n, sum, err := hashListed(root, "f", 3, 100); err != nil || n != 10 || sum != "" {
		t.Fatalf("size differs: %d %q %v", n, sum, err)
	}
}

// A signed manifest listing many missing files, with names that are terminal escapes, gives a
// bounded list of printable problems.
func TestVerifyManyHostileNames(t *testing.T) {
	key := ecKey(t, "evidence")
	dir := copyDir(t, writeTestBundle(t, key))
	m := readManifest(t, dir)
	for i := range 50_000 {
		m.Files = append(m.Files, ManifestEntry{Path: fmt.Sprintf("%d-%s", i, ansiName), Size: 1, SHA256: "\x1b[31mred"})
	}
	m.Cases = append(m.Cases, ManifestCase{ID: "\x1b]0;title\x07", Evidence: "\x1b[2J"})
	resign(t, dir, key, m)
	if err := os.WriteFile(filepath.Join(dir, ansiName), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := verifyBounded(t, "50000 missing files with ANSI names", dir)
	if len(res.Problems) != maxProblems || res.Omitted < 49_000 {
		t.Fatalf("%d problems listed, %d omitted; want %d listed and the rest counted", len(res.Problems), res.Omitted, maxProblems)
	}
	for _, want := range []string{`case \x1b]0;title\x07: its evidence file "\x1b[2J" is not in the manifest`,
		`missing: 0-\x1b[2J\x1b]0;pwned\x07.txt`} {
		if !containsSub(res.Problems, want) {
			t.Errorf("problems lack %q: %q", want, res.Problems[:5])
		}
	}

	// Few enough to list them all: the extra file's name is shown escaped too.
	dir = copyDir(t, writeTestBundle(t, key))
	if err := os.WriteFile(filepath.Join(dir, ansiName), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	res = verifyBounded(t, "an extra file with an ANSI name", dir)
	if !containsSub(res.Problems, `extra: \x1b[2J\x1b]0;pwned\x07.txt is not in the manifest`) {
		t.Fatalf("%q", res.Problems)
	}
}

// A linked directory inside the bundle is reported and never entered, even when its target holds
// exactly the files the manifest lists.
func TestVerifyNeverFollowsLinksInside(t *testing.T) {
	key := ecKey(t, "evidence")
	genuine := writeTestBundle(t, key)
	dir := copyDir(t, genuine)
	if err := os.RemoveAll(filepath.Join(dir, "cases")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(genuine, "cases"), filepath.Join(dir, "cases")); err != nil {
		t.Fatal(err)
	}
	res := verifyBounded(t, "cases/ as a link to a genuine copy", dir)
	if !containsSub(res.Problems, "cases is not a regular file: it is a symbolic link") || !containsSub(res.Problems, "missing: cases/") {
		t.Fatalf("%q", res.Problems)
	}

	// The bundle directory itself is the user's own argument: a link to it is followed.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(genuine, link); err != nil {
		t.Fatal(err)
	}
	if res := mustVerify(t, link, &key.PublicKey); !res.IntegrityOK || !res.SignerProven {
		t.Fatalf("a link to a genuine bundle: %q", res.Problems)
	}
}

func TestVerifyBundleDirIsAFIFO(t *testing.T) {
	fifo := safefiletest.Inputs(t, t.TempDir())["FIFO"]
	if fifo == "" {
		t.Skip("no FIFO here")
	}
	var err error
	safefiletest.Bounded(t, "FIFO as the bundle directory", func() { _, err = Verify(fifo, nil) })
	if err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Fatalf("%v", err)
	}
}

// The evidence key path is refused like any key file when it is not a regular PEM-sized file,
// and is never replaced by a fresh key: only a missing file is created.
func TestEvidenceKeyRefusesHostileInputs(t *testing.T) {
	for name, p := range safefiletest.Inputs(t, t.TempDir()) {
		var err error
		took := safefiletest.Bounded(t, name, func() { _, err = LoadOrCreateEvidenceKey(p) })
		t.Logf("evidence key %-24s refused in %v: %v", name, took, err)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "not a regular file") && !strings.Contains(err.Error(), "over the 4 MiB limit") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The walk stops at its entry cap, and says so, instead of listing a tree of any size.
func TestWalkBundleStopsAtTheEntryCap(t *testing.T) {
	dir := t.TempDir()
	for i := range 30 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	w := walkBundle(root, 10)
	if !w.truncated || len(w.files) != 10 || !containsSub(w.findings, "more than 10 entries; the rest were not checked") {
		t.Fatalf("%d files, truncated %v, findings %q", len(w.files), w.truncated, w.findings)
	}
	if w = walkBundle(root, 30); w.truncated || len(w.files) != 30 {
		t.Fatalf("at the cap: %d files, truncated %v", len(w.files), w.truncated)
	}
}

//go:build unix

package safefile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/safefile/safefiletest"
)

func write(t *testing.T, p string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadsRegularFilesAndFollowsLinks(t *testing.T) {
	dir := t.TempDir()
	p := write(t, filepath.Join(dir, "f"), []byte("hello"))
	// A Kubernetes secret: key -> ..data/key -> ..2025_01_01/key.
	if err := os.MkdirAll(filepath.Join(dir, "..2025"), 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "..2025", "key"), []byte("secret"))
	os.Symlink("..2025", filepath.Join(dir, "..data"))
	os.Symlink(filepath.Join("..data", "key"), filepath.Join(dir, "key"))
	for _, tc := range []struct {
		path, want string
		max        int64
	}{{p, "hello", 5}, {p, "hello", 1 << 20}, {filepath.Join(dir, "key"), "secret", 64}} {
		got, err := ReadFile(tc.path, tc.max)
		if err != nil || string(got) != tc.want {
			t.Errorf("ReadFile(%s, %d) = %q, %v", tc.path, tc.max, got, err)
		}
		if err := Check(tc.path, tc.max); err != nil {
			t.Errorf("Check(%s): %v", tc.path, err)
		}
	}
	if got, err := ReadFile(write(t, filepath.Join(dir, "empty"), nil), 0); err != nil || len(got) != 0 {
		t.Errorf("empty file: %q, %v", got, err)
	}
}

func TestRefusesOverTheLimit(t *testing.T) {
	p := write(t, filepath.Join(t.TempDir(), "f"), []byte("hello"))
	_, err := ReadFile(p, 4)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "5 bytes, over the 4 bytes limit") {
		t.Fatalf("ReadFile over the limit: %v", err)
	}
	if err := Check(p, 4); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Check over the limit: %v", err)
	}
}

// A file that grows between the stat and the read is still cut at the limit plus one byte.
func TestReadAllRefusesAFileThatGrew(t *testing.T) {
	_, err := readAll(bytes.NewReader(make([]byte, 11)), "f", 10)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "grew past the 10 bytes limit") {
		t.Fatalf("grown file: %v", err)
	}
	if got, err := readAll(bytes.NewReader(make([]byte, 10)), "f", 10); err != nil || len(got) != 10 {
		t.Fatalf("file at the limit: %d bytes, %v", len(got), err)
	}
}

// Every hostile input is refused with one line naming it and the reason, promptly, by every
// entry point; none is opened for reading in a way that could block.
func TestRefusesHostileInputs(t *testing.T) {
	dir := t.TempDir()
	inputs := safefiletest.Inputs(t, dir)
	want := map[string]struct {
		sentinel error
		text     string
	}{
		"symlink to /dev/zero":    {ErrNotRegular, "a character device, not a regular file"},
		"symlink to /dev/urandom": {ErrNotRegular, "a character device, not a regular file"},
		"FIFO":                    {ErrNotRegular, "a FIFO (named pipe), not a regular file"},
		"sparse 8 GiB file":       {ErrTooLarge, "8 GiB, over the 16 MiB limit"},
		"directory":               {ErrNotRegular, "a directory, not a regular file"},
		"socket":                  {ErrNotRegular, "a socket, not a regular file"},
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for name, p := range inputs {
		w := want[name]
		entry := map[string]func() error{
			"ReadFile": func() error { _, err := ReadFile(p, 16<<20); return err },
			"Check":    func() error { return Check(p, 16<<20) },
		}
		if rel, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(rel, "..") {
			entry["ReadFileInRoot"] = func() error { _, err := ReadFileInRoot(root, rel, 16<<20); return err }
		}
		for fn, call := range entry {
			var err error
			took := safefiletest.Bounded(t, name+" "+fn, func() { err = call() })
			t.Logf("%-24s %-16s refused in %v: %v", name, fn, took, err)
			wantSentinel, wantText := w.sentinel, w.text
			if strings.HasPrefix(name, "symlink") && fn == "ReadFileInRoot" {
				wantSentinel, wantText = ErrSymlink, "a symbolic link, not a regular file"
			}
			if !errors.Is(err, wantSentinel) || !strings.Contains(err.Error(), wantText) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s %s: error %v, want %v saying %q on one line", name, fn, err, wantSentinel, wantText)
			}
		}
	}
}

func TestInRootStaysInside(t *testing.T) {
	outside := write(t, filepath.Join(t.TempDir(), "secret"), []byte("outside"))
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "sub"), 0o700)
	write(t, filepath.Join(dir, "sub", "f"), []byte("inside"))
	os.Symlink(outside, filepath.Join(dir, "abs-link"))
	os.Symlink(filepath.Dir(outside), filepath.Join(dir, "dir-link"))
	os.Symlink("sub/f", filepath.Join(dir, "rel-link"))
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if got, err := ReadFileInRoot(root, "sub/f", 100); err != nil || string(got) != "inside" {
		t.Fatalf("sub/f: %q, %v", got, err)
	}
	for _, name := range []string{"abs-link", "rel-link", "dir-link/secret", "../" + filepath.Base(outside), "sub/../../x"} {
		got, err := ReadFileInRoot(root, name, 100)
		if err == nil || bytes.Contains(got, []byte("outside")) {
			t.Errorf("%s: read %q, %v", name, got, err)
		}
	}
	if _, err := ReadFileInRoot(root, "abs-link", 100); !errors.Is(err, ErrSymlink) {
		t.Errorf("abs-link: %v, want ErrSymlink", err)
	}
}

func TestErrorsWrapPathError(t *testing.T) {
	_, err := ReadFile(filepath.Join(t.TempDir(), "nope"), 10)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if Reason(err) != "no such file or directory" {
		t.Fatalf("Reason: %q", Reason(err))
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{
		5: "5 bytes", 64 << 10: "64 KiB", 16 << 20: "16 MiB", 8 << 30: "8 GiB",
		300_000_000: "286.1 MiB (300000000 bytes)", 1500: "1.5 KiB (1500 bytes)",
	} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

// The open itself never blocks on a FIFO, so a path swapped for one after the stat cannot hang a
// read either: the check of the opened file then refuses it.
func TestOpenFlagsDoNotBlockOnAFIFO(t *testing.T) {
	fifo, ok := safefiletest.Inputs(t, t.TempDir())["FIFO"]
	if !ok {
		t.Skip("no FIFO here")
	}
	safefiletest.Bounded(t, "open FIFO", func() {
		f, err := os.OpenFile(fifo, os.O_RDONLY|openFlags, 0)
		if err != nil {
			t.Errorf("open: %v", err)
			return
		}
		st, _ := f.Stat()
		if _, _, err := recheck(f, fifo, st, 10); !errors.Is(err, ErrNotRegular) {
			t.Errorf("recheck of a FIFO: %v", err)
		}
	})
}

func TestOpenDirInRoot(t *testing.T) {
	dir := t.TempDir()
	inputs := safefiletest.Inputs(t, dir)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	f, err := OpenDirInRoot(root, "a-directory")
	if err != nil {
		t.Fatalf("a directory: %v", err)
	}
	f.Close()
	if _, ok := inputs["FIFO"]; ok {
		var err error
		safefiletest.Bounded(t, "OpenDirInRoot FIFO", func() { _, err = OpenDirInRoot(root, "fifo") })
		if err == nil || !strings.Contains(err.Error(), "a FIFO (named pipe), not a directory") {
			t.Fatalf("a FIFO: %v", err)
		}
	}
}

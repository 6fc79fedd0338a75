//go:build unix

package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/config"
	"github.com/dcrconform/dcrconform/internal/safefile/safefiletest"
)

// wantRefusal is what each hostile input must give: the words naming what it is.
var wantRefusal = map[string]string{
	"symlink to /dev/zero":    "a character device, not a regular file",
	"symlink to /dev/urandom": "a character device, not a regular file",
	"FIFO":                    "a FIFO (named pipe), not a regular file",
	"sparse 8 GiB file":       "8 GiB, over the",
	"directory":               "a directory, not a regular file",
	"socket":                  "a socket, not a regular file",
}

// A config path that is a device, a FIFO, a directory or a huge file is refused with one line
// before it is read: none is an out-of-memory crash or a hang.
func TestLoadRefusesHostileConfigPaths(t *testing.T) {
	dir := t.TempDir()
	inputs := safefiletest.Inputs(t, dir)
	// 300 MB of YAML, as a sparse file: what counts is that it is never read.
	inputs["300 MB YAML"] = safefiletest.Sparse(t, filepath.Join(dir, "huge.yaml"), 300_000_000)
	for name, p := range inputs {
		var err error
		took := safefiletest.Bounded(t, name, func() { _, err = config.Load(p, "") })
		t.Logf("config %-24s refused in %v: %v", name, took, err)
		want := wantRefusal[name]
		if name == "300 MB YAML" {
			want = "286.1 MiB (300000000 bytes), over the 1 MiB limit"
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line naming %s and saying %q", name, err, p, want)
		}
	}
}

// A config may be a link (a mounted secret or ConfigMap is a chain of links beside the files it
// names, relative paths resolving from the link's directory), and so may the files it names.
func TestLoadFollowsLinks(t *testing.T) {
	dir := keyDir(t)
	if err := os.Mkdir(filepath.Join(dir, "..data"), 0o700); err != nil {
		t.Fatal(err)
	}
	real := writeConfig(t, filepath.Join(dir, "..data"), validYAML)
	link := filepath.Join(dir, "mounted.yaml")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(link, ""); err != nil {
		t.Fatalf("config through a link: %v", err)
	}
	keyLink := filepath.Join(dir, "key-link.pem")
	if err := os.Symlink(filepath.Join(dir, "transport-key.pem"), keyLink); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(writeConfig(t, dir, edit(t, validYAML, "  key: transport-key.pem", "  key: key-link.pem")), ""); err != nil {
		t.Fatalf("key through a link: %v", err)
	}
}

// Every file the config names is checked at load: a key, certificate, CA bundle or SSA file that
// is a device, a FIFO or huge is named with its field, before the harness reads it.
func TestLoadRefusesHostileNamedFiles(t *testing.T) {
	dir := keyDir(t)
	inputs := safefiletest.Inputs(t, t.TempDir())
	fields := []struct{ field, line, repl string }{
		{"transport.key", "  key: transport-key.pem", "  key: %s"},
		{"transport.cert", "  cert: transport.pem", "  cert: %s"},
		{"target.ca_bundle", "  ca_bundle: ca.pem", "  ca_bundle: %s"},
		{"signing.key", "  key: signing-key.pem", "  key: %s"},
		{"ssa.file", "", ""},
	}
	for name, p := range inputs {
		for _, f := range fields {
			yaml := validYAML + "ssa:\n  mode: supplied\n  file: " + p + "\n"
			if f.line != "" {
				yaml = edit(t, validYAML, f.line, strings.Replace(f.repl, "%s", p, 1))
			}
			msg := loadErr(t, dir, yaml, "")
			if !strings.Contains(msg, f.field+": "+p+" is "+wantRefusal[name]) || strings.Contains(msg, "\n") {
				t.Errorf("%s as %s: %q", name, f.field, msg)
			}
		}
	}
	big := safefiletest.Sparse(t, filepath.Join(t.TempDir(), "ssa.jwt"), 2<<20)
	msg := loadErr(t, dir, validYAML+"ssa:\n  mode: supplied\n  file: "+big+"\n", "")
	if !strings.Contains(msg, "ssa.file: "+big+" is 2 MiB, over the 1 MiB limit") {
		t.Errorf("a 2 MiB SSA file: %q", msg)
	}
}

// A config whose YAML error would quote terminal escapes shows them escaped.
func TestLoadYAMLErrorIsPrintable(t *testing.T) {
	msg := loadErr(t, keyDir(t), "profile: [\x1b[2J\n", "")
	if strings.ContainsAny(msg, "\x1b\n") {
		t.Fatalf("raw control characters: %q", msg)
	}
}

//go:build unix

package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/evidence"
	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/safefile/safefiletest"
)

// runBounded runs the built binary like runCLI, but kills it after safefiletest.HangBound so
// that a hang fails the test instead of stalling it, and returns how long it took.
func runBounded(t *testing.T, dir string, args ...string) (result, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safefiletest.HangBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("%v: no answer within %s: a hang", args, safefiletest.HangBound)
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}, took
}

// noCrash checks what every refusal must look like: no panic or goroutine dump, no raw control
// characters, and at most the given number of lines on stderr.
func noCrash(t *testing.T, what string, r result, maxErrLines int) {
	t.Helper()
	for _, s := range []string{r.stdout, r.stderr} {
		if strings.Contains(s, "goroutine ") || strings.Contains(s, "panic:") || strings.Contains(s, "out of memory") {
			t.Errorf("%s: crashed: %q", what, s)
		}
		if strings.ContainsAny(s, "\x1b\x07\r") {
			t.Errorf("%s: raw control characters in the output: %q", what, s)
		}
	}
	if n := strings.Count(strings.TrimSpace(r.stderr), "\n") + 1; r.stderr != "" && n > maxErrLines {
		t.Errorf("%s: %d lines on stderr, want at most %d: %q", what, n, maxErrLines, r.stderr)
	}
}

// `run --config` on a device, a FIFO, a directory or a huge file: exit 2 and one clear line.
func TestRunRefusesHostileConfigs(t *testing.T) {
	dir := t.TempDir()
	inputs := safefiletest.Inputs(t, dir)
	inputs["300 MB YAML"] = safefiletest.Sparse(t, filepath.Join(dir, "huge.yaml"), 300_000_000)
	for name, p := range inputs {
		r, took := runBounded(t, t.TempDir(), "run", "--config", p)
		t.Logf("run --config %-24s exit %d in %v: %s", name, r.code, took.Round(time.Millisecond), strings.TrimSpace(r.stderr))
		noCrash(t, name, r, 1)
		if r.code != 2 || !strings.Contains(r.stderr, p) ||
			!strings.Contains(r.stderr, "not a regular file") && !strings.Contains(r.stderr, "over the 1 MiB limit") {
			t.Errorf("%s: exit %d, stderr %q", name, r.code, r.stderr)
		}
	}
}

// A config whose key, certificate, CA bundle or SSA file is hostile: exit 2 naming the field.
func TestRunRefusesHostileFilesNamedByConfig(t *testing.T) {
	dir := t.TempDir()
	set, err := pki.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if err := set.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{"ca": pki.Files.CA, "cert": pki.Files.Transport, "key": pki.Files.TransportKey, "signing": pki.Files.Signing, "ssa": ""}
	inputs := safefiletest.Inputs(t, t.TempDir())
	for field, yamlKey := range map[string]string{"target.ca_bundle": "ca", "transport.cert": "cert", "transport.key": "key", "signing.key": "signing", "ssa.file": "ssa"} {
		for name, p := range inputs {
			files := map[string]string{}
			for k, v := range base {
				files[k] = v
			}
			files[yamlKey] = p
			ssa := ""
			if files["ssa"] != "" {
				ssa = "ssa:\n  mode: supplied\n  file: " + files["ssa"] + "\n"
			}
			cfg := filepath.Join(dir, "target.yaml")
			os.WriteFile(cfg, []byte("target:\n  registration_endpoint: https://127.0.0.1:1/register\n  ca_bundle: "+files["ca"]+
				"\ntransport:\n  cert: "+files["cert"]+"\n  key: "+files["key"]+"\nsigning:\n  key: "+files["signing"]+
				"\njwks:\n  url: https://127.0.0.1:1/jwks.json\nclaims:\n  aud: bank\n  iss: tpp\n  redirect_uris: [https://127.0.0.1/cb]\n"+ssa), 0o600)
			r, took := runBounded(t, t.TempDir(), "run", "--config", cfg)
			t.Logf("run, %s %-24s exit %d in %v", field, name, r.code, took.Round(time.Millisecond))
			noCrash(t, field+" "+name, r, 1)
			if r.code != 2 || !strings.Contains(r.stderr, field+": "+p+" is ") {
				t.Errorf("%s as %s: exit %d, stderr %q", name, field, r.code, r.stderr)
			}
		}
	}
}

// resignBundle writes m as the bundle's manifest, signed with the bundle's own key, so that the
// hostile content gets past the signature and only the checks under test can stop it.
func resignBundle(t *testing.T, dir string, key *ecdsa.PrivateKey, edit func(*evidence.Manifest)) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, evidence.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m evidence.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(&m)
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jose.SignPayload(key, m.EvidenceKeyID, evidence.ManifestJWSType, out)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, evidence.ManifestFile), out, 0o644)
	os.WriteFile(filepath.Join(dir, evidence.ManifestJWSFile), []byte(tok+"\n"), 0o644)
}

func replaceWith(t *testing.T, p string, make func(string) error) {
	t.Helper()
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
	if err := make(p); err != nil {
		t.Fatal(err)
	}
}

const ansiName = "\x1b[2J\x1b]0;pwned\x07.txt"

// `verify` on a hostile bundle: exit 1 with every problem listed printably, promptly.
func TestVerifyRefusesHostileBundles(t *testing.T) {
	link := func(target string) func(string) error { return func(p string) error { return os.Symlink(target, p) } }
	fifo := func(p string) error { return syscall.Mkfifo(p, 0o644) }
	sparse := func(size int64) func(string) error {
		return func(p string) error { safefiletest.Sparse(t, p, size); return nil }
	}
	for _, tc := range []struct {
		name   string
		hostal func(t *testing.T, dir string, key *ecdsa.PrivateKey)
		want   string
	}{
		{"manifest.json -> /dev/zero", func(t *testing.T, dir string, _ *ecdsa.PrivateKey) {
			replaceWith(t, filepath.Join(dir, evidence.ManifestFile), link("/dev/zero"))
		}, "manifest.json cannot be read: a symbolic link, not a regular file"},
		{"manifest.jws -> /dev/zero", func(t *testing.T, dir string, _ *ecdsa.PrivateKey) {
			replaceWith(t, filepath.Join(dir, evidence.ManifestJWSFile), link("/dev/zero"))
		}, "manifest.jws cannot be read: a symbolic link, not a regular file"},
		{"evidence-key.jwk -> /dev/urandom", func(t *testing.T, dir string, _ *ecdsa.PrivateKey) {
			replaceWith(t, filepath.Join(dir, evidence.EvidenceKeyFile), link("/dev/urandom"))
		}, "evidence-key.jwk: cannot be read: a symbolic link, not a regular file"},
		{"manifest.json a FIFO", func(t *testing.T, dir string, _ *ecdsa.PrivateKey) {
			replaceWith(t, filepath.Join(dir, evidence.ManifestFile), fifo)
		}, "manifest.json cannot be read: a FIFO (named pipe), not a regular file"},
		{"manifest.json a sparse 8 GiB file", func(t *testing.T, dir string, _ *ecdsa.PrivateKey) {
			replaceWith(t, filepath.Join(dir, evidence.ManifestFile), sparse(safefiletest.SparseSize))
		}, "manifest.json cannot be read: 8 GiB, over the 16 MiB limit"},
		{"a sparse 8 GiB file listed in the manifest", func(t *testing.T, dir string, key *ecdsa.PrivateKey) {
			safefiletest.Sparse(t, filepath.Join(dir, "big.bin"), safefiletest.SparseSize)
			resignBundle(t, dir, key, func(m *evidence.Manifest) {
				m.Files = append(m.Files, evidence.ManifestEntry{Path: "big.bin", Size: safefiletest.SparseSize, SHA256: strings.Repeat("0", 64)})
			})
		}, "big.bin not hashed: 8 GiB, over the 256 MiB limit"},
		{"a 100 MiB file listed as 10 bytes", func(t *testing.T, dir string, key *ecdsa.PrivateKey) {
			safefiletest.Sparse(t, filepath.Join(dir, "big.bin"), 100<<20)
			resignBundle(t, dir, key, func(m *evidence.Manifest) {
				m.Files = append(m.Files, evidence.ManifestEntry{Path: "big.bin", Size: 10, SHA256: strings.Repeat("0", 64)})
			})
		}, "changed: big.bin (104857600 bytes; the manifest says 10 bytes)"},
		{"a file name with ANSI escapes", func(t *testing.T, dir string, _ *ecdsa.PrivateKey) {
			os.WriteFile(filepath.Join(dir, ansiName), []byte("x"), 0o644)
		}, `extra: \x1b[2J\x1b]0;pwned\x07.txt is not in the manifest`},
		{"manifest paths with ANSI escapes", func(t *testing.T, dir string, key *ecdsa.PrivateKey) {
			resignBundle(t, dir, key, func(m *evidence.Manifest) {
				m.Files = append(m.Files, evidence.ManifestEntry{Path: ansiName, Size: 1, SHA256: "\x1b[31m"})
			})
		}, `missing: \x1b[2J\x1b]0;pwned\x07.txt`},
		{"a symlink inside the bundle", func(t *testing.T, dir string, _ *ecdsa.PrivateKey) {
			replaceWith(t, filepath.Join(dir, "junit.xml"), link("/etc/passwd"))
		}, "junit.xml is not a regular file: it is a symbolic link, which verify never follows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, key, _ := verifyBundle(t)
			tc.hostal(t, dir, key)
			r, took := runBounded(t, t.TempDir(), "verify", dir)
			t.Logf("verify, %-44s exit %d in %v", tc.name, r.code, took.Round(time.Millisecond))
			noCrash(t, tc.name, r, 0)
			if r.code != 1 || !strings.Contains(r.stdout, "verification FAILED") || !strings.Contains(r.stdout, "  - "+tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want a problem %q", r.code, r.stdout, r.stderr, tc.want)
			}
		})
	}
}

// `verify` with an unusable directory or key: exit 2 and one line.
func TestVerifyRefusesHostileArguments(t *testing.T) {
	dir, _, _ := verifyBundle(t)
	inputs := safefiletest.Inputs(t, t.TempDir())
	for name, p := range inputs {
		r, took := runBounded(t, t.TempDir(), "verify", dir, "--key", p)
		t.Logf("verify --key %-24s exit %d in %v: %s", name, r.code, took.Round(time.Millisecond), strings.TrimSpace(r.stderr))
		noCrash(t, "--key "+name, r, 1)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, p) {
			t.Errorf("--key %s: exit %d, stdout %q, stderr %q", name, r.code, r.stdout, r.stderr)
		}
		if name == "directory" {
			continue // a directory is a usable bundle directory
		}
		r, took = runBounded(t, t.TempDir(), "verify", p)
		t.Logf("verify DIR=%-26s exit %d in %v: %s", name, r.code, took.Round(time.Millisecond), strings.TrimSpace(r.stderr))
		noCrash(t, "DIR "+name, r, 1)
		if r.code != 2 || r.stdout != "" {
			t.Errorf("DIR %s: exit %d, stdout %q, stderr %q", name, r.code, r.stdout, r.stderr)
		}
	}
	// A bundle directory whose own name holds escapes is printed escaped.
	odd := filepath.Join(t.TempDir(), ansiName)
	if err := os.Rename(dir, odd); err != nil {
		t.Fatal(err)
	}
	r, _ := runBounded(t, t.TempDir(), "verify", odd)
	noCrash(t, "escaped directory name", r, 0)
	if r.code != 0 || !strings.Contains(r.stdout, `\x1b[2J`) {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
}

// A signed manifest naming 50 000 missing files: the first problems are listed, the rest counted.
func TestVerifyBoundsTheProblemList(t *testing.T) {
	dir, key, _ := verifyBundle(t)
	resignBundle(t, dir, key, func(m *evidence.Manifest) {
		for i := range 50_000 {
			m.Files = append(m.Files, evidence.ManifestEntry{Path: fmt.Sprintf("%05d-%s", i, ansiName), Size: 1})
		}
	})
	r, took := runBounded(t, t.TempDir(), "verify", dir)
	t.Logf("verify, 50000 missing files with ANSI names exit %d in %v, %d bytes of output", r.code, took.Round(time.Millisecond), len(r.stdout))
	noCrash(t, "50000 missing files", r, 0)
	if r.code != 1 || !strings.Contains(r.stdout, "(50000 problems)") || !strings.Contains(r.stdout, "  ... and 49000 more problems, not listed\n") ||
		strings.Count(r.stdout, "\n  - ") != 1000 {
		t.Fatalf("exit %d, stdout starts %q, ends %q", r.code, r.stdout[:min(300, len(r.stdout))], r.stdout[max(0, len(r.stdout)-300):])
	}
}

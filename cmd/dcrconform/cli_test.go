package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"html"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/engine"
	"github.com/dcrconform/dcrconform/internal/evidence"
	"github.com/dcrconform/dcrconform/internal/harness"
	junit "github.com/joshdk/go-junit"
)

// The CLI is tested as users run it: a built binary in child processes, because Ginkgo allows
// one RunSpecs per process and because exit codes are part of the contract.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dcrconform-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "dcrconform")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic("build dcrconform: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
	// maxRSS is the child's peak resident memory, in bytes.
	maxRSS int64
}

func runCLI(t *testing.T, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = int64(ru.Maxrss) << 10 // kilobytes on Linux
	}
	return result{code, out.String(), errb.String(), rss}
}

// readJUnit reads a report with the third-party go-junit parser, as a CI system would, and
// checks that every testcase carries the properties a reader of the report relies on.
func readJUnit(t *testing.T, path string) (passed, failed []string) {
	t.Helper()
	suites, err := junit.IngestFile(path)
	if err != nil {
		t.Fatalf("parse junit: %v", err)
	}
	for _, s := range suites {
		for _, c := range s.Tests {
			id := c.Properties["id"]
			if id == "" || !strings.HasPrefix(c.Name, id+": ") {
				t.Errorf("testcase %q: name is not \"<id>: <title>\" for id %q", c.Name, id)
			}
			for _, k := range []string{"level", "spec_ref", "profile", "verdict", "reason"} {
				if c.Properties[k] == "" {
					t.Errorf("testcase %q has no %s property", c.Name, k)
				}
			}
			switch c.Status {
			case junit.StatusFailed, junit.StatusError:
				failed = append(failed, c.Name)
			case junit.StatusPassed:
				passed = append(passed, c.Name)
			}
		}
	}
	return passed, failed
}

func TestRunMissingConfigExits2WithOneLine(t *testing.T) {
	r := runCLI(t, t.TempDir(), "run", "--config", "does-not-exist.yaml")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2 (stderr %q)", r.code, r.stderr)
	}
	if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "does-not-exist.yaml") {
		t.Fatalf("want one line naming the file, got %q", r.stderr)
	}
}

func TestRunSelectionErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"run", "--cases", "NOPE-*"},
		{"run", "--label-filter", "level:MUST && ((("},
		{"run", "--label-filter", "group:no-such-group"},
		{"run", "--profile", "no-such-profile"},
	} {
		if r := runCLI(t, dir, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, r.code, r.stderr)
		}
	}
}

// Private keys never go where reports go: a work directory or evidence key under --reports is
// refused before anything runs.
func TestKeysOutsideReports(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"run", "--work-dir", "reports/keys"},
		{"run", "--work-dir", "reports"},
		{"run", "--reports", "out", "--evidence-key", "./out/../out/key.pem"},
	} {
		r := runCLI(t, dir, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "inside the reports directory") {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming the problem", args, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "reports")); !os.IsNotExist(err) {
		t.Errorf("a refused run wrote reports/ (%v)", err)
	}
}

func TestEmbeddedRunIsGreen(t *testing.T) {
	dir := t.TempDir()
	r := runCLI(t, dir, "run")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	passed, failed := readJUnit(t, filepath.Join(dir, "reports", "junit.xml"))
	if len(failed) != 0 || len(passed) < 7 {
		t.Fatalf("passed %d, failed %v", len(passed), failed)
	}
	for _, id := range []string{"HP-01: ", "JWS-01: ", "JWS-05: ", "CLM-01: ", "JWS-11/closed-port: ", "JWS-11/invalid-name: ", "JWS-11/blackhole: "} {
		if !hasPrefix(passed, id) {
			t.Errorf("no passing testcase named %q...", id)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "reports", "report.json")); err != nil {
		t.Errorf("report.json: %v", err)
	}
}

func TestEmbeddedFaultFailsTheRun(t *testing.T) {
	dir := t.TempDir()
	r := runCLI(t, dir, "run", "--fault", "accept-alg-none", "--cases", "JWS-01,HP-01")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	_, failed := readJUnit(t, filepath.Join(dir, "reports", "junit.xml"))
	if len(failed) != 1 || !strings.HasPrefix(failed[0], "JWS-01: ") {
		t.Fatalf("failed = %v, want only JWS-01", failed)
	}
}

// TestServeAndRunAcrossProcesses is the README's two-terminal flow: `serve` in one process,
// `run --config` in another, clean and with a fault.
func TestServeAndRunAcrossProcesses(t *testing.T) {
	for _, tc := range []struct {
		fault    string
		wantCode int
	}{{"", 0}, {"jwks-fail-open", 1}} {
		t.Run("fault="+tc.fault, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"serve", "--dir", filepath.Join(dir, "bank")}
			if tc.fault != "" {
				args = append(args, "--fault", tc.fault)
			}
			cfg := startServe(t, dir, args...)
			r := runCLI(t, dir, "run", "--config", cfg, "--reports", filepath.Join(dir, "out"))
			if r.code != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tc.wantCode, r.stdout, r.stderr)
			}
			_, failed := readJUnit(t, filepath.Join(dir, "out", "junit.xml"))
			if tc.fault == "" {
				if len(failed) != 0 {
					t.Fatalf("clean bank failed %v", failed)
				}
				return
			}
			for _, v := range []string{"closed-port", "invalid-name", "blackhole"} {
				if !hasPrefix(failed, "JWS-11/"+v+": ") {
					t.Errorf("JWS-11/%s did not fail; failed = %v", v, failed)
				}
			}
		})
	}
}

// startServe starts `dcrconform serve` and returns the target config path it printed.
func startServe(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "target config: "); ok {
				found <- p
			}
		}
	}()
	select {
	case p := <-found:
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return p
	case <-time.After(30 * time.Second):
		t.Fatal("serve printed no target config")
	}
	return ""
}

func TestListJSON(t *testing.T) {
	r := runCLI(t, t.TempDir(), "list", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var rows []struct {
		ID     string            `json:"id"`
		Levels map[string]string `json:"levels"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || rows[0].ID == "" || len(rows[0].Levels) == 0 {
		t.Fatalf("unexpected listing %v", rows)
	}
}

func hasPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// TestGinkgoAndEngineAgree runs the same faulty bank through the Ginkgo path (the binary) and the
// plain engine path (as the fault matrix does) and compares every case's verdict.
func TestGinkgoAndEngineAgree(t *testing.T) {
	for _, fault := range []string{"", "accept-alg-none", "wrong-error-format", "omit-client-id"} {
		t.Run("fault="+fault, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"run"}
			var faults []string
			if fault != "" {
				args = append(args, "--fault", fault)
				faults = []string{fault}
			}
			runCLI(t, dir, args...)
			ginkgoStates := readGinkgoStates(t, filepath.Join(dir, "reports", "report.json"))
			run, err := harness.Prepare(context.Background(), harness.Options{WorkDir: t.TempDir(), Faults: faults})
			if err != nil {
				t.Fatal(err)
			}
			defer run.Close()
			outs := engine.RunAll(context.Background(), run.Env, catalogue.Default().Items(run.Profile), 8)
			if len(outs) != len(ginkgoStates) {
				t.Fatalf("engine ran %d cases, Ginkgo %d", len(outs), len(ginkgoStates))
			}
			for _, o := range outs {
				want := map[engine.Verdict]string{engine.Fail: "failed", engine.Inconclusive: "failed",
					engine.Skipped: "skipped", engine.NotRun: "skipped", engine.NotApplicable: "skipped"}[o.Verdict]
				if want == "" {
					want = "passed"
				}
				if got := ginkgoStates[o.ID]; got != want {
					t.Errorf("%s: engine says %s, Ginkgo spec %q", o.ID, o.Verdict, got)
				}
			}
		})
	}
}

func readGinkgoStates(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var reports []struct {
		SpecReports []struct {
			LeafNodeText string
			LeafNodeType string
			State        string
		}
	}
	if err := json.Unmarshal(data, &reports); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range reports {
		for _, s := range r.SpecReports {
			if s.LeafNodeType != "It" {
				continue
			}
			id, _, _ := strings.Cut(s.LeafNodeText, ": ")
			out[id] = s.State
		}
	}
	return out
}

// TestReportsHoldNoSecrets runs a full conformance run (with a bank that wrongly issues client
// secrets) and scans every file under reports/, the Ginkgo JSON and the console for the run's own
// secrets in every form: PEM, base64 DER, JWK private members, and issued client secrets.
func TestReportsHoldNoSecrets(t *testing.T) {
	dir := t.TempDir()
	r := runCLI(t, dir, "run", "--fault", "issue-client-secret", "--verbose")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (the fault must be caught)\n%s", r.code, r.stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "reports", "console.txt"), []byte(r.stdout+r.stderr), 0o644); err != nil {
		t.Fatal(err)
	}
	secrets := keySecrets(t, filepath.Join(dir, ".dcrconform"))
	if len(secrets) < 20 {
		t.Fatalf("found only %d secret forms; the scan would prove little", len(secrets))
	}
	hits, err := evidence.ScanForSecrets(filepath.Join(dir, "reports"), secrets)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) > 0 {
		t.Fatalf("secrets found in %v", hits)
	}
	// Issued client secrets are random, so look for any value that is not the redaction marker.
	// The HTML report escapes quotes (&#34;), so each file is read HTML-unescaped too; and the
	// fault's redacted secrets must be found at all, or the pattern no longer matches the files.
	leak := regexp.MustCompile(`client_secret\\?"\s*:\s*\\?"([^"\\]+)`)
	seen := map[string]bool{}
	err = filepath.Walk(filepath.Join(dir, "reports"), func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, _ := os.ReadFile(p)
		for _, text := range []string{string(data), html.UnescapeString(string(data))} {
			for _, m := range leak.FindAllStringSubmatch(text, -1) {
				seen[filepath.Ext(p)] = true
				if m[1] != client.Redacted {
					t.Errorf("%s holds a client_secret value", p)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".json", ".html"} { // the JUnit file holds no response bodies
		if !seen[ext] {
			t.Errorf("no client_secret member found in any %s report: the leak check did not look at them", ext)
		}
	}
}

// keySecrets reads every private key the run wrote and returns its forms: PEM text, DER, and the
// base64url JWK private members (d p q dp dq qi of RSA keys, d of EC keys).
func keySecrets(t *testing.T, root string) [][]byte {
	t.Helper()
	var out [][]byte
	_ = filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(p, ".pem") {
			return nil
		}
		data, _ := os.ReadFile(p)
		block, _ := pem.Decode(data)
		if block == nil || !strings.Contains(block.Type, "PRIVATE KEY") {
			return nil
		}
		out = append(out, data, block.Bytes)
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		switch k := key.(type) {
		case *rsa.PrivateKey:
			k.Precompute()
			for _, n := range []*big.Int{k.D, k.Primes[0], k.Primes[1], k.Precomputed.Dp, k.Precomputed.Dq, k.Precomputed.Qinv} {
				out = append(out, []byte(base64.RawURLEncoding.EncodeToString(n.Bytes())))
			}
		case *ecdsa.PrivateKey:
			out = append(out, []byte(base64.RawURLEncoding.EncodeToString(k.D.FillBytes(make([]byte, (k.Curve.Params().BitSize+7)/8)))))
		default:
			t.Errorf("%s: unexpected key type %T", p, key)
		}
		return nil
	})
	return out
}

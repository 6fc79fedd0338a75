package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/dcrconform/dcrconform/internal/evidence"
	"github.com/dcrconform/dcrconform/internal/pki"
)

// Every command of the table answers -h with exit 0, describes itself with an example, and names
// every flag it takes.
func TestEveryCommandExplainsItself(t *testing.T) {
	code := 0
	root := newRoot(&bytes.Buffer{}, &bytes.Buffer{}, &code)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Hidden || c.Name() == "help" {
			return
		}
		args := append(strings.Fields(strings.TrimPrefix(c.CommandPath(), "dcrconform")), "-h")
		var out, errb bytes.Buffer
		if got := dispatch(args, &out, &errb); got != 0 {
			t.Errorf("%s -h: exit %d (%s)", c.CommandPath(), got, errb.String())
		}
		help := out.String()
		if c.Runnable() && c.Parent() != nil && c.Parent().Name() == "dcrconform" && c.Name() != "version" && c.Name() != "completion" && c.Example == "" {
			t.Errorf("%s has no example", c.CommandPath())
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !strings.Contains(help, "--"+f.Name) {
				t.Errorf("%s -h does not name --%s", c.CommandPath(), f.Name)
			}
		})
	}
	walk(root)
}

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		var out, errb bytes.Buffer
		if code := dispatch([]string{"completion", shell}, &out, &errb); code != 0 || out.Len() < 200 || !strings.Contains(out.String(), "dcrconform") {
			t.Errorf("completion %s: exit %d, %d bytes (%s)", shell, code, out.Len(), errb.String())
		}
	}
}

// The reference bank listens on loopback unless asked otherwise, by an explicit flag.
func TestServeRefusesNonLoopbackWithoutTheFlag(t *testing.T) {
	r := runCLI(t, t.TempDir(), "serve", "--addr", "0.0.0.0:0", "--dir", filepath.Join(t.TempDir(), "bank"))
	if r.code != 2 || !strings.Contains(r.stderr, "loopback") || !strings.Contains(r.stderr, "--allow-non-loopback") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// Case IDs and globs are case-insensitive, and --output json puts the manifest on stdout alone.
func TestCaseInsensitiveSelectionAndJSONOutput(t *testing.T) {
	r := runCLI(t, t.TempDir(), "run", "--cases", "hp-01,jws-0?", "--output", "json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var m evidence.Manifest
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("stdout is not the manifest: %v\n%.300s", err, r.stdout)
	}
	if m.Selection.Selected < 3 || m.ExitCode != 0 || len(m.Cases) != m.Selection.Selected {
		t.Errorf("manifest: %+v", m.Selection)
	}
	if !strings.Contains(r.stderr, "PASS HP-01") {
		t.Errorf("progress lines are not on stderr: %q", r.stderr)
	}
}

// From an empty directory to a green run, as a new user would: init; the bank's portal signs
// init's certificate request (serve --sign-csr); the bank runs (serve); the JWKS init wrote is
// published (a local file server here); run with init's files, the issued certificate and the
// bank's CA, the rest from DCRCONFORM_* variables: exit 0.
func TestFromInitToAGreenRun(t *testing.T) {
	dir := t.TempDir()
	tpp := filepath.Join(dir, "tpp")
	r := runCLI(t, dir, "init", "--profile", "revolut", "--out", tpp)
	if r.code != 0 || !strings.Contains(r.stdout, "Next steps") {
		t.Fatalf("init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, dir, "init", "--out", tpp); r.code != 2 || !strings.Contains(r.stderr, "never overwrites") {
		t.Errorf("a second init over the same files: exit %d %q", r.code, r.stderr)
	}
	bankDir := filepath.Join(dir, "bank")
	cfg := startServe(t, dir, "serve", "--dir", bankDir, "--jwks-timeout", "2s")
	if r := runCLI(t, dir, "serve", "--dir", bankDir, "--sign-csr", filepath.Join(tpp, "transport.csr"), "--cert-out", filepath.Join(tpp, "transport.pem")); r.code != 0 {
		t.Fatalf("sign-csr: exit %d %s", r.code, r.stderr)
	}
	ca, _ := os.ReadFile(filepath.Join(bankDir, pki.Files.CA))
	os.WriteFile(filepath.Join(tpp, "ca.pem"), ca, 0o644)

	// Publish init's jwks.json over TLS with a certificate the bank trusts.
	serverCert, err := tls.LoadX509KeyPair(filepath.Join(bankDir, "jwks-server.pem"), filepath.Join(bankDir, "jwks-server-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := os.ReadFile(filepath.Join(tpp, "jwks.json"))
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{serverCert}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(jwks) })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	bankURL := registrationEndpointOf(t, cfg)
	cmd := commandWithEnv(dir, []string{
		"DCRCONFORM_TARGET_REGISTRATION_ENDPOINT=" + bankURL,
		"DCRCONFORM_MANAGEMENT_TOKEN_ENDPOINT=" + strings.TrimSuffix(bankURL, "/register") + "/token",
		"DCRCONFORM_JWKS_URL=https://" + ln.Addr().(*net.TCPAddr).String() + "/jwks.json",
	}, "run", "--config", filepath.Join(tpp, "target.yaml"), "--reports", filepath.Join(dir, "reports"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if err != nil {
		t.Fatalf("run: %v\n%s\n%s", err, out.String(), errb.String())
	}
}

// registrationEndpointOf reads the registration endpoint from a target.yaml serve wrote.
func registrationEndpointOf(t *testing.T, cfg string) string {
	t.Helper()
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "registration_endpoint: "); ok {
			return v
		}
	}
	t.Fatal("no registration_endpoint in " + cfg)
	return ""
}

// commandWithEnv is the binary with extra environment variables.
func commandWithEnv(dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// The CI recipes in docs/ci run dcrconform commands that exist, with flags those commands take.
func TestCIRecipesRunRealCommands(t *testing.T) {
	for _, name := range []string{"github-actions.yml", "gitlab-ci.yml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "docs", "ci", name))
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s does not parse: %v", name, err)
		}
		found := 0
		for _, line := range strings.Split(string(data), "\n") {
			i := strings.Index(line, "dcrconform ")
			if i < 0 || strings.HasPrefix(strings.TrimSpace(line), "#") || strings.Contains(line, "cmd/dcrconform") {
				continue
			}
			args := strings.Fields(line[i:])[1:]
			found++
			code := 0
			root := newRoot(&bytes.Buffer{}, &bytes.Buffer{}, &code)
			c, rest, err := root.Find(args)
			if err != nil || c == root {
				t.Errorf("%s: %q is not a dcrconform command", name, strings.Join(args, " "))
				continue
			}
			if err := c.ParseFlags(rest); err != nil {
				t.Errorf("%s: dcrconform %s: %v", name, strings.Join(args, " "), err)
			}
		}
		if found == 0 {
			t.Errorf("%s runs no dcrconform command", name)
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dcrconform/dcrconform/internal/config"
	"github.com/dcrconform/dcrconform/internal/evidence"
	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/pki"
)

// The rows of "what happened" in the issue on verdicts a bank can trust, each as a user meets
// it: a config written by `dcrconform serve --dir` with one mistake, run through the binary.

// serveBank starts the reference bank in its own process and returns its directory and config.
func serveBank(t *testing.T, extra ...string) (bankDir, cfg string) {
	t.Helper()
	dir := t.TempDir()
	bankDir = filepath.Join(dir, "bank")
	cfg = startServe(t, dir, append([]string{"serve", "--dir", bankDir}, extra...)...)
	return bankDir, cfg
}

// editConfig writes a copy of the config beside it (so relative paths still hold) with one
// change, and returns its path.
func editConfig(t *testing.T, cfg, name string, edit func(f *config.File)) string {
	t.Helper()
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var f config.File
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	edit(&f)
	out := filepath.Join(filepath.Dir(cfg), name+".yaml")
	if err := config.Write(out, &f, "edited by a test: "+name); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeCert issues a certificate from the bank directory's CA (or self-signs it when ca is nil)
// and writes it and its key as PEM beside the config.
func writeCert(t *testing.T, dir, name string, tmpl *x509.Certificate, ca *pki.Issued) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca.Cert, ca.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+"-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func loadCA(t *testing.T, bankDir string) *pki.Issued {
	t.Helper()
	ca, err := pki.LoadIssued(filepath.Join(bankDir, pki.Files.CA), filepath.Join(bankDir, pki.Files.CAKey))
	if err != nil {
		t.Fatal(err)
	}
	return &ca
}

// silentTarget accepts TCP connections and never answers.
func silentTarget(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "https://" + ln.Addr().String() + "/register"
}

// jwksServer publishes the given JWKS over TLS with the bank directory's JWKS-host certificate.
func jwksServer(t *testing.T, bankDir string, doc []byte) string {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(bankDir, "jwks-server.pem"), filepath.Join(bankDir, "jwks-server-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "https://" + ln.Addr().String() + "/jwks.json"
}

// A setup mistake is the user's, never the bank's: each gives exit 2 before any case, one line
// that names the fix, and no evidence bundle that calls the bank non-conformant.
func TestSetupMistakesExit2BeforeAnyCase(t *testing.T) {
	bankDir, cfg := serveBank(t)
	ca := loadCA(t, bankDir)
	signing, err := pki.LoadSigningKey(filepath.Join(bankDir, pki.Files.Signing), "")
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := jose.PublicJWKS(jose.PublicKey{Key: &signing.Key.PublicKey, Kid: "the-published-kid", Alg: "PS256", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	jwksURL := jwksServer(t, bankDir, jwks)
	// The RSA key under the config's own kid, but not the EC key the config also names.
	var served config.File
	if data, err := os.ReadFile(cfg); err != nil || yaml.Unmarshal(data, &served) != nil || served.Signing.ECKey == "" {
		t.Fatalf("serve's config names no signing.ec_key (%v)", err)
	}
	rsaOnly, err := jose.PublicJWKS(jose.PublicKey{Key: &signing.Key.PublicKey, Kid: served.Signing.Kid, Alg: "PS256", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	rsaOnlyURL := jwksServer(t, bankDir, rsaOnly)
	now := time.Now()
	writeCert(t, bankDir, "other-ca", &x509.Certificate{Subject: pkix.Name{CommonName: "some other CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}, nil)
	writeCert(t, bankDir, "expired", &x509.Certificate{Subject: pkix.Name{CommonName: "expired TPP"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)}, ca)
	writeCert(t, bankDir, "server-only", &x509.Certificate{Subject: pkix.Name{CommonName: "server-only TPP"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}, ca)
	silent := silentTarget(t)

	for _, tc := range []struct {
		name  string
		edit  func(f *config.File)
		names []string // words the one-line reason must hold
	}{
		{"wrong-ca", func(f *config.File) { f.Target.CABundle = "other-ca.pem" }, []string{"does not verify", "127.0.0.1", "ca_bundle"}},
		{"expired-transport", func(f *config.File) { f.Transport.Cert, f.Transport.Key = "expired.pem", "expired-key.pem" }, []string{"expired", "transport.cert"}},
		{"not-client-auth", func(f *config.File) { f.Transport.Cert, f.Transport.Key = "server-only.pem", "server-only-key.pem" }, []string{"clientAuth"}},
		{"wrong-path", func(f *config.File) {
			f.Target.RegistrationEndpoint = strings.Replace(f.Target.RegistrationEndpoint, "/register", "/registr", 1)
		}, []string{"no registration endpoint", "404", "registration_endpoint"}},
		{"wrong-kid", func(f *config.File) { f.JWKS.Host, f.JWKS.URL, f.Signing.Kid = nil, jwksURL, "not-the-published-kid" },
			[]string{"signing.kid", "not-the-published-kid", "the-published-kid"}},
		{"silent-target", func(f *config.File) { f.Target.RegistrationEndpoint = silent }, []string{"did not complete a TLS handshake"}},
		{"ec-key-not-published", func(f *config.File) { f.JWKS.Host, f.JWKS.URL = nil, rsaOnlyURL }, []string{"signing.ec_key", "-es256"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			reports := filepath.Join(work, "reports")
			// An earlier green run's junit.xml must not survive looking current.
			os.MkdirAll(reports, 0o755)
			os.WriteFile(filepath.Join(reports, "junit.xml"), []byte(`<testsuites name="old green run"></testsuites>`), 0o644)
			start := time.Now()
			r := runCLI(t, work, "run", "--config", editConfig(t, cfg, tc.name, tc.edit), "--reports", reports, "--preflight-timeout", "2s")
			t.Logf("%s: exit %d in %s: %s", tc.name, r.code, time.Since(start).Round(time.Millisecond), strings.TrimSpace(r.stderr))
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if len(lines) != 1 {
				t.Errorf("want one line on stderr, got %d: %q", len(lines), r.stderr)
			}
			for _, w := range tc.names {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("reason does not name %q: %s", w, r.stderr)
				}
			}
			if strings.Contains(r.stdout, "FAIL") || strings.Contains(r.stdout, "NOT CONFORMANT") {
				t.Errorf("a setup mistake was reported as the bank's failure:\n%s", r.stdout)
			}
			entries, _ := os.ReadDir(reports)
			for _, e := range entries {
				if e.IsDir() {
					t.Errorf("an evidence bundle %s was written for a run that could not be made", e.Name())
				}
			}
			junitData, _ := os.ReadFile(filepath.Join(reports, "junit.xml"))
			if !strings.Contains(string(junitData), "NO RESULTS") || !strings.Contains(string(junitData), "<error") {
				t.Errorf("junit.xml is not the no-results marker:\n%s", junitData)
			}
		})
	}
}

// With --profile over a config that names another, the run warns.
func TestProfileOverrideWarns(t *testing.T) {
	_, cfg := serveBank(t)
	work := t.TempDir()
	r := runCLI(t, work, "run", "--config", cfg, "--profile", "obie-3.2", "--cases", "TLS-05")
	if !strings.Contains(r.stderr, "warning: --profile obie-3.2 overrides the config's profile revolut") {
		t.Errorf("no override warning; stderr %q", r.stderr)
	}
	m := readManifest(t, filepath.Join(work, "reports"))
	if m.Selection.ProfileSource != "--profile" || m.Selection.ConfigProfile != "revolut" {
		t.Errorf("manifest selection = %+v", m.Selection)
	}
}

// A run of a selection is never summarised as CONFORMANT, and its evidence says what ran.
func TestSelectionIsNeverConformant(t *testing.T) {
	work := t.TempDir()
	r := runCLI(t, work, "run", "--cases", "HP-01")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "CONFORMANT") || !strings.Contains(r.stdout, "NO FAILURES IN 1 OF") {
		t.Errorf("summary:\n%s", r.stdout)
	}
	m := readManifest(t, filepath.Join(work, "reports"))
	if m.Complete || m.Selection.Selected != 1 || m.Selection.Catalogue < 100 || len(m.Selection.Cases) != 1 || m.Selection.Cases[0] != "HP-01" {
		t.Errorf("manifest: complete %v, selection %+v", m.Complete, m.Selection)
	}
	if strings.Contains(m.Result, "CONFORMANT") && !strings.Contains(m.Result, "NO FAILURES") {
		t.Errorf("manifest result %q", m.Result)
	}
	html, _ := os.ReadFile(filepath.Join(work, "reports", "report.html"))
	if !bytes.Contains(html, []byte("1 of the ")) {
		t.Error("the HTML header does not say what was selected")
	}
}

// readManifest reads the manifest of the only bundle under reports.
func readManifest(t *testing.T, reports string) evidence.Manifest {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(reports, "2*"))
	if len(dirs) != 1 {
		t.Fatalf("want one bundle under %s, got %v", reports, dirs)
	}
	data, err := os.ReadFile(filepath.Join(dirs[0], evidence.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m evidence.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// startRun starts `dcrconform run` and returns it with a channel of its stdout lines.
func startRun(t *testing.T, dir string, args ...string) (*exec.Cmd, <-chan string, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, lines, &stderr
}

func waitLine(t *testing.T, lines <-chan string, prefix string) {
	t.Helper()
	timeout := time.After(2 * time.Minute) // bounds a hung binary, not the machine's speed
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the run ended before printing %q", prefix)
			}
			if strings.HasPrefix(strings.TrimSpace(l), prefix) {
				return
			}
		case <-timeout:
			t.Fatalf("no line %q", prefix)
		}
	}
}

func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(2 * time.Minute):
		t.Fatal("the run did not end")
	}
	return -1
}

// An interrupted run, or one past its deadline, ends with exit 4 and leaves JUnit, HTML and a
// verifiable bundle marked INCOMPLETE; the case cut off is "not run", never PASS or FAIL.
func TestInterruptedAndDeadlineRunsAreIncomplete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []string
		why   string
	}{
		{"sigint", nil, "interrupted by interrupt"},
		{"deadline", []string{"--timeout", "4s"}, "run deadline of 4s was reached"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			// The blackholed JWKS keeps the bank (and so the case) waiting for 60 s.
			args := append([]string{"run", "--jwks-timeout", "60s", "--cases", "HP-01,JWS-11/blackhole,CLM-01"}, tc.extra...)
			cmd, lines, stderr := startRun(t, work, args...)
			waitLine(t, lines, "PASS HP-01")
			if tc.name == "sigint" {
				// JWS-11/blackhole cannot finish for 60 s: in flight or not yet started, the
				// interrupt must leave it not run.
				if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
					t.Fatal(err)
				}
			}
			var rest []string
			code := exitCode(t, cmd)
			for l := range lines {
				rest = append(rest, l)
			}
			console := strings.Join(rest, "\n")
			if code != 4 {
				t.Fatalf("exit %d, want 4\n%s\n%s", code, console, stderr)
			}
			if strings.Contains(console, "PASS JWS-11") || strings.Contains(console, "FAIL JWS-11") {
				t.Errorf("the interrupted case was given a verdict:\n%s", console)
			}
			if !strings.Contains(console, "NOT RUN JWS-11/blackhole") || !strings.Contains(console, "INCOMPLETE") {
				t.Errorf("console:\n%s", console)
			}
			reports := filepath.Join(work, "reports")
			// Cases independent of the blackholed one may finish beside it (the run is
			// parallel); the one cut off must have no verdict.
			passed, failed := readJUnit(t, filepath.Join(reports, "junit.xml"))
			if !hasPrefix(passed, "HP-01: ") || hasPrefix(passed, "JWS-11") || len(failed) != 0 {
				t.Errorf("junit: passed %v, failed %v", passed, failed)
			}
			html, _ := os.ReadFile(filepath.Join(reports, "report.html"))
			if !bytes.Contains(html, []byte(`id="incomplete"`)) || !bytes.Contains(html, []byte(tc.why)) {
				t.Error("report.html has no INCOMPLETE banner naming why")
			}
			m := readManifest(t, reports)
			if m.Complete || m.ExitCode != 4 || !strings.Contains(m.Stopped, tc.why) || m.Counts["not-run"] < 1 {
				t.Errorf("manifest: complete %v, exit %d, stopped %q, counts %v", m.Complete, m.ExitCode, m.Stopped, m.Counts)
			}
			dirs, _ := filepath.Glob(filepath.Join(reports, "2*"))
			if v := runCLI(t, work, "verify", dirs[0]); v.code != 0 {
				t.Errorf("verify: exit %d\n%s%s", v.code, v.stdout, v.stderr)
			}
		})
	}
}

// hostileFront stands before the bank: it asks for a client certificate but does not require
// one (and speaks TLS 1.2, so the handshake has really completed when the client sees it), passes
// calls that present one to the bank, and answers calls without one with mode's misbehaviour.
func hostileFront(t *testing.T, bankDir, bankURL, mode string) string {
	t.Helper()
	serverCert, err := tls.LoadX509KeyPair(filepath.Join(bankDir, "jwks-server.pem"), filepath.Join(bankDir, "jwks-server-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	transport, err := tls.LoadX509KeyPair(filepath.Join(bankDir, pki.Files.Transport), filepath.Join(bankDir, pki.Files.TransportKey))
	if err != nil {
		t.Fatal(err)
	}
	roots, err := pki.LoadCertPool(filepath.Join(bankDir, pki.Files.CA))
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(bankURL)
	target.Path = ""
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{transport}}}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{serverCert},
		ClientAuth: tls.RequestClientCert, MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	withCert := make(chan net.Conn)
	srv := &http.Server{Handler: proxy}
	go srv.Serve(&chanListener{ch: withCert, addr: ln.Addr()})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(withCert)
				return
			}
			tc := c.(*tls.Conn)
			if tc.HandshakeContext(context.Background()) != nil {
				c.Close()
				continue
			}
			if len(tc.ConnectionState().PeerCertificates) > 0 {
				withCert <- c
				continue
			}
			go misbehave(tc, mode)
		}
	}()
	t.Cleanup(func() { ln.Close(); srv.Close() })
	return "https://" + ln.Addr().String() + target.Path + "/register"
}

func misbehave(c *tls.Conn, mode string) {
	defer c.Close()
	// Read the request first, so the client is waiting for an answer.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64<<10)
	c.Read(buf)
	switch mode {
	case "h2-frames":
		c.Write([]byte("\x00\x00\x12\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64\x00\x04\x00\x10\x00\x00\x00\x06\x00\x00\x40\x00"))
	case "bad-status-line":
		c.Write([]byte("HTTP/1.1 2OO OK\r\n\r\n"))
	case "reset":
		if tcp, ok := c.NetConn().(*net.TCPConn); ok {
			tcp.SetLinger(0)
		}
	}
}

type chanListener struct {
	ch   chan net.Conn
	addr net.Addr
}

func (l *chanListener) Accept() (net.Conn, error) {
	c, ok := <-l.ch
	if !ok {
		return nil, io.EOF
	}
	return c, nil
}
func (l *chanListener) Close() error   { return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }

// A bank that completes the handshake without a client certificate and then sends garbage or a
// reset has not refused the caller: TLS-02 fails.
func TestGarbageAfterHandshakeFailsTLS02(t *testing.T) {
	bankDir, cfg := serveBank(t)
	var f config.File
	data, _ := os.ReadFile(cfg)
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"h2-frames", "bad-status-line", "reset"} {
		t.Run(mode, func(t *testing.T) {
			front := hostileFront(t, bankDir, f.Target.RegistrationEndpoint, mode)
			work := t.TempDir()
			c := editConfig(t, cfg, "front-"+mode, func(f *config.File) { f.Target.RegistrationEndpoint = front })
			r := runCLI(t, work, "run", "--config", c, "--cases", "TLS-02")
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, "FAIL TLS-02") {
				t.Errorf("TLS-02 did not fail:\n%s", r.stdout)
			}
		})
	}
}

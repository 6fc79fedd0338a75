package main

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/dcrconform/dcrconform/internal/config"
	"github.com/dcrconform/dcrconform/internal/evidence"
)

// Bounds a run keeps against any hostile target (the README's "Hostile targets" section).
const (
	maxRunMemory  = 200 << 20
	maxRunReports = 50 << 20
)

// secretToken makes a unique secret value for one planted shape.
func secretToken(t *testing.T, shape string) string {
	t.Helper()
	b := make([]byte, 12)
	rand.Read(b)
	return "s3cr3t-" + shape + "-" + hex.EncodeToString(b)
}

// probe is one hostile behaviour: how the target answers every request, and the secrets it
// planted (which no report may hold).
type probe struct {
	name    string
	cases   string // --cases; empty runs the whole catalogue
	handler func(w http.ResponseWriter, r *http.Request)
	secrets []string
}

var gzipBombOnce struct {
	sync.Once
	data []byte
}

// gzipBomb is 64 MiB of zeros gzipped (about 64 KiB).
func gzipBomb() []byte {
	gzipBombOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zero := make([]byte, 1<<20)
		for i := 0; i < 64; i++ {
			zw.Write(zero)
		}
		zw.Close()
		gzipBombOnce.data = buf.Bytes()
	})
	return gzipBombOnce.data
}

func hostileProbes(t *testing.T) []probe {
	jsonError := func(status int, body any) func(w http.ResponseWriter, r *http.Request) {
		data, _ := json.Marshal(body)
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write(data)
		}
	}
	ansi := "\x1b[2J\x1b[H\x1b]0;pwned\x07\u009b31m\u202e"
	few := "HP-01,CLM-01,JWS-01,TLS-02,HTTP-06"
	var ps []probe

	ps = append(ps, probe{name: "huge-headers", cases: few, handler: func(w http.ResponseWriter, r *http.Request) {
		v := strings.Repeat("h", 8<<10)
		for i := 0; i < 1200; i++ { // about 9.5 MB of headers
			w.Header().Add(fmt.Sprintf("X-Filler-%04d", i), v)
		}
		w.WriteHeader(200)
	}})
	ps = append(ps, probe{name: "many-headers-under-the-limit", cases: few, handler: func(w http.ResponseWriter, r *http.Request) {
		v := strings.Repeat("h", 6<<10)
		for i := 0; i < 120; i++ { // about 740 KB: read, then capped in the record
			w.Header().Add(fmt.Sprintf("X-Filler-%04d", i), v)
		}
		jsonError(400, map[string]any{"error": "invalid_client_metadata"})(w, r)
	}})
	ps = append(ps, probe{name: "gzip-bomb", cases: few, handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(400)
		w.Write(gzipBomb())
	}})
	ps = append(ps, probe{name: "huge-body-whole-catalogue", handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		chunk := bytes.Repeat([]byte(`{"error":"x"}`), 4096)
		for i := 0; i < 4000; i++ { // 200 MB, unless the client hangs up first
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}})
	ps = append(ps, probe{name: "binary-body", cases: few, handler: func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 300<<10)
		rand.Read(b)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(400)
		w.Write(b)
	}})
	big := strings.Repeat("E", 200<<10)
	ps = append(ps, probe{name: "escapes-in-error", cases: few, handler: jsonError(400, map[string]any{
		"error": "invalid_client_metadata" + ansi, "error_description": ansi + "clear screen" + ansi,
		"Code": ansi, "Message": ansi, "Errors": []any{map[string]any{"ErrorCode": big + ansi, "Message": ansi}},
	})})

	// Secrets in every shape a bank might use.
	headerSecret, apiKey, regToken, challenge, fragment := secretToken(t, "hdr"), secretToken(t, "apikey"), secretToken(t, "rat"), secretToken(t, "www"), secretToken(t, "frag")
	ps = append(ps, probe{name: "secrets-in-headers", cases: few, secrets: []string{headerSecret, apiKey, regToken, challenge, fragment},
		handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Api-Key", apiKey)
			w.Header().Set("X-Registration-Access-Token", regToken)
			w.Header().Set("Set-Cookie", "session="+headerSecret)
			w.Header().Set("WWW-Authenticate", `Bearer realm="bank", access_token="`+challenge+`"`)
			w.Header().Set("Location", "https://tpp.example/cb?state=1#access_token="+fragment+"&token_type=bearer")
			jsonError(400, map[string]any{"error": "invalid_client_metadata"})(w, r)
		}})
	bomSecret := secretToken(t, "bom")
	ps = append(ps, probe{name: "secret-json-with-bom", cases: few, secrets: []string{bomSecret}, handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		fmt.Fprintf(w, "\xef\xbb\xbf{\"client_id\":\"abc\",\"client_secret\":%q}", bomSecret)
	}})
	cutSecret := secretToken(t, "cut")
	ps = append(ps, probe{name: "secret-json-over-the-cap", cases: few, secrets: []string{cutSecret}, handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		fmt.Fprintf(w, `{"client_id":"abc","client_secret":%q,"padding":"%s"}`, cutSecret, strings.Repeat("p", 300<<10))
	}})
	deepSecret := secretToken(t, "deep")
	ps = append(ps, probe{name: "secret-deep-nesting", cases: few, secrets: []string{deepSecret}, handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		io.WriteString(w, `{"client_id":"abc","client_secret":"`+deepSecret+`","x":`+strings.Repeat(`{"a":`, 20000)+`1`+strings.Repeat(`}`, 20000)+`}`)
	}})
	objSecret := secretToken(t, "obj")
	ps = append(ps, probe{name: "secret-as-object", cases: few, secrets: []string{objSecret}, handler: jsonError(201, map[string]any{
		"client_id": "abc", "client_secret": map[string]any{"value": objSecret, "expires": 0}})})
	formSecret := secretToken(t, "form")
	ps = append(ps, probe{name: "secret-form-body", cases: few, secrets: []string{formSecret}, handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		w.WriteHeader(200)
		io.WriteString(w, "client_id=abc&client_secret="+formSecret+"&access_token="+formSecret)
	}})
	ps = append(ps, probe{name: "read-error-after-status", cases: few, handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(400)
		io.WriteString(w, `{"error":"invalid_cl`)
		if hj, ok := w.(http.Hijacker); ok {
			c, _, _ := hj.Hijack()
			c.Close()
		}
	}})
	return ps
}

// hostileServer serves a probe over TLS with the bank directory's server certificate, requiring
// a client certificate (so the TLS cases see a refusal, as at a real bank).
func hostileServer(t *testing.T, bankDir string, h http.HandlerFunc) string {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(bankDir, "jwks-server.pem"), filepath.Join(bankDir, "jwks-server-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAnyClientCert})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, MaxHeaderBytes: 4 << 20, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "https://" + ln.Addr().String() + "/register"
}

// rawControl finds a control character that is not a newline or tab, or an escape of the C1
// range, in console output.
func rawControl(s string) (rune, bool) {
	if !utf8.ValidString(s) {
		return utf8.RuneError, true
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) || r == 0x202e {
			return r, true
		}
	}
	return 0, false
}

func dirSize(t *testing.T, dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// TestHostileBank replays each probe against a real run of the binary and checks that it ends
// with a complete, verifiable report within the memory and report bounds, no planted secret in
// any report, and no raw control character on the console.
func TestHostileBank(t *testing.T) {
	bankDir, cfg := serveBank(t)
	for _, p := range hostileProbes(t) {
		t.Run(p.name, func(t *testing.T) {
			target := hostileServer(t, bankDir, p.handler)
			c := editConfig(t, cfg, "hostile-"+p.name, func(f *config.File) { f.Target.RegistrationEndpoint = target })
			work := t.TempDir()
			args := []string{"run", "--config", c}
			if p.cases != "" {
				args = append(args, "--cases", p.cases)
			}
			r := runCLI(t, work, args...)
			code, console := r.code, r.stdout+r.stderr
			if code != 1 && code != 3 {
				t.Fatalf("exit %d, want 1 (the bank failed cases) or 3\n%s", code, console)
			}
			rss := r.maxRSS
			reports := filepath.Join(work, "reports")
			size := dirSize(t, reports)
			t.Logf("%s: exit %d, peak memory %d MB, reports %d KB, console %d bytes", p.name, code, rss>>20, size>>10, len(console))
			if rss > maxRunMemory {
				t.Errorf("peak memory %d MB over %d MB", rss>>20, maxRunMemory>>20)
			}
			if size > maxRunReports {
				t.Errorf("reports %d MB over %d MB", size>>20, maxRunReports>>20)
				if d := os.Getenv("DCR_KEEP"); d != "" {
					exec.Command("cp", "-r", reports, d).Run()
				}
				filepath.Walk(reports, func(p string, info os.FileInfo, err error) error {
					if err == nil && info.Size() > 512<<10 {
						t.Logf("  %s: %d KB", p, info.Size()>>10)
					}
					return nil
				})
			}
			if r, bad := rawControl(console); bad {
				t.Errorf("raw control character %U on the console", r)
			}
			for _, line := range strings.Split(console, "\n") {
				if len(line) > 4096 {
					t.Errorf("a console line of %d bytes", len(line))
					break
				}
			}
			var secrets [][]byte
			for _, s := range p.secrets {
				secrets = append(secrets, []byte(s))
			}
			if hits, err := evidence.ScanForSecrets(reports, secrets); err != nil || len(hits) > 0 {
				t.Errorf("planted secrets found in %v (%v)", hits, err)
			}
			if strings.Contains(console, "s3cr3t-") {
				t.Error("a planted secret reached the console")
			}
			dirs, _ := filepath.Glob(filepath.Join(reports, "2*"))
			if len(dirs) != 1 {
				t.Fatalf("bundles: %v", dirs)
			}
			if v := runCLI(t, work, "verify", dirs[0]); v.code != 0 {
				t.Errorf("verify: exit %d\n%s%s", v.code, v.stdout, v.stderr)
			}
			if p.name == "read-error-after-status" && !strings.Contains(console, "read body") {
				t.Errorf("the read error after the status line is not on the FAIL line:\n%s", console)
			}
		})
	}
}

// Two runs at once in one reports directory never mix: the second exits 2 naming the first.
func TestRunsNeverMix(t *testing.T) {
	work := t.TempDir()
	cmd, lines, _ := startRun(t, work, "run", "--jwks-timeout", "30s", "--cases", "HP-01,JWS-11/blackhole")
	waitLine(t, lines, "PASS HP-01")
	r := runCLI(t, work, "run", "--cases", "HP-01")
	if r.code != 2 || !strings.Contains(r.stderr, "is writing to reports") {
		t.Errorf("second run: exit %d, stderr %q", r.code, r.stderr)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if code := exitCode(t, cmd); code != 4 {
		t.Errorf("first run: exit %d, want 4", code)
	}
}

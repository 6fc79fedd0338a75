package evidence

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/client"
)

func TestCurlCertificateChoice(t *testing.T) {
	for _, tc := range []struct {
		cert       string
		want, not  []string
		wantNoteOn string
	}{
		{"transport", []string{"--cert /work/.dcrconform/transport.pem --key /work/.dcrconform/transport.key"}, []string{"untrusted"}, ""},
		{"untrusted", []string{"--cert '/work/.dcrconform/untrusted cert.pem' --key /work/.dcrconform/untrusted.key"}, []string{"transport.pem"}, ""},
		{"none", nil, []string{"--cert", "--key"}, ""},
		{"legacy-tls", []string{"--tlsv1.0 --tls-max 1.1", "--cert /work/.dcrconform/transport.pem"}, nil, ""},
		{"forged", nil, []string{"--cert", "--key"}, "self-signed certificate"},
	} {
		t.Run(tc.cert, func(t *testing.T) {
			ex := testExchange("https://bank.example.com/register", tc.cert, "x", 201, []byte("{}"), nil)
			cmd := Curl(ex, testKeys, "cases/A.body")
			if !strings.Contains(cmd, "curl -sS -X POST https://bank.example.com/register --cacert /work/.dcrconform/ca.pem") ||
				!strings.Contains(cmd, "-H 'Content-Type: application/jwt'") || !strings.HasSuffix(cmd, "--data-binary @cases/A.body\n") {
				t.Fatalf("command:\n%s", cmd)
			}
			for _, w := range tc.want {
				if !strings.Contains(cmd, w) {
					t.Errorf("lacks %q:\n%s", w, cmd)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(cmd, n) {
					t.Errorf("holds %q:\n%s", n, cmd)
				}
			}
			if tc.wantNoteOn != "" && !strings.Contains(cmd, "# note: "+"the call presented a "+tc.wantNoteOn) || tc.wantNoteOn == "" && strings.Contains(cmd, "# note") {
				t.Errorf("notes wrong:\n%s", cmd)
			}
			if strings.Contains(cmd, LoopbackNote) {
				t.Error("loopback note on a remote target")
			}
		})
	}
}

func TestCurlLoopbackNote(t *testing.T) {
	for _, u := range []string{"https://127.0.0.1:8443/register", "https://[::1]:8443/register", "https://localhost/register",
		"https://bank.localhost./register", "https://127.9.9.9/r"} {
		if cmd := Curl(testExchange(u, "transport", "x", 201, nil, nil), testKeys, "b"); !strings.HasPrefix(cmd, LoopbackNote+"\n") {
			t.Errorf("%s: no loopback note:\n%s", u, cmd)
		}
	}
	for _, u := range []string{"https://bank.example.com/register", "https://10.0.0.1/register", "https://localhost.example.com/"} {
		if cmd := Curl(testExchange(u, "transport", "x", 201, nil, nil), testKeys, "b"); strings.Contains(cmd, LoopbackNote) {
			t.Errorf("%s: loopback note on a remote target", u)
		}
	}
}

func TestCurlMissingPathsAndRedactedHeaders(t *testing.T) {
	ex := testExchange("https://bank.example.com/register", "transport", "x", 201, nil,
		http.Header{"Authorization": {"Bearer real-token-value"}})
	cmd := Curl(ex, KeyPaths{}, "b")
	for _, want := range []string{"# note: no CA bundle path was given", "whose paths were not given; add --cert and --key",
		"# note: the value of header Authorization was redacted when recorded; supply it", "-H 'Authorization: Bearer [REDACTED]'"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("lacks %q:\n%s", want, cmd)
		}
	}
	lines := strings.Split(strings.TrimSpace(cmd), "\n")
	if last := lines[len(lines)-1]; strings.Contains(cmd, "real-token-value") || strings.Contains(last, "--cacert") || strings.Contains(last, "--cert") {
		t.Errorf("command:\n%s", cmd)
	}
}

// The command must reach curl with exactly the recorded arguments, however hostile they are, and
// no comment line may be broken out of.
func TestCurlShellQuoting(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh:", err)
	}
	hostile := "https://bank.example.com/r?a=1&b='$(touch /tmp/pwned)';`id`\n$HOME"
	ex := &client.Exchange{Request: client.RecordedRequest{Method: "POST", URL: hostile, Cert: "transport", Body: "x",
		Header: http.Header{"X-Evil": {`it's "quoted" $(id) \ back`}, "Bad\nName": {"Bearer [REDACTED]"}, "Content-Length": {"1"}}}}
	keys := testKeys
	keys.TransportKey = "/keys/it's a key; rm -rf ~"
	cmd := Curl(ex, keys, "cases/A b.body")
	if !strings.Contains(cmd, "# note: the value of header Bad?Name was redacted") {
		t.Fatalf("hostile header name not kept on its comment line:\n%s", cmd)
	}
	// set -e: a comment line broken by a newline would run its rest as a command and fail.
	script := "set -eu\ncurl() { for a in \"$@\"; do printf '%s\\0' \"$a\"; done; }\n" + cmd
	out, err := exec.Command(sh, "-c", script).Output()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, cmd)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	want := []string{"-sS", "-X", "POST", hostile, "--cacert", "/work/.dcrconform/ca.pem", "--cert", "/work/.dcrconform/transport.pem",
		"--key", "/keys/it's a key; rm -rf ~", "-H", "Bad\nName: Bearer [REDACTED]", "-H", `X-Evil: it's "quoted" $(id) \ back`,
		"--data-binary", "@cases/A b.body"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("curl got\n%q\nwant\n%q\ncommand:\n%s", got, want, cmd)
	}
}

func TestCaseEvidenceJSON(t *testing.T) {
	o := testOutcomes()[1] // the failed JWS-11/blackhole
	data := caseEvidence(o, testKeys, CaseFileBase(o.ID))
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["id"] != "JWS-11/blackhole" || doc["verdict"] != "fail" || doc["level"] != "MUST" || doc["format"] != CaseFormat ||
		doc["response_body_cap_bytes"] != float64(client.MaxBody) {
		t.Fatalf("case fields: %v", doc)
	}
	ex := doc["exchanges"].([]any)[0].(map[string]any)
	req, resp := ex["request"].(map[string]any), ex["response"].(map[string]any)
	if req["body_file"] != "cases/JWS-11_blackhole.body" || req["jwt_header"] == nil || req["ssa_claims"] == nil ||
		resp["status"] != float64(201) || !strings.Contains(resp["body"].(string), `"client_secret":"[REDACTED]"`) ||
		!strings.Contains(ex["curl"].(string), "--data-binary @cases/JWS-11_blackhole.body") {
		t.Fatalf("exchange: %v", ex)
	}
	for _, secret := range []string{responseSecret, tokenSecret} {
		if strings.Contains(string(data), secret) {
			t.Fatal("secret in case evidence")
		}
	}
	// Key contents never appear, only paths: write real files and make sure nothing reads them.
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "transport.key")
	os.WriteFile(keyFile, []byte("-----BEGIN PRIVATE KEY-----\nSECRETKEYBYTES\n-----END PRIVATE KEY-----\n"), 0o600)
	k := testKeys
	k.TransportKey = keyFile
	if data := caseEvidence(o, k, CaseFileBase(o.ID)); strings.Contains(string(data), "SECRETKEYBYTES") || !strings.Contains(string(data), keyFile) {
		t.Fatal("key contents in evidence, or key path missing")
	}
}

func TestCaseFileBase(t *testing.T) {
	for in, want := range map[string]string{"JWS-11/blackhole": "JWS-11_blackhole", "../../etc/passwd": ".._.._etc_passwd",
		`a\b`: "a_b", "": "_", "ok.1-x_y": "ok.1-x_y", "sp ace": "sp_ace"} {
		if got := CaseFileBase(in); got != want {
			t.Errorf("CaseFileBase(%q) = %q, want %q", in, got, want)
		}
	}
}

package evidence

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/engine"
	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/judge"
)

// The secret a hostile or careless target put in its response; the client redacted it when
// recording, and no file of a report or bundle may hold it.
const (
	responseSecret = "s3cr3t-client-secret-value-0123456789"
	tokenSecret    = "registration-access-token-abcdefghijkl"
	hostileMarkup  = `<script>alert("pwned")</script>`
)

var (
	t0       = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	testKeys = KeyPaths{
		TransportCert: "/work/.dcrconform/transport.pem", TransportKey: "/work/.dcrconform/transport.key",
		UntrustedCert: "/work/.dcrconform/untrusted cert.pem", UntrustedKey: "/work/.dcrconform/untrusted.key",
		CACert: "/work/.dcrconform/ca.pem",
	}
	testMeta = Meta{Tool: "dcrconform", Version: "v1.2.3 (0123456789ab)", Target: "https://127.0.0.1:8443/register",
		Profile: "obie-3.2", Embedded: true, Started: t0, Finished: t0.Add(3 * time.Second),
		ConfigFingerprint: "sha256:" + "ab12cd34", KeyPaths: testKeys}
)

func testExchange(url, cert, body string, status int, respBody []byte, hdr http.Header) *client.Exchange {
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr.Set("Content-Type", "application/jwt")
	hdr.Set("Accept", "application/json")
	ex := &client.Exchange{
		Request: client.RecordedRequest{Method: "POST", URL: url, Header: client.RedactHeader(hdr), Cert: cert, Body: body,
			JWTHeader: jose.Header{"alg": "PS256", "kid": "kid-1", "typ": "JWT"},
			JWTClaims: jose.Claims{"iss": "tpp", "aud": "bank", "software_statement": "eyJhbGciOiJQUzI1NiJ9.e30.sig"},
			SSAHeader: jose.Header{"alg": "PS256", "kid": "ssa-kid"},
			SSAClaims: jose.Claims{"software_id": "sw-1", "software_jwks_endpoint": "https://127.0.0.1:9443/jwks.json"}},
		Started: t0.Add(time.Second), Duration: 42 * time.Millisecond,
	}
	if status != 0 {
		rb := client.RedactBody(respBody)
		ex.Response = &client.RecordedResponse{Status: status,
			Header: client.RedactHeader(http.Header{"Content-Type": {"application/json"}, "Set-Cookie": {"session=" + tokenSecret}}),
			Body:   rb}
	} else {
		ex.Error = "dial tcp 127.0.0.1:1: connect: connection refused"
	}
	return ex
}

// testOutcomes covers every verdict, several groups and levels, a shared and a repeated exchange,
// a transport error, a hostile body and an ID with a slash.
func testOutcomes() []engine.Outcome {
	secretBody := []byte(`{"client_id":"c-1","client_secret":"` + responseSecret + `","registration_access_token":"` +
		tokenSecret + `","note":"` + `<script>alert(\"pwned\")</script>` + `"}`)
	loop := "https://127.0.0.1:8443/register"
	remote := "https://bank.example.com/open-banking/v3.2/register"
	jwt := "eyJhbGciOiJQUzI1NiIsImtpZCI6ImtpZC0xIn0.eyJpc3MiOiJ0cHAifQ.c2ln"
	pass := engine.Outcome{ID: "HAPPY-01", Title: "A valid registration gives 201", Group: "happy-path", Level: catalogue.MUST,
		Ref: "DCR 3.2 §5.1", Profile: "obie-3.2", Verdict: engine.Pass, Reason: "3 checks passed", Expected: "201 with a client_id",
		Checks:    []judge.Check{{Name: "status", OK: true, Expected: "201", Actual: "201"}},
		Exchanges: []*client.Exchange{testExchange(loop, "transport", jwt, 201, secretBody, http.Header{"Authorization": {"Bearer " + tokenSecret}})},
		Started:   t0, Duration: 50 * time.Millisecond}
	fail := engine.Outcome{ID: "JWS-11/blackhole", Title: "Unreachable JWKS gives 400 (server accepts and never answers)",
		Group: "request-jws", Level: catalogue.MUST, Ref: "DCR 3.2 §7.2", Profile: "obie-3.2", Verdict: engine.Fail,
		Reason: "status: expected 400, got 201 " + hostileMarkup, Expected: "400 invalid_software_statement",
		Checks:    []judge.Check{{Name: "status", OK: false, Expected: "400", Actual: "201"}},
		Exchanges: []*client.Exchange{testExchange(loop, "transport", jwt, 201, secretBody, nil)},
		Started:   t0, Duration: 2 * time.Second}
	warn := engine.Outcome{ID: "CLM-07", Title: "Unknown claims are ignored", Group: "claims", Level: catalogue.SHOULD,
		Ref: "RFC 7591 §2", Profile: "obie-3.2", Verdict: engine.Warn, Reason: "error: expected invalid_client_metadata, got none",
		Expected: "400 invalid_client_metadata",
		Exchanges: []*client.Exchange{testExchange(remote, "untrusted", "not a jwt 'quoted' $HOME", 400,
			[]byte("<html><body>Bad request "+hostileMarkup+"</body></html>"), nil)},
		Started: t0, Duration: time.Millisecond}
	skip := engine.Outcome{ID: "SSA-03", Title: "SSA with a changed JWKS URL is rejected", Group: "ssa", Level: catalogue.MUST,
		Ref: "DCR 3.2 §6", Profile: "obie-3.2", Verdict: engine.Skipped,
		Reason: "needs capability mint-ssa, which this run does not have", Expected: "400"}
	replay := testExchange(loop, "none", jwt, 0, nil, nil)
	observed := engine.Outcome{ID: "HTTP-09", Title: "Replayed request", Group: "http", Level: catalogue.INFO, Ref: "FAPI §5.2.2",
		Profile: "obie-3.2", Verdict: engine.Observed, Reason: "second send refused", Observation: "connection refused twice",
		Exchanges: []*client.Exchange{replay, replay}, Shared: "replay", Started: t0, Duration: time.Millisecond}
	return []engine.Outcome{pass, fail, warn, skip, observed}
}

// ecKeys caches generated keys by name; tests using it do not run in parallel.
var ecKeys = map[string]*ecdsa.PrivateKey{}

func testReports() map[string][]byte {
	return map[string][]byte{"junit.xml": []byte("<testsuites/>\n"), "report.json": []byte("{}\n")}
}

func ecKey(t *testing.T, name string) *ecdsa.PrivateKey {
	t.Helper()
	if k, ok := ecKeys[name]; ok {
		return k
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecKeys[name] = k
	return k
}

// writeTestBundle writes the fixture bundle signed by signer into a fresh directory.
func writeTestBundle(t *testing.T, signer crypto.Signer) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bundle")
	outs := testOutcomes()
	reports := testReports()
	html, err := HTML(testMeta, outs)
	if err != nil {
		t.Fatal(err)
	}
	reports["report.html"] = html
	if err := WriteBundle(dir, testMeta, outs, reports, signer); err != nil {
		t.Fatalf("WriteBundle: %v", err)
	}
	return dir
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

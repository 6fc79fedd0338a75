package evidence

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/engine"
)

func writeTestHTML(t *testing.T) (string, string) {
	t.Helper()
	data, err := HTML(testMeta, testOutcomes())
	if err != nil {
		t.Fatalf("HTML: %v", err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, string(data)
}

var (
	// Elements and constructs that load or run something.
	loadingMarkup = regexp.MustCompile(`(?i)<\s*(script|link|img|iframe|frame|object|embed|base|audio|video|source|svg|form)\b|@import|url\s*\(|http-equiv|\bon[a-z]+\s*=`)
	// Attributes that hold a URL.
	urlAttr = regexp.MustCompile(`(?i)\b(href|src|srcset|action|formaction|poster|data|background|xlink:href)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
)

func TestHTMLIsSelfContained(t *testing.T) {
	_, page := writeTestHTML(t)
	if m := loadingMarkup.FindString(page); m != "" {
		t.Fatalf("HTML holds %q, which loads or runs something", m)
	}
	for _, m := range urlAttr.FindAllStringSubmatch(page, -1) {
		if v := strings.Trim(m[2], `"'`); !strings.HasPrefix(v, "#") {
			t.Fatalf("attribute %s points outside the page: %q", m[1], v)
		}
	}
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, "<style>") {
		t.Fatal("not a styled HTML page")
	}
}

func TestHTMLEscapesHostileContent(t *testing.T) {
	_, page := writeTestHTML(t)
	if strings.Contains(page, hostileMarkup) || strings.Contains(strings.ToLower(page), "<script") {
		t.Fatal("a <script> from a response body or reason reached the HTML unescaped")
	}
	escaped := `&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;`
	if strings.Count(page, escaped) < 2 { // in the CLM-07 response body and the JWS-11 reason
		t.Fatalf("escaped markup not shown as text (%d times)", strings.Count(page, escaped))
	}
	for _, secret := range []string{responseSecret, tokenSecret} {
		if strings.Contains(page, secret) {
			t.Fatal("a redacted secret reached the HTML")
		}
	}
}

func TestHTMLContent(t *testing.T) {
	_, page := writeTestHTML(t)
	for _, want := range []string{
		`<dd id="profile">obie-3.2</dd>`,
		`<dd id="target">https://127.0.0.1:8443/register (embedded reference bank)</dd>`,
		`dcrconform v1.2.3 (0123456789ab)`,
		`2025-03-04 10:00:00.000 UTC`, `2025-03-04 10:00:03.000 UTC`, `took 3s`,
		`<p id="summary">5 cases: 1 fail, 1 warn, 1 skipped, 1 observed, 1 pass</p>`,
		`<td class="n" id="total-fail">1</td>`, `<td class="n" id="total">5</td>`,
		`<tr><th>MUST</th><td class="n">1</td><td class="n">0</td><td class="n">0</td><td class="n">0</td><td class="n">1</td><td class="n">0</td><td class="n">0</td><td class="n">1</td><td class="n">3</td></tr>`,
		`<tr><th>request-jws</th><td class="n">1</td>`,
		`NOT CONFORMANT`, `sha256:ab12cd34`,
		`DCR 3.2 §7.2`, `400 invalid_software_statement`, `connection refused twice`,
		`&#34;software_id&#34;: &#34;sw-1&#34;`, // decoded SSA claims
		`&#34;kid&#34;: &#34;kid-1&#34;`,        // decoded JWT header
		`Set-Cookie</th><td>[REDACTED]`,
		`--cert /work/.dcrconform/transport.pem --key /work/.dcrconform/transport.key`,
		`# note: the target was a loopback server of this run and no longer exists`,
		`<details`, `<a href="#case-JWS-11_blackhole" class="id">JWS-11/blackhole</a>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

func TestHTMLOrdersFailuresFirst(t *testing.T) {
	_, page := writeTestHTML(t)
	order := []string{"JWS-11_blackhole", "CLM-07", "SSA-03", "HTTP-09", "HAPPY-01"} // fail, warn, skip, observed, pass
	last := -1
	for _, id := range order {
		i := strings.Index(page, `id="case-`+id+`"`)
		if i < 0 {
			t.Fatalf("no section for %s", id)
		}
		if i < last {
			t.Fatalf("%s is listed before a case it must follow", id)
		}
		last = i
	}
}

func TestHTMLCapsLargeBodies(t *testing.T) {
	big := strings.Repeat("é", HTMLBodyCap) // 2 bytes each: the cut must land on a rune boundary
	o := testOutcomes()[0]
	o.Exchanges = []*client.Exchange{testExchange("https://bank.example.com/register", "transport", "x", 200, nil, nil)}
	o.Exchanges[0].Response = &client.RecordedResponse{Status: 200, Header: http.Header{}, Body: []byte(big), Truncated: true}
	page, err := HTML(testMeta, []engine.Outcome{o})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(page), big) || !strings.Contains(string(page), strings.Repeat("é", HTMLBodyCap/2)) {
		t.Fatal("large body not capped at HTMLBodyCap")
	}
	for _, want := range []string{"128 KiB; the target sent more, and only the first 256 KiB were recorded",
		"showing the first 64 KiB here"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("no note %q", want)
		}
	}
	if strings.Contains(string(page), "\uFFFD") {
		t.Error("cut inside a rune")
	}
}

// TestHTMLRendersInHeadlessChromium loads the report in a real browser with networking off and
// checks what a reader sees. Without chromium on PATH it skips, except in CI (CI=true), where a
// missing browser is a failure: the check must not silently stop running.
func TestHTMLRendersInHeadlessChromium(t *testing.T) {
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		msg := "headless-Chromium check NOT RUN: neither chromium nor chromium-browser is on PATH (apt-get install -y chromium)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	path, _ := writeTestHTML(t)
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	profileDir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+profileDir, "--dump-dom", "file://"+filepath.ToSlash(abs))
	cmd.Env = append(os.Environ(), "HOME="+profileDir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		t.Fatalf("chromium did not finish in time; stderr:\n%s", tail(stderr.String()))
	}
	if err != nil {
		t.Fatalf("chromium: %v; stderr:\n%s", err, tail(stderr.String()))
	}
	dom := string(out)
	for _, want := range []string{
		`id="profile">obie-3.2<`,
		`5 cases: 1 fail, 1 warn, 1 skipped, 1 observed, 1 pass`,
		`id="total-fail">1<`,
		`<section class="case v-fail" id="case-JWS-11_blackhole">`,
		`<span class="id">JWS-11/blackhole</span>`,
		`NOT CONFORMANT`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(dom), "<script") {
		t.Error("the rendered DOM holds a script element")
	}
	if t.Failed() {
		t.Logf("DOM (%d bytes) starts:\n%s", len(dom), dom[:min(len(dom), 2000)])
	}
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

// A deeply nested probe claim must not blow up the report: indenting 3000 levels would write
// gigabytes-per-thousand-cases of spaces.
func TestDeeplyNestedClaimsStaySmall(t *testing.T) {
	var v any = "leaf"
	for i := 0; i < 3000; i++ {
		v = []any{v}
	}
	o := testOutcomes()[0]
	ex := *o.Exchanges[0]
	ex.Request.JWTClaims = map[string]any{"nested": v}
	o.Exchanges = []*client.Exchange{&ex}
	page, err := HTML(testMeta, []engine.Outcome{o})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) > 512<<10 {
		t.Fatalf("HTML of one nested case is %d bytes", len(page))
	}
	doc := caseEvidence(o, testKeys, CaseFileBase(o.ID))
	if len(doc) > 64<<10 {
		t.Fatalf("case evidence of one nested case is %d bytes", len(doc))
	}
	var back map[string]any
	if err := json.Unmarshal(doc, &back); err != nil {
		t.Fatalf("compact case evidence does not parse: %v", err)
	}
}

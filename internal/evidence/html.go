package evidence

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/engine"
)

// HTMLBodyCap is the most of one request or response body the HTML report shows; the per-case
// JSON evidence of a bundle holds the whole recorded body (itself capped at client.MaxBody).
const HTMLBodyCap = 64 << 10

// verdictOrder is the order of cases and columns in the HTML report: what needs attention first.
var verdictOrder = engine.Verdicts

var levelOrder = []string{string(catalogue.MUST), string(catalogue.SHOULD), string(catalogue.MAY), string(catalogue.INFO)}

type htmlPage struct {
	Meta        Meta
	Started     string
	Finished    string
	Took        string
	Result      string
	ResultClass string
	Stopped     string
	Selection   string
	Cleanup     string
	Summary     string
	Total       int
	Verdicts    []htmlCount
	Columns     []string
	ByLevel     []htmlRow
	ByGroup     []htmlRow
	Attention   []htmlCase
	Cases       []htmlCase
	BodyCap     string
	CaptureCap  string
	GoVersion   string
}

type htmlCount struct {
	Verdict, Word string
	N             int
}

type htmlRow struct {
	Name   string
	Counts []int
	Total  int
}

type htmlCase struct {
	Anchor, Word, Verdict, ID, Title, Level, Ref, Group, Profile string
	Reason, Expected, Observation, Shared, Took, Answer          string
	Checks                                                       []htmlCheck
	Exchanges                                                    []htmlExchange
}

type htmlCheck struct {
	Name, Expected, Actual string
	OK                     bool
}

type htmlExchange struct {
	N                                          int
	Method, URL, Cert, Started, Took, Error    string
	Headers, RespHeaders                       []htmlKV
	Body, BodyNote                             string
	JWTHeader, JWTClaims, SSAHeader, SSAClaims string
	HasResponse                                bool
	Status                                     int
	RespBody, RespBodyNote                     string
	Curl                                       string
}

type htmlKV struct{ K, V string }

// HTML renders the run as one self-contained HTML page: inline CSS, no script and no external
// asset, expandable evidence in <details>. Every value passes through html/template, so a hostile
// response body is shown as text. Cases are ordered failures, warnings, skipped, observed, passes.
func HTML(meta Meta, outs []engine.Outcome) ([]byte, error) {
	if meta.Tool == "" {
		meta.Tool = "dcrconform"
	}
	p := htmlPage{Meta: meta, Started: stamp(meta.Started), Finished: stamp(meta.Finished), Total: len(outs),
		BodyCap: sizeText(HTMLBodyCap), CaptureCap: sizeText(client.MaxBody), GoVersion: runtime.Version()}
	if !meta.Started.IsZero() && !meta.Finished.IsZero() {
		p.Took = meta.Finished.Sub(meta.Started).Round(time.Millisecond).String()
	}
	code, result := meta.Outcome(outs)
	p.Result, p.ResultClass, p.Stopped = result, "fail", meta.Stopped
	switch code {
	case engine.ExitOK:
		p.ResultClass = "pass"
	case engine.ExitPartial, engine.ExitIncomplete:
		p.ResultClass = "skipped"
	}
	p.Selection = selectionText(meta, len(outs))
	if c := meta.Cleanup; c != nil {
		p.Cleanup = fmt.Sprintf("%d registered clients deleted at the end of the run", len(c.Deleted))
		for i, l := range c.Left {
			if i == 0 {
				p.Cleanup += fmt.Sprintf("; %d left behind on the target:", len(c.Left))
			}
			p.Cleanup += " " + l.ClientID + " (" + l.Reason + ")"
		}
	}
	tally := engine.Count(outs)
	verdicts := append([]engine.Verdict{}, verdictOrder...)
	for v := range tally {
		if !slices.Contains(verdicts, v) {
			verdicts = append(verdicts, v)
		}
	}
	var parts []string
	for _, v := range verdicts {
		p.Verdicts = append(p.Verdicts, htmlCount{Verdict: string(v), Word: v.Word(), N: tally[v]})
		p.Columns = append(p.Columns, string(v))
		if tally[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", tally[v], v))
		}
	}
	p.Summary = fmt.Sprintf("%d cases: %s", len(outs), strings.Join(parts, ", "))
	p.ByLevel = breakdown(outs, verdicts, levelOrder, func(o engine.Outcome) string { return string(o.Level) })
	p.ByGroup = breakdown(outs, verdicts, groupOrder, func(o engine.Outcome) string { return o.Group })

	// The bundle names each case's files by caseBases in the order of outs; the curl commands
	// here must name the same files, so the bases are taken before sorting.
	bases := caseBases(outs)
	order := make([]int, len(outs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := outs[order[i]], outs[order[j]]
		if ra, rb := verdictRank(a.Verdict), verdictRank(b.Verdict); ra != rb {
			return ra < rb
		}
		return a.ID < b.ID
	})
	for _, i := range order {
		o := outs[i]
		c := htmlCaseOf(o, meta.KeyPaths, bases[i])
		if o.Verdict == engine.Fail || o.Verdict == engine.Warn || o.Verdict == engine.Inconclusive {
			p.Attention = append(p.Attention, c)
		}
		p.Cases = append(p.Cases, c)
	}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, p); err != nil {
		return nil, fmt.Errorf("render HTML report: %w", err)
	}
	return buf.Bytes(), nil
}

func htmlCaseOf(o engine.Outcome, keys KeyPaths, base string) htmlCase {
	c := htmlCase{Anchor: "case-" + base, Word: o.Verdict.Word(), Verdict: string(o.Verdict), ID: o.ID, Title: o.Title, Level: string(o.Level),
		Ref: o.Ref, Group: o.Group, Profile: o.Profile, Reason: o.Reason, Expected: o.Expected,
		Observation: o.Observation, Shared: o.Shared, Took: o.Duration.Round(time.Microsecond).String(), Answer: o.Answer}
	for _, ch := range o.Checks {
		c.Checks = append(c.Checks, htmlCheck{Name: ch.Name, Expected: ch.Expected, Actual: ch.Actual, OK: ch.OK})
	}
	files := bodyFiles(o.Exchanges, base)
	for i, ex := range o.Exchanges {
		if ex == nil {
			continue
		}
		r := ex.Request
		he := htmlExchange{N: i + 1, Method: r.Method, URL: r.URL, Cert: r.Cert, Started: stamp(ex.Started),
			Took: ex.Duration.Round(time.Microsecond).String(), Error: ex.Error, Headers: kvs(r.Header),
			JWTHeader: pretty(r.JWTHeader), JWTClaims: pretty(r.JWTClaims), SSAHeader: pretty(r.SSAHeader),
			SSAClaims: pretty(r.SSAClaims), Curl: Curl(ex, keys, files[i])}
		he.Body, he.BodyNote = capped([]byte(r.Body), false)
		if resp := ex.Response; resp != nil {
			he.HasResponse, he.Status, he.RespHeaders = true, resp.Status, kvs(resp.Header)
			if resp.BodyBase64 != "" {
				// Binary bodies are shown as their base64 excerpt, never byte by byte.
				he.RespBody, he.RespBodyNote = capped([]byte(resp.BodyBase64), false)
			} else {
				he.RespBody, he.RespBodyNote = capped(resp.Body, resp.Truncated)
			}
			for _, n := range []string{resp.BodyNote, resp.HeaderNote, resp.Trimmed} {
				if n != "" {
					he.RespBodyNote += "; " + n
				}
			}
		}
		c.Exchanges = append(c.Exchanges, he)
	}
	return c
}

// selectionText says what the run covered, in one line for the report header.
func selectionText(meta Meta, ran int) string {
	sel := meta.Selection
	of := max(sel.Catalogue, ran)
	s := fmt.Sprintf("%d of the %d cases of profile %s", ran, of, meta.Profile)
	if sel.ProfileSource != "" {
		s += " (profile from " + sel.ProfileSource
		if sel.ConfigProfile != "" && sel.ConfigProfile != meta.Profile {
			s += ", overriding the config's " + sel.ConfigProfile
		}
		s += ")"
	}
	if len(sel.Cases) > 0 {
		s += "; --cases " + strings.Join(sel.Cases, ",")
	}
	if sel.LabelFilter != "" {
		s += "; --label-filter " + sel.LabelFilter
	}
	if sel.FailFast {
		s += "; --fail-fast"
	}
	return s
}

// capped cuts a body to HTMLBodyCap on a UTF-8 boundary and says what was shown.
func capped(body []byte, truncatedAtCapture bool) (string, string) {
	note := sizeText(len(body))
	if truncatedAtCapture {
		note += fmt.Sprintf("; the target sent more, and only the first %s were recorded", sizeText(client.MaxBody))
	}
	if len(body) > HTMLBodyCap {
		cut := runeCut(body, HTMLBodyCap)
		body = body[:cut]
		note += fmt.Sprintf("; showing the first %s here, the whole recorded body is in the case's JSON evidence", sizeText(cut))
	}
	if !utf8.Valid(body) {
		note += "; not valid UTF-8, invalid bytes shown as \uFFFD"
		body = bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	return string(body), note
}

func breakdown(outs []engine.Outcome, verdicts []engine.Verdict, order []string, key func(engine.Outcome) string) []htmlRow {
	counts := map[string]map[engine.Verdict]int{}
	for _, o := range outs {
		k := key(o)
		if counts[k] == nil {
			counts[k] = map[engine.Verdict]int{}
		}
		counts[k][o.Verdict]++
	}
	names := []string{}
	for _, n := range order {
		if counts[n] != nil {
			names = append(names, n)
		}
	}
	var rest []string
	for n := range counts {
		if !slices.Contains(names, n) {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	var rows []htmlRow
	for _, n := range append(names, rest...) {
		row := htmlRow{Name: n}
		if n == "" {
			row.Name = "(none)"
		}
		for _, v := range verdicts {
			row.Counts = append(row.Counts, counts[n][v])
			row.Total += counts[n][v]
		}
		rows = append(rows, row)
	}
	return rows
}

func verdictRank(v engine.Verdict) int {
	for i, x := range verdictOrder {
		if x == v {
			return i
		}
	}
	return len(verdictOrder)
}

func kvs(h http.Header) []htmlKV {
	var names []string
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []htmlKV
	for _, k := range names {
		for _, v := range h[k] {
			out = append(out, htmlKV{k, v})
		}
	}
	return out
}

// pretty renders decoded JOSE members for reading: indented JSON, or compact JSON when
// indenting a deeply nested value would multiply its size, cut at HTMLBodyCap with a marker.
func pretty[M ~map[string]any](m M) string {
	if len(m) == 0 {
		return ""
	}
	// html/template escapes the result; encodeJSON's unescaped form keeps it from being escaped twice.
	out, err := encodeJSON(map[string]any(m), true)
	if err != nil {
		return fmt.Sprintf("(does not encode: %v)", err)
	}
	if len(out) <= HTMLBodyCap {
		return string(out)
	}
	if out, err = encodeJSON(map[string]any(m), false); err != nil {
		return fmt.Sprintf("(does not encode: %v)", err)
	}
	if len(out) <= HTMLBodyCap {
		return string(out)
	}
	cut := runeCut(out, HTMLBodyCap)
	return string(out[:cut]) + fmt.Sprintf("\n... [cut: %s decoded; showing the first %s here, the whole value is in the case's JSON evidence]",
		sizeText(len(out)), sizeText(cut))
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000 UTC")
}

func sizeText(n int) string {
	switch {
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n == 1:
		return "1 byte"
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

var htmlTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{{.Meta.Tool}} {{.Meta.Version}}">
<title>{{.Meta.Tool}} report: {{.Meta.Profile}} against {{.Meta.Target}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1b1f24;background:#fff;line-height:1.4}
h1{font-size:1.5rem;margin:.2rem 0 .8rem}h2{font-size:1.2rem;margin:1.6rem 0 .6rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:.4rem 0}th,td{border:1px solid #d0d7de;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.4rem 0}dl.meta dt{font-weight:600}dl.meta dd{margin:0;word-break:break-all}
.badge{display:inline-block;min-width:3.2rem;text-align:center;font-weight:700;border-radius:.25rem;padding:0 .3rem;color:#fff;background:#57606a}
.v-inconclusive .badge,.badge.v-inconclusive{background:#8250df}.v-not-run .badge,.badge.v-not-run{background:#57606a}.v-fail .badge,.badge.v-fail{background:#cf222e}.v-warn .badge,.badge.v-warn{background:#9a6700}.v-skipped .badge,.badge.v-skipped{background:#6e7781}
.v-observed .badge,.badge.v-observed{background:#0969da}.v-pass .badge,.badge.v-pass{background:#1a7f37}
.result{font-size:1.1rem;font-weight:700;padding:.4rem .6rem;border-radius:.3rem;display:inline-block}
.result.fail{background:#ffebe9;color:#82071e}.result.pass{background:#dafbe1;color:#116329}.result.skipped{background:#fff8c5;color:#4d2d00}
section.case{border:1px solid #d0d7de;border-left-width:.4rem;border-radius:.3rem;margin:.7rem 0;padding:.5rem .8rem}
section.v-fail{border-left-color:#cf222e}section.v-warn{border-left-color:#9a6700}section.v-skipped{border-left-color:#6e7781}
section.v-observed{border-left-color:#0969da}section.v-pass{border-left-color:#1a7f37}
section.case h3{font-size:1rem;margin:.1rem 0 .4rem}.id{font-family:ui-monospace,Menlo,Consolas,monospace}
dl.case{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.3rem 0}dl.case dt{font-weight:600;color:#57606a}dl.case dd{margin:0;white-space:pre-wrap;word-break:break-word}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:.3rem;padding:.4rem .6rem;white-space:pre-wrap;word-break:break-all;font-size:.85rem;max-height:40rem;overflow:auto}
details{margin:.3rem 0}summary{cursor:pointer;font-weight:600}details details{margin-left:1rem}
.ok{color:#1a7f37}.bad{color:#cf222e;font-weight:600}.note{color:#57606a;font-size:.9rem}
@media print{details{display:block}pre{max-height:none}}
</style>
</head>
<body>
<header>
<h1>{{.Meta.Tool}} conformance report</h1>
<p class="result {{.ResultClass}}" id="result">{{.Result}}</p>
{{- if .Stopped}}
<p class="result skipped" id="incomplete">INCOMPLETE: {{.Stopped}}. The cases after it were not run; this report covers only those judged before.</p>
{{- end}}
<dl class="meta" id="run">
<dt>Target</dt><dd id="target">{{.Meta.Target}}{{if .Meta.Embedded}} (embedded reference bank){{end}}</dd>
<dt>Profile</dt><dd id="profile">{{.Meta.Profile}}</dd>
<dt>Selection</dt><dd id="selection">{{.Selection}}</dd>
{{- if .Cleanup}}
<dt>Cleanup</dt><dd id="cleanup">{{.Cleanup}}</dd>
{{- end}}
<dt>Tool version</dt><dd id="version">{{.Meta.Tool}} {{.Meta.Version}} ({{.GoVersion}})</dd>
<dt>Started</dt><dd id="started">{{.Started}}</dd>
<dt>Finished</dt><dd id="finished">{{.Finished}}{{if .Took}} (took {{.Took}}){{end}}</dd>
<dt>Strict</dt><dd>{{if .Meta.Strict}}yes: failed SHOULD cases fail the run{{else}}no: failed SHOULD cases are warnings{{end}}</dd>
{{- if .Meta.ConfigFingerprint}}
<dt>Config fingerprint</dt><dd class="id">{{.Meta.ConfigFingerprint}}</dd>
{{- end}}
</dl>
</header>
<main>
<h2 id="totals">Totals</h2>
<p id="summary">{{.Summary}}</p>
<table id="by-verdict">
<tr>{{range .Verdicts}}<th><span class="badge v-{{.Verdict}}">{{.Word}}</span> {{.Verdict}}</th>{{end}}<th>total</th></tr>
<tr>{{range .Verdicts}}<td class="n" id="total-{{.Verdict}}">{{.N}}</td>{{end}}<td class="n" id="total">{{.Total}}</td></tr>
</table>
<h2 id="by-level">By level</h2>
<table>
<tr><th>level</th>{{range .Columns}}<th>{{.}}</th>{{end}}<th>total</th></tr>
{{- range .ByLevel}}
<tr><th>{{.Name}}</th>{{range .Counts}}<td class="n">{{.}}</td>{{end}}<td class="n">{{.Total}}</td></tr>
{{- end}}
</table>
<h2 id="by-group">By group</h2>
<table>
<tr><th>group</th>{{range .Columns}}<th>{{.}}</th>{{end}}<th>total</th></tr>
{{- range .ByGroup}}
<tr><th>{{.Name}}</th>{{range .Counts}}<td class="n">{{.}}</td>{{end}}<td class="n">{{.Total}}</td></tr>
{{- end}}
</table>
{{- if .Attention}}
<h2 id="attention">Needs attention</h2>
<ul>
{{- range .Attention}}
<li><span class="badge v-{{.Verdict}}">{{.Word}}</span> <a href="#{{.Anchor}}" class="id">{{.ID}}</a> {{.Title}} ({{.Level}})</li>
{{- end}}
</ul>
{{- end}}
<h2 id="cases">Cases</h2>
<p class="note">Failures first, then warnings, inconclusive, not run, skipped, observed and passes. Request and response bodies are shown up to {{.BodyCap}} each; the client recorded at most {{.CaptureCap}} of a response. Credentials were removed when each exchange was recorded. Curl commands name certificate and key files by path and read the request body from the bundle's cases/ folder: run them from the bundle directory.</p>
{{- range .Cases}}
<section class="case v-{{.Verdict}}" id="{{.Anchor}}">
<h3><span class="badge">{{.Word}}</span> <span class="id">{{.ID}}</span> {{.Title}}</h3>
<dl class="case">
<dt>Status</dt><dd>{{.Verdict}}</dd>
<dt>Level</dt><dd>{{.Level}}</dd>
<dt>Spec ref</dt><dd>{{.Ref}}</dd>
<dt>Group</dt><dd>{{.Group}}</dd>
<dt>Reason</dt><dd>{{.Reason}}</dd>
<dt>Expected</dt><dd>{{.Expected}}</dd>
{{- if .Answer}}
<dt>The bank answered</dt><dd class="answer">{{.Answer}}</dd>
{{- end}}
{{- if .Observation}}
<dt>Observation</dt><dd>{{.Observation}}</dd>
{{- end}}
{{- if .Shared}}
<dt>Shared exchange</dt><dd>{{.Shared}}</dd>
{{- end}}
<dt>Duration</dt><dd>{{.Took}}</dd>
</dl>
{{- if .Checks}}
<details><summary>Checks ({{len .Checks}})</summary>
<table><tr><th></th><th>check</th><th>expected</th><th>actual</th></tr>
{{- range .Checks}}
<tr><td>{{if .OK}}<span class="ok">ok</span>{{else}}<span class="bad">failed</span>{{end}}</td><td>{{.Name}}</td><td>{{.Expected}}</td><td>{{.Actual}}</td></tr>
{{- end}}
</table>
</details>
{{- end}}
{{- range .Exchanges}}
<details class="exchange"><summary>Exchange {{.N}}: {{.Method}} {{.URL}} &rarr; {{if .HasResponse}}{{.Status}}{{else}}no response{{end}}</summary>
<details open><summary>Request</summary>
<dl class="case">
<dt>Method</dt><dd>{{.Method}}</dd>
<dt>URL</dt><dd>{{.URL}}</dd>
<dt>Client certificate</dt><dd>{{.Cert}}</dd>
<dt>Started</dt><dd>{{.Started}}</dd>
<dt>Duration</dt><dd>{{.Took}}</dd>
</dl>
<table>{{range .Headers}}<tr><th>{{.K}}</th><td>{{.V}}</td></tr>{{end}}</table>
</details>
{{- if .JWTHeader}}
<details><summary>Request JWT header and claims (decoded)</summary>
<pre>{{.JWTHeader}}</pre>
<pre>{{.JWTClaims}}</pre>
</details>
{{- end}}
{{- if .SSAHeader}}
<details><summary>Software statement header and claims (decoded)</summary>
<pre>{{.SSAHeader}}</pre>
<pre>{{.SSAClaims}}</pre>
</details>
{{- end}}
<details><summary>Request body ({{.BodyNote}})</summary>
<pre>{{.Body}}</pre>
</details>
{{- if .Error}}
<p class="bad">Transport error: {{.Error}}</p>
{{- end}}
{{- if .HasResponse}}
<details open><summary>Response: status {{.Status}}</summary>
<table>{{range .RespHeaders}}<tr><th>{{.K}}</th><td>{{.V}}</td></tr>{{end}}</table>
<p class="note">Body: {{.RespBodyNote}}</p>
<pre>{{.RespBody}}</pre>
</details>
{{- end}}
<details><summary>curl</summary>
<pre>{{.Curl}}</pre>
</details>
</details>
{{- end}}
</section>
{{- end}}
</main>
<footer><p class="note">Written by {{.Meta.Tool}} {{.Meta.Version}}. This page is self-contained: it loads nothing and runs no script.</p></footer>
</body>
</html>
`))

// runeCut returns the largest length of at most n that does not cut b inside a UTF-8 sequence;
// b must be longer than n.
func runeCut(b []byte, n int) int {
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return n
}

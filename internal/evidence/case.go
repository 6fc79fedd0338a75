package evidence

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/engine"
	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/judge"
)

// CaseFormat names the layout of a per-case evidence file.
const CaseFormat = "dcrconform-case/1"

// CasesDir is the bundle folder holding per-case evidence and request bodies.
const CasesDir = "cases"

// CaseFileBase turns a case ID into a file name stem: "/" becomes "_", as does any character
// other than letters, digits, '.', '-' and '_', so no ID can name a path outside cases/.
func CaseFileBase(id string) string {
	var b strings.Builder
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// bodyFiles names the request body file of each exchange of a case, relative to the bundle:
// cases/<base>.body for the first, cases/<base>.<n>.body for the n-th exchange when its body
// differs from every earlier one (repeated sends of one request share one file).
func bodyFiles(exs []*client.Exchange, base string) []string {
	names := make([]string, len(exs))
	for i, ex := range exs {
		if ex == nil {
			continue
		}
		names[i] = fmt.Sprintf("%s/%s.%d.body", CasesDir, base, i+1)
		if i == 0 {
			names[i] = CasesDir + "/" + base + ".body"
		}
		for j := 0; j < i; j++ {
			if exs[j] != nil && exs[j].Request.Body == ex.Request.Body {
				names[i] = names[j]
				break
			}
		}
	}
	return names
}

// caseBases gives each outcome, in the order of outs, the file name stem of its evidence:
// CaseFileBase of its ID, or with -2, -3... when two IDs map to one name ("A/b" and "A_b") or a
// case's body file would take another's name ("A" sending twice and "A.2"). The bundle writes
// its files and the HTML report names them in curl commands from this one assignment, so the two
// always agree.
func caseBases(outs []engine.Outcome) []string {
	taken := map[string]bool{} // lower-cased: bundles travel to case-insensitive file systems
	bases := make([]string, len(outs))
	for i, o := range outs {
		base := CaseFileBase(o.ID)
		for n := 2; clashes(taken, caseFiles(o, base)); n++ {
			base = fmt.Sprintf("%s-%d", CaseFileBase(o.ID), n)
		}
		for _, name := range caseFiles(o, base) {
			taken[strings.ToLower(name)] = true
		}
		bases[i] = base
	}
	return bases
}

// caseFiles lists the bundle files one case writes under base: its JSON evidence and its distinct
// request bodies.
func caseFiles(o engine.Outcome, base string) []string {
	files := []string{CasesDir + "/" + base + ".json"}
	for _, name := range bodyFiles(o.Exchanges, base) {
		if name != "" && !slices.Contains(files, name) {
			files = append(files, name)
		}
	}
	return files
}

func clashes(taken map[string]bool, files []string) bool {
	for _, name := range files {
		if taken[strings.ToLower(name)] {
			return true
		}
	}
	return false
}

type caseDoc struct {
	Format         string        `json:"format"`
	ID             string        `json:"id"`
	Title          string        `json:"title"`
	Group          string        `json:"group"`
	Level          string        `json:"level"`
	Ref            string        `json:"spec_ref"`
	Profile        string        `json:"profile"`
	Verdict        string        `json:"verdict"`
	Reason         string        `json:"reason"`
	Expected       string        `json:"expected"`
	Observation    string        `json:"observation,omitempty"`
	Checks         []judge.Check `json:"checks,omitempty"`
	SharedExchange string        `json:"shared_exchange,omitempty"`
	Started        time.Time     `json:"started"`
	DurationMS     float64       `json:"duration_ms"`
	// ResponseBodyCap is the most of a response body the client kept when recording it.
	ResponseBodyCap int           `json:"response_body_cap_bytes"`
	Exchanges       []exchangeDoc `json:"exchanges"`
}

type exchangeDoc struct {
	Index      int          `json:"index"`
	Request    requestDoc   `json:"request"`
	Response   *responseDoc `json:"response,omitempty"`
	Error      string       `json:"error,omitempty"`
	Started    time.Time    `json:"started"`
	DurationMS float64      `json:"duration_ms"`
	Curl       string       `json:"curl"`
}

type requestDoc struct {
	Method     string      `json:"method"`
	URL        string      `json:"url"`
	Header     http.Header `json:"header"`
	ClientCert string      `json:"client_cert"`
	BodyFile   string      `json:"body_file"`
	BodyBytes  int         `json:"body_bytes"`
	BodySHA256 string      `json:"body_sha256"`
	Body       string      `json:"body"`
	BodyBase64 string      `json:"body_base64,omitempty"`
	JWTHeader  jose.Header `json:"jwt_header,omitempty"`
	JWTClaims  jose.Claims `json:"jwt_claims,omitempty"`
	SSAHeader  jose.Header `json:"ssa_header,omitempty"`
	SSAClaims  jose.Claims `json:"ssa_claims,omitempty"`
}

type responseDoc struct {
	Status     int         `json:"status"`
	Header     http.Header `json:"header"`
	HeaderNote string      `json:"header_note,omitempty"`
	// BodyBytes and BodySHA256 describe the body as received; ContentEncoding is as sent.
	BodyBytes       int    `json:"body_bytes"`
	BodySHA256      string `json:"body_sha256"`
	ContentEncoding string `json:"content_encoding,omitempty"`
	Decoded         bool   `json:"decoded,omitempty"`
	Body            string `json:"body"`
	BodyBase64      string `json:"body_base64,omitempty"`
	BodyNote        string `json:"body_note,omitempty"`
	// Truncated: the target sent more than the cap and only the first bytes were kept.
	Truncated bool `json:"truncated,omitempty"`
	// Trimmed says what the run's evidence budget removed.
	Trimmed string `json:"trimmed,omitempty"`
}

// caseEvidence renders one outcome as a self-describing JSON document: the case, its verdict and
// checks, and each exchange as recorded (already redacted at capture) with a curl command that
// repeats it from the body files WriteBundle writes beside it under base.
func caseEvidence(o engine.Outcome, keys KeyPaths, base string) []byte {
	doc := caseDoc{
		Format: CaseFormat, ID: o.ID, Title: o.Title, Group: o.Group, Level: string(o.Level), Ref: o.Ref,
		Profile: o.Profile, Verdict: string(o.Verdict), Reason: o.Reason, Expected: o.Expected,
		Observation: o.Observation, Checks: o.Checks, SharedExchange: o.Shared, Started: o.Started,
		DurationMS: ms(o.Duration), ResponseBodyCap: client.MaxBody, Exchanges: []exchangeDoc{},
	}
	files := bodyFiles(o.Exchanges, base)
	for i, ex := range o.Exchanges {
		if ex == nil {
			continue
		}
		r := ex.Request
		ed := exchangeDoc{
			Index: i + 1, Error: ex.Error, Started: ex.Started, DurationMS: ms(ex.Duration),
			Curl: Curl(ex, keys, files[i]),
			Request: requestDoc{
				Method: r.Method, URL: r.URL, Header: nonNilHeader(r.Header), ClientCert: r.Cert, BodyFile: files[i],
				BodyBytes: len(r.Body), BodySHA256: sha256Hex([]byte(r.Body)), Body: r.Body,
				JWTHeader: r.JWTHeader, JWTClaims: r.JWTClaims, SSAHeader: r.SSAHeader, SSAClaims: r.SSAClaims,
			},
		}
		if !utf8.ValidString(r.Body) {
			ed.Request.BodyBase64 = base64.StdEncoding.EncodeToString([]byte(r.Body))
		}
		if resp := ex.Response; resp != nil {
			ed.Response = &responseDoc{Status: resp.Status, Header: nonNilHeader(resp.Header), HeaderNote: resp.HeaderNote,
				BodyBytes: resp.BodyBytes, BodySHA256: resp.BodySHA256, ContentEncoding: resp.ContentEncoding,
				Decoded: resp.Decoded, Body: resp.Text(), BodyBase64: resp.BodyBase64, BodyNote: resp.BodyNote,
				Truncated: resp.Truncated, Trimmed: resp.Trimmed}
			if resp.BodySHA256 == "" { // recorded before these fields existed (tests build exchanges by hand)
				body := resp.Body
				ed.Response.BodyBytes, ed.Response.BodySHA256 = len(body), sha256Hex(body)
			}
		}
		doc.Exchanges = append(doc.Exchanges, ed)
	}
	out, err := marshalJSON(doc)
	if err != nil {
		// Only unencodable claim values (NaN) can get here; keep the file and say so.
		out, _ = marshalJSON(map[string]string{"format": CaseFormat, "id": o.ID, "error": "encode evidence: " + err.Error()})
	}
	return out
}

// marshalJSON encodes indented JSON without HTML escaping, so bodies read as they were sent. A
// document that indenting would blow up (a deeply nested probe: the indentation grows with the
// depth at every line) is written compact instead.
func marshalJSON(v any) ([]byte, error) {
	out, err := encodeJSON(v, true)
	if err != nil {
		return nil, err
	}
	if len(out) > maxIndentedJSON {
		if compact, err := encodeJSON(v, false); err == nil && 2*len(compact) <= len(out) {
			out = compact
		}
	}
	return append(out, '\n'), nil
}

// encodeJSON encodes v without HTML escaping and without a trailing newline, indented or compact.
func encodeJSON(v any, indent bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// maxIndentedJSON is the size above which an indented document that is more than twice its
// compact form is written compact.
const maxIndentedJSON = 1 << 20

func nonNilHeader(h http.Header) http.Header {
	if h == nil {
		return http.Header{}
	}
	return h
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

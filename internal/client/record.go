package client

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"
)

// Recording caps: what a hostile target can make the harness keep, per exchange. The README
// lists them; the evidence says when one was reached.
const (
	// MaxResponseHeaderBytes is the most response header the client reads at all; a target that
	// sends more gets a "too large" transport failure.
	MaxResponseHeaderBytes = 1 << 20
	// MaxHeaderFields, MaxHeaderValues, MaxHeaderValue and MaxHeaderBytes cap the recorded
	// headers: fields, values per field, bytes per value, and bytes in all.
	MaxHeaderFields = 64
	MaxHeaderValues = 8
	MaxHeaderValue  = 2 << 10
	MaxHeaderBytes  = 16 << 10
	// MaxBinaryExcerpt is the most of a binary body kept, base64-encoded.
	MaxBinaryExcerpt = 64 << 10
)

// capHeader returns the recorded form of h within the header caps, and a note of what was
// left out (empty when nothing was). Fields are kept in name order, so what survives does not
// depend on map order.
func capHeader(h http.Header) (http.Header, string) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	out := http.Header{}
	total, droppedFields, droppedValues, cutValues := 0, 0, 0, 0
	for _, k := range names {
		if len(out) >= MaxHeaderFields || total >= MaxHeaderBytes {
			droppedFields++
			continue
		}
		name := k
		if len(name) > 256 {
			name, cutValues = name[:256], cutValues+1
		}
		for i, v := range h[k] {
			if i >= MaxHeaderValues || total >= MaxHeaderBytes {
				droppedValues += len(h[k]) - i
				break
			}
			if len(v) > MaxHeaderValue {
				v = cutUTF8(v, MaxHeaderValue) + fmt.Sprintf("…[%d bytes cut]", len(v)-MaxHeaderValue)
				cutValues++
			}
			total += len(name) + len(v)
			out[name] = append(out[name], v)
		}
	}
	var notes []string
	if droppedFields > 0 {
		notes = append(notes, fmt.Sprintf("%d header fields not recorded", droppedFields))
	}
	if droppedValues > 0 {
		notes = append(notes, fmt.Sprintf("%d header values not recorded", droppedValues))
	}
	if cutValues > 0 {
		notes = append(notes, fmt.Sprintf("%d header names or values cut", cutValues))
	}
	if len(notes) == 0 {
		return out, ""
	}
	return out, fmt.Sprintf("%s (caps: %d fields, %d values a field, %d bytes a value, %d bytes in all)",
		strings.Join(notes, ", "), MaxHeaderFields, MaxHeaderValues, MaxHeaderValue, MaxHeaderBytes)
}

// cutUTF8 cuts s to at most n bytes on a rune boundary.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// recordBody fills the body fields of rr from the bytes received (at most MaxBody). A body with
// a Content-Encoding is decoded within MaxBody for the record, since a compressed body would
// hide from redaction what it carries; the encoding, size and SHA-256 of the bytes as received
// are kept. A body that is not text is kept as a base64 excerpt, never escaped byte by byte.
func recordBody(rr *RecordedResponse, raw []byte) {
	rr.BodyBytes, rr.BodySHA256 = len(raw), sha256Hex(raw)
	body := raw
	if enc := strings.ToLower(strings.TrimSpace(rr.Header.Get("Content-Encoding"))); enc != "" && enc != "identity" {
		rr.ContentEncoding = enc
		decoded, cut, err := decode(enc, raw)
		if err != nil {
			rr.Body = nil
			rr.BodyNote = fmt.Sprintf("not recorded: Content-Encoding %q could not be decoded (%v); only its size and SHA-256 are kept", enc, err)
			return
		}
		body, rr.Decoded = decoded, true
		rr.BodyNote = fmt.Sprintf("decoded from Content-Encoding %s for the record (%d bytes as received)", enc, len(raw))
		if cut {
			rr.BodyNote += fmt.Sprintf("; it inflates past %d bytes and only those were decoded", MaxBody)
		}
	}
	rr.Body = RedactBody(body)
	if isText(rr.Body) {
		return
	}
	excerpt := rr.Body
	if len(excerpt) > MaxBinaryExcerpt {
		excerpt = excerpt[:MaxBinaryExcerpt]
	}
	rr.BodyBase64 = base64.StdEncoding.EncodeToString(excerpt)
	note := fmt.Sprintf("binary: the first %d of %d bytes, base64-encoded", len(excerpt), len(rr.Body))
	if rr.BodyNote != "" {
		note = rr.BodyNote + "; " + note
	}
	rr.BodyNote = note
}

// decode inflates a gzip, deflate or zlib body within MaxBody bytes; cut reports a body that
// inflates past it (a compression bomb stops there).
func decode(enc string, raw []byte) (out []byte, cut bool, err error) {
	var r io.Reader
	switch enc {
	case "gzip", "x-gzip":
		gz, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, false, err
		}
		r = gz
	case "deflate":
		// HTTP's "deflate" is zlib-wrapped; some servers send raw deflate.
		if z, err := zlib.NewReader(bytes.NewReader(raw)); err == nil {
			r = z
		} else {
			r = flate.NewReader(bytes.NewReader(raw))
		}
	default:
		return nil, false, fmt.Errorf("unsupported encoding")
	}
	out, err = io.ReadAll(io.LimitReader(r, MaxBody+1))
	if len(out) > MaxBody {
		return out[:MaxBody], true, nil
	}
	if err != nil && err != io.ErrUnexpectedEOF {
		return out, false, err
	}
	return out, false, nil
}

// isText reports whether a body reads as text: valid UTF-8 with few control characters. A body
// of mostly control bytes would be escaped six bytes for one in JSON; it is kept as base64.
func isText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	ctl := 0
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			ctl++
		}
	}
	return ctl*100 <= len(b)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Cut returns a copy of ex whose response body keeps at most n bytes of text (a binary body is
// dropped), with note saying why in Trimmed. ex itself, which other outcomes may share, is not
// touched; an exchange without a response, or with a body within n, is returned as it is.
func (ex *Exchange) Cut(n int, note string) *Exchange {
	if ex == nil || ex.Response == nil || (ex.Response.BodyBase64 == "" && len(ex.Response.Body) <= n) {
		return ex
	}
	cp := *ex
	r := *ex.Response
	text := cutUTF8(r.Text(), n)
	r.Trimmed = fmt.Sprintf("response body cut to its first %d bytes (a binary body is dropped): %s; its size and SHA-256 as received are kept", len(text), note)
	r.BodyBase64, r.Body = "", []byte(text)
	cp.Response = &r
	return &cp
}

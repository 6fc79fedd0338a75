package evidence

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
)

// minEncodedSecret is the shortest secret also searched for in base64 form: a shorter one's
// encoding is a handful of characters that would match by chance.
const minEncodedSecret = 8

// ScanForSecrets walks root and returns the paths (root joined with each file's path, sorted) of
// the regular files that hold any of the secrets, so an end-to-end test can prove that no
// credential reached the reports. A secret is searched for as its raw bytes, as it appears inside
// a JSON string (with and without Go's HTML escaping), HTML-escaped, and, when it is at least 8
// bytes, as base64 and base64url at each of the three byte alignments (a secret inside a JWT or
// a base64 body). Empty secrets are ignored. Neither the result nor an error names a secret.
func ScanForSecrets(root string, secrets [][]byte) ([]string, error) {
	var needles [][]byte
	for _, s := range secrets {
		if len(s) > 0 {
			needles = append(needles, secretForms(s)...)
		}
	}
	var hits []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, blob := range append([][]byte{data}, decodedExcerpts(data)...) {
			if containsAny(blob, needles) {
				hits = append(hits, p)
				break
			}
		}
		return nil
	})
	sort.Strings(hits)
	return hits, err
}

// secretForms lists the byte strings a secret can appear as in evidence, without duplicates.
func secretForms(s []byte) [][]byte {
	var forms [][]byte
	seen := map[string]bool{}
	addForm := func(b []byte) {
		if len(b) > 0 && !seen[string(b)] {
			seen[string(b)] = true
			forms = append(forms, b)
		}
	}
	addForm(s)
	for _, escapeHTML := range []bool{true, false} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(escapeHTML)
		if enc.Encode(string(s)) == nil {
			q := bytes.TrimSpace(buf.Bytes())
			addForm(q[1 : len(q)-1]) // without the quotes
		}
	}
	addForm([]byte(html.EscapeString(string(s))))
	if len(s) >= minEncodedSecret {
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			for shift := 0; shift < 3; shift++ {
				addForm(alignedBase64(enc, s, shift))
			}
		}
	}
	return forms
}

// alignedBase64 returns the characters of the base64 encoding of s that depend on s alone when s
// starts shift bytes into a 3-byte group of a longer encoded text.
func alignedBase64(enc *base64.Encoding, s []byte, shift int) []byte {
	padded := append(make([]byte, shift), s...)
	full := enc.EncodeToString(padded)
	start := []int{0, 2, 3}[shift]    // characters that mix in the bytes before s
	end := len(padded) / 3 * 4        // characters after this mix in the bytes after s
	if end-start < minEncodedSecret { // too short to mean anything
		return nil
	}
	return []byte(full[start:end])
}

func containsAny(data []byte, needles [][]byte) bool {
	for _, n := range needles {
		if bytes.Contains(data, n) {
			return true
		}
	}
	return false
}

// base64Member finds the base64 excerpts evidence keeps of binary bodies.
var base64Member = regexp.MustCompile(`"body_base64":\s*"([A-Za-z0-9+/=]+)"`)

// maxInflated bounds what the scan inflates of one gzip excerpt.
const maxInflated = 16 << 20

// decodedExcerpts returns the base64 excerpts of a file decoded, and those that are gzip data
// inflated as well, so a secret inside a binary or compressed body is found too.
func decodedExcerpts(data []byte) [][]byte {
	var out [][]byte
	for _, m := range base64Member.FindAllSubmatch(data, -1) {
		raw, err := base64.StdEncoding.DecodeString(string(m[1]))
		if err != nil {
			continue
		}
		out = append(out, raw)
		if len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b {
			if zr, err := gzip.NewReader(bytes.NewReader(raw)); err == nil {
				inflated, _ := io.ReadAll(io.LimitReader(zr, maxInflated))
				out = append(out, inflated)
			}
		}
	}
	return out
}

package evidence

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScanForSecrets(t *testing.T) {
	secret := []byte("p&ss<word>-0123456789")
	dir := t.TempDir()
	jsonEsc, _ := json.Marshal(string(secret)) // Go escapes & < > as \u0026 \u003c \u003e
	files := map[string]string{
		"clean.txt":         "nothing to see",
		"raw.txt":           "x" + string(secret) + "y",
		"sub/escaped.json":  `{"v":` + string(jsonEsc) + `}`,
		"html.html":         "<p>p&amp;ss&lt;word&gt;-0123456789</p>",
		"b64-0.txt":         "tok." + base64.RawURLEncoding.EncodeToString(append([]byte(`{"s":"`), secret...)) + ".sig",
		"b64-1.txt":         base64.StdEncoding.EncodeToString(append([]byte("a"), secret...)),
		"b64-2.txt":         base64.StdEncoding.EncodeToString(append([]byte("ab"), secret...)),
		"redacted.json":     `{"client_secret":"[REDACTED]"}`,
		"sub/deeper/ok.txt": "p&ss",
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hits, err := ScanForSecrets(dir, [][]byte{secret, nil, []byte("")})
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, h := range hits {
		r, _ := filepath.Rel(dir, h)
		rel = append(rel, filepath.ToSlash(r))
	}
	want := "b64-0.txt b64-1.txt b64-2.txt html.html raw.txt sub/escaped.json"
	if strings.Join(rel, " ") != want {
		t.Fatalf("hits %v, want %s", rel, want)
	}
	if _, err := ScanForSecrets(filepath.Join(dir, "missing"), [][]byte{secret}); err == nil {
		t.Fatal("missing root: no error")
	}
}

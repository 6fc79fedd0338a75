package evidence

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/engine"
)

// The scan finds a secret hidden in a gzip body kept as a base64 excerpt.
func TestScanDecodesBase64AndGzipExcerpts(t *testing.T) {
	secret := []byte("a-secret-inside-gzip-0123456789")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(append(bytes.Repeat([]byte("x"), 100), secret...))
	zw.Close()
	dir := t.TempDir()
	doc := `{"body_base64": "` + base64.StdEncoding.EncodeToString(gz.Bytes()) + `"}`
	os.WriteFile(filepath.Join(dir, "case.json"), []byte(doc), 0o644)
	hits, err := ScanForSecrets(dir, [][]byte{secret})
	if err != nil || len(hits) != 1 {
		t.Fatalf("hits %v, err %v", hits, err)
	}
}

func bigOutcome(id string, n int) engine.Outcome {
	ex := &client.Exchange{Response: &client.RecordedResponse{Status: 400, Body: []byte(strings.Repeat("b", n))}}
	return engine.Outcome{ID: id, Verdict: engine.Fail, Reason: "r", Answer: "400 x", Exchanges: []*client.Exchange{ex}}
}

// The budget trims later cases' bodies once the run's cap is reached, never their verdicts, and
// never the exchanges other outcomes share.
func TestBudget(t *testing.T) {
	var b Budget
	var outs []engine.Outcome
	for i := 0; i < 40; i++ {
		o := bigOutcome("C", 256<<10)
		got := b.Take(o)
		if got.Verdict != o.Verdict || got.Reason != o.Reason || got.Answer != o.Answer {
			t.Fatal("the budget changed a verdict")
		}
		if len(o.Exchanges[0].Response.Body) != 256<<10 {
			t.Fatal("the budget changed the shared exchange")
		}
		outs = append(outs, got)
	}
	total, trimmed := 0, 0
	for _, o := range outs {
		total += len(o.Exchanges[0].Response.Body)
		if o.Exchanges[0].Response.Trimmed != "" {
			trimmed++
		}
	}
	if total > MaxRunEvidence+40*TrimmedExcerpt || trimmed == 0 || b.Trimmed() != trimmed {
		t.Errorf("kept %d bytes, trimmed %d (%d)", total, trimmed, b.Trimmed())
	}
	if got := b.Take(bigOutcome("D", MaxCaseEvidence+1)); got.Exchanges[0].Response.Trimmed == "" {
		t.Error("a case over its own cap was not trimmed")
	}
}

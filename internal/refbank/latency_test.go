package refbank_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/refbank"
)

// A bank with latency answers every request after the delay; a caller that gives up first gets
// nothing, and the request never reaches the bank's endpoints.
func TestLatencyDelaysEveryAnswer(t *testing.T) {
	p, err := profile.Get("")
	if err != nil {
		t.Fatal(err)
	}
	bank := func(d time.Duration) http.Handler {
		s, err := refbank.New(refbank.Config{Profile: p, ClientCAs: (&pki.Set{}).CAPool(), Latency: d})
		if err != nil {
			t.Fatal(err)
		}
		return s.Handler()
	}
	w := httptest.NewRecorder()
	bank(time.Millisecond).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://bank.test/.well-known/openid-configuration", nil))
	if w.Code != http.StatusOK || w.Body.Len() == 0 {
		t.Fatalf("answer after the delay: %d %q", w.Code, w.Body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w = httptest.NewRecorder()
	bank(time.Hour).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://bank.test/.well-known/openid-configuration", nil).WithContext(ctx))
	if w.Body.Len() != 0 || w.Flushed {
		t.Fatalf("a caller that gave up was answered: %q", w.Body)
	}
}

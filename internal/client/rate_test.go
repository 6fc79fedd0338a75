package client

import (
	"context"
	"errors"
	"testing"

	"github.com/dcrconform/dcrconform/internal/request"
)

// Calls under --rate take their turns; a call still waiting for its turn when the run ends is
// cut off (the exchange says Canceled, so the case is not run), never sent.
func TestRateLimitHonoursTheRun(t *testing.T) {
	if newLimiter(0) != nil || newLimiter(-1) != nil {
		t.Fatal("a rate of 0 or less must mean no limit")
	}
	var none *limiter
	if err := none.wait(context.Background()); err != nil {
		t.Fatalf("no limit: %v", err)
	}
	// One call every 1000 s: the first goes at once, the second waits until the run ends.
	l := newLimiter(0.001)
	if err := l.wait(context.Background()); err != nil {
		t.Fatalf("first call: %v", err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("interrupted")
	done := make(chan error, 1)
	go func() { done <- l.wait(ctx) }()
	cancel(stop)
	if err := <-done; !errors.Is(err, stop) {
		t.Fatalf("second call: %v, want the run's cause", err)
	}

	c := New(Options{Rate: 0.001})
	c.limit.next = c.limit.next.Add(1 << 40) // the next turn is far away
	ctx, cancel = context.WithCancelCause(context.Background())
	cancel(stop)
	ex := c.Do(ctx, &request.Prepared{Method: "POST", URL: "https://127.0.0.1:1/register", Cert: request.CertTransport})
	if ex.Failure != Canceled || ex.Response != nil {
		t.Fatalf("exchange: failure %q, response %v", ex.Failure, ex.Response)
	}
}

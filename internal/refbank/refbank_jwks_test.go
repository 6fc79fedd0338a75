package refbank_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dcrconform/dcrconform/internal/refbank"
	"github.com/dcrconform/dcrconform/internal/request"
)

// busyAfterFirstFetch makes every JWKS fetch after the first fail at the dial, as a fetch does
// when a busy machine cannot finish it within the bank's timeout. Failing at once instead of
// waiting keeps the test deterministic: it needs no slow machine and no timer.
func busyAfterFirstFetch(fetches *atomic.Int32) envOption {
	return func(c *refbank.Config) {
		inner := c.Dial
		c.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == hostOf(host.URL()) && fetches.Add(1) > 1 {
				return nil, errors.New("test dialer: the machine is too busy to finish this fetch in time")
			}
			return inner(ctx, network, addr)
		}
	}
}

// TestKeySetFetchedOncePerBank is the reproducer of the clean bank's false alarms under load
// (HP-05 or SSA-13 answered 400 "Failed to fetch public key ... timed out"): the bank fetched the
// TPP's JWKS afresh for every registration, so each request raced the fetch timeout, and on a
// busy machine some lost. Here every fetch after the first fails; concurrent and later
// registrations must still succeed, because the bank holds on to the set it fetched.
func TestKeySetFetchedOncePerBank(t *testing.T) {
	for _, name := range []string{"revolut", "obie-3.2"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var fetches atomic.Int32
			e := newEnv(t, name, busyAfterFirstFetch(&fetches))
			var wg sync.WaitGroup
			results := make([]*result, 8)
			for i := range results {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					_, results[i] = e.register(t, nil)
				}(i)
			}
			wg.Wait()
			_, later := e.register(t, nil)
			for i, r := range append(results, later) {
				if r.err != nil || r.status != e.p.SuccessStatus {
					t.Errorf("registration %d: want %d, got %v", i+1, e.p.SuccessStatus, r)
				}
			}
			if n := fetches.Load(); n != 1 {
				t.Errorf("the bank fetched the JWKS %d times for 9 registrations, want once", n)
			}
		})
	}
}

// TestUnknownKidFetchesAgain: a kid the cached set lacks sends the bank back to the JWKS (the
// TPP may have rotated its keys) before it refuses the request.
func TestUnknownKidFetchesAgain(t *testing.T) {
	e := newEnv(t, "obie-3.2")
	_, r := e.register(t, nil)
	wantSuccess(t, e.p, r)
	before := countDials(e.dials.calls(), hostOf(host.URL()))
	_, r = e.register(t, func(d *request.Draft) { d.JWTHeader["kid"] = "rotated-kid" })
	wantRejected(t, e.p.ErrorFormat, r, rejection{rfc: badMeta, ob: obSignatureInvalid, msg: "kid is not in the key set"})
	if after := countDials(e.dials.calls(), hostOf(host.URL())); after != before+1 {
		t.Errorf("JWKS fetches for an unknown kid: want 1 more than the %d before, got %d", before, after)
	}
	_, r = e.register(t, nil)
	wantSuccess(t, e.p, r)
}

// TestFailedFetchNotKept: an unreachable JWKS is asked again by the next request, so a bank
// never answers from a remembered outage.
func TestFailedFetchNotKept(t *testing.T) {
	e := newEnv(t, "revolut")
	for i := 0; i < 2; i++ {
		_, r := e.register(t, func(d *request.Draft) { setJWKSURL(d, e.p, host.ClosedURL()) })
		wantRejected(t, e.p.ErrorFormat, r, rejection{ob: obFieldInvalid, msg: "Failed to fetch public key"})
	}
	if n := countDials(e.dials.calls(), hostOf(host.ClosedURL())); n != 2 {
		t.Errorf("fetches of an unreachable JWKS for two requests: want 2, got %d", n)
	}
}

func countDials(calls []string, addr string) int {
	n := 0
	for _, c := range calls {
		if c == addr {
			n++
		}
	}
	return n
}

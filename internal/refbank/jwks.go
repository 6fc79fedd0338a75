package refbank

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dcrconform/dcrconform/internal/jose"
)

// DialFunc opens a TCP connection; tests and embedded runs inject one that never leaves the machine.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// keySetTTL is how long a fetched key set is trusted without fetching it again. A bank that
// fetched the TPP's JWKS for every registration would put a network round trip, and its timeout,
// in the path of every request; real ASPSPs cache the set and fetch again when a kid is unknown
// (key rotation), and so does this one.
const keySetTTL = 5 * time.Minute

// fetcher retrieves TPP key sets. Names under .invalid fail at once without asking any resolver
// (RFC 6761 6.4): a conformance run must never leak a lookup for its own probe.
//
// A set fetched successfully is kept per URL for keySetTTL, and requests that need the same URL
// while a fetch is under way wait for that one fetch rather than starting their own. Failures are
// never kept: an unreachable JWKS is asked again by the next request, so every probe of an
// unreachable endpoint meets the fetch and its timeout afresh.
type fetcher struct {
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	cache   map[string]cachedSet
	pending map[string]*pendingFetch
}

type cachedSet struct {
	set   *jose.KeySet
	until time.Time
}

// pendingFetch is one fetch in flight and the requests waiting on it. It runs on its own context,
// bounded by the fetch timeout, and is cancelled only when every waiter has given up, so the
// first requester's client hanging up cannot fail the others.
type pendingFetch struct {
	done    chan struct{}
	set     *jose.KeySet
	err     error
	waiters int
	cancel  context.CancelFunc
}

func newFetcher(roots *x509.CertPool, dial DialFunc, timeout time.Duration, now func() time.Time) *fetcher {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	guarded := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if h := strings.ToLower(strings.TrimSuffix(host, ".")); h == "invalid" || strings.HasSuffix(h, ".invalid") {
			return nil, &net.DNSError{Err: "no such host (reserved .invalid name)", Name: host, IsNotFound: true}
		}
		return dial(ctx, network, addr)
	}
	if now == nil {
		now = time.Now
	}
	return &fetcher{now: now, cache: map[string]cachedSet{}, pending: map[string]*pendingFetch{}, client: &http.Client{
		Timeout: timeout, // zero (the no-timeout fault) means none
		Transport: &http.Transport{
			DialContext:       guarded,
			TLSClientConfig:   &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("JWKS endpoint redirected") },
	}}
}

// keySet returns the key set at raw: the cached one while it is fresh (cached reports that), else
// the result of one fetch shared with every request that asks meanwhile. fresh skips the cache,
// for a kid the cached set does not hold.
func (f *fetcher) keySet(ctx context.Context, raw string, fresh bool) (set *jose.KeySet, cached bool, err error) {
	f.mu.Lock()
	if c, ok := f.cache[raw]; ok && !fresh && f.now().Before(c.until) {
		f.mu.Unlock()
		return c.set, true, nil
	}
	p, ok := f.pending[raw]
	if !ok {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		p = &pendingFetch{done: make(chan struct{}), cancel: cancel}
		f.pending[raw] = p
		go f.run(fctx, raw, p)
	}
	p.waiters++
	f.mu.Unlock()
	select {
	case <-p.done:
		return p.set, false, p.err
	case <-ctx.Done():
		f.mu.Lock()
		p.waiters--
		if p.waiters == 0 {
			// Nobody wants this fetch any more: stop it, and let the next request start its
			// own rather than join one that is being cancelled.
			p.cancel()
			if f.pending[raw] == p {
				delete(f.pending, raw)
			}
		}
		f.mu.Unlock()
		return nil, false, ctx.Err()
	}
}

// run makes a shared fetch, keeps its set if it got one, and releases the waiters.
func (f *fetcher) run(ctx context.Context, raw string, p *pendingFetch) {
	defer p.cancel()
	set, err := f.fetch(ctx, raw)
	f.mu.Lock()
	if f.pending[raw] == p {
		delete(f.pending, raw)
	}
	if err == nil {
		f.cache[raw] = cachedSet{set: set, until: f.now().Add(keySetTTL)}
	}
	p.set, p.err = set, err
	f.mu.Unlock()
	close(p.done)
}

// fetch GETs a JWKS and parses it. Only https URLs are fetched: OBIE requires the JWKS to be
// served over TLS, and a plain-http key set could be swapped in transit.
func (f *fetcher) fetch(ctx context.Context, raw string) (*jose.KeySet, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, errors.New("not a URL")
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("scheme %q is not https", u.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return jose.ParseKeySet(body)
}

package client

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// handshakeRecord is what one connection's TLS handshake saw. A call on a reused connection
// makes no handshake, so the trace of that call cannot see it; the record can.
type handshakeRecord struct {
	version       uint16
	certRequested atomic.Bool
}

// recordedConn is a TLS connection of the keep-alive client with its handshake's record. It is
// its own type, so net/http treats it as a plain connection (HTTP/1.1, as every other client of
// the run speaks) and the trace finds the record on it.
type recordedConn struct {
	*tls.Conn
	rec *handshakeRecord
}

func handshakeOf(c net.Conn) *handshakeRecord {
	if rc, ok := c.(*recordedConn); ok {
		return rc.rec
	}
	return nil
}

// idleTimeout is how long a kept-alive connection may wait for its next call. It is well below
// the idle timeouts servers and load balancers use (60 s and more), so the harness, not the
// bank, closes an idle connection: a POST is never sent on a connection the bank has just
// dropped, which would look like a reset after the handshake.
const idleTimeout = 5 * time.Second

// keepAlive turns hc into a client that reuses its connections. It makes each handshake itself
// (with the same configuration and the same timeout) so that it can record, per connection,
// the negotiated version and whether the server asked for a client certificate.
func keepAlive(hc *http.Client, timeout time.Duration) *http.Client {
	tr := hc.Transport.(*http.Transport)
	base := tr.TLSClientConfig
	dialer := &net.Dialer{Timeout: timeout}
	tr.DisableKeepAlives = false
	tr.IdleConnTimeout = idleTimeout
	tr.MaxIdleConnsPerHost = 64
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			raw.Close()
			return nil, err
		}
		rec := &handshakeRecord{}
		cfg := base.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		ask := base.GetClientCertificate
		cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			rec.certRequested.Store(true)
			return ask(cri)
		}
		hctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(hctx); err != nil {
			raw.Close()
			return nil, err
		}
		rec.version = tc.ConnectionState().Version
		return &recordedConn{Conn: tc, rec: rec}, nil
	}
	return hc
}

// CloseIdleConnections closes the connections kept alive for later calls. A run calls it before
// it stops a loopback bank: a server's graceful shutdown waits for connections that never
// carried a request, and the transport may have dialled one that a reused connection made
// unnecessary.
func (c *Client) CloseIdleConnections() {
	for _, hc := range c.clients {
		hc.CloseIdleConnections()
	}
}

// limiter spaces calls evenly at a fixed rate. Calls reserve their turn in order, so concurrent
// cases share the rate instead of each having its own.
type limiter struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

// newLimiter returns a limiter for rate calls a second, or nil (no limit) for rate <= 0.
func newLimiter(rate float64) *limiter {
	if rate <= 0 {
		return nil
	}
	return &limiter{every: time.Duration(float64(time.Second) / rate)}
}

// wait blocks until the caller's turn, or until ctx ends (an interrupt, the run deadline), which
// it returns as an error so the call is reported as cut off, never as sent.
func (l *limiter) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if l == nil {
		return nil
	}
	l.mu.Lock()
	now := time.Now()
	turn := l.next
	if turn.Before(now) {
		turn = now
	}
	l.next = turn.Add(l.every)
	l.mu.Unlock()
	d := time.Until(turn)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

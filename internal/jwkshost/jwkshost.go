// Package jwkshost serves the TPP's public JWKS over HTTPS on a loopback port, and offers the
// broken variants the unreachable-JWKS cases need: a closed port, a blackhole (accepts the
// connection and never answers), a 404 and an HTML page.
package jwkshost

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Host is a running JWKS host. Every URL it hands out is on a loopback address.
type Host struct {
	srv       *http.Server
	ln        net.Listener
	blackhole net.Listener
	closed    string
	// path is where this host serves its key set: PathJWKS and a random token. A bank caches
	// key sets by URL, and a long-lived bank (serve, a real sandbox) outlives runs: a probe of
	// a later run that lands on a port an earlier run's host had (the closed port, the
	// blackhole) must never name a URL the bank holds a cached, valid key set for.
	path string

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

// Paths served by the host.
const (
	PathJWKS     = "/jwks"
	PathNotFound = "/missing"
	PathHTML     = "/html"
)

// Start serves jwks on addr (e.g. "127.0.0.1:0") with the given TLS certificate. Only loopback
// addresses are accepted: the host exists for the machine it runs on.
func Start(addr string, jwks []byte, cert tls.Certificate) (*Host, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := requireLoopback(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("JWKS host: listen %s: %w", addr, err)
	}
	bh, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("JWKS host: blackhole listener: %w", err)
	}
	closed, err := closedPort()
	if err != nil {
		ln.Close()
		bh.Close()
		return nil, err
	}
	token := make([]byte, 9)
	if _, err := rand.Read(token); err != nil {
		ln.Close()
		bh.Close()
		return nil, err
	}
	path := PathJWKS + "/" + hex.EncodeToString(token)
	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	})
	mux.HandleFunc(PathHTML, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>not a key set</body></html>"))
	})
	h := &Host{
		srv: &http.Server{
			Handler:           mux,
			TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
			ReadHeaderTimeout: 5 * time.Second,
			ErrorLog:          quietLog(),
		},
		ln:        ln,
		blackhole: bh,
		closed:    closed,
		path:      path,
	}
	go func() { _ = h.srv.ServeTLS(ln, "", "") }()
	h.wg.Add(1)
	go h.swallow()
	return h, nil
}

// swallow accepts blackhole connections and holds them open without reading or writing, so a
// client waits until its own timeout: the failure mode of a firewalled or hung JWKS server.
func (h *Host) swallow() {
	defer h.wg.Done()
	for {
		c, err := h.blackhole.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		h.conns = append(h.conns, c)
		h.mu.Unlock()
	}
}

func (h *Host) base() string { return "https://" + h.ln.Addr().String() }

// URL is where the JWKS is served.
func (h *Host) URL() string { return h.base() + h.path }

// NotFoundURL answers 404.
func (h *Host) NotFoundURL() string { return h.base() + PathNotFound }

// HTMLURL answers 200 with an HTML page instead of a key set.
func (h *Host) HTMLURL() string { return h.base() + PathHTML }

// BlackholeURL accepts TCP connections and never answers.
func (h *Host) BlackholeURL() string { return "https://" + h.blackhole.Addr().String() + h.path }

// ClosedURL names a loopback port that was free when the host started and on which nothing
// listens: connections are refused at once.
func (h *Host) ClosedURL() string { return "https://" + h.closed + h.path }

// InvalidURL names a host under the reserved .invalid TLD (RFC 6761 6.4), which never resolves.
// It is the only unreachable form that is safe to send to a remote bank.
func InvalidURL() string { return "https://jwks.dcrconform.invalid/jwks" }

// Close stops the host and drops every held connection.
func (h *Host) Close() error {
	err := h.srv.Close()
	h.blackhole.Close()
	h.wg.Wait()
	h.mu.Lock()
	for _, c := range h.conns {
		c.Close()
	}
	h.conns = nil
	h.mu.Unlock()
	return err
}

func closedPort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("JWKS host: find a closed port: %w", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr, nil
}

func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("JWKS host: address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return errors.New("JWKS host: listen address must be loopback (127.0.0.0/8, ::1 or localhost), got " + host)
	}
	return nil
}

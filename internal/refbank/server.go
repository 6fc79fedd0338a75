// Package refbank is the embedded reference bank: a conformant DCR server for each profile, on
// loopback, with named fault switches. It is the default target (a new user sees a green run
// with no bank at hand) and the harness's proving ground: every conformance case must fail
// against some fault and pass against the clean bank.
//
// Its validation is general and profile-driven. It never imports the catalogue and never keys on
// the harness's probe values, or the fault matrix would prove nothing.
package refbank

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/dcrconform/dcrconform/internal/profile"
)

// Config sets up a reference bank.
type Config struct {
	Profile profile.Profile
	// Addr is the loopback listen address; "" picks 127.0.0.1 with an ephemeral port.
	Addr string
	// Cert is the bank's TLS server certificate.
	Cert tls.Certificate
	// ClientCAs verifies TPP transport certificates.
	ClientCAs *x509.CertPool
	// JWKSRoots verifies the TLS certificates of TPP JWKS endpoints.
	JWKSRoots *x509.CertPool
	// Directory is the public key of the SSA issuer the bank trusts (nil: none trusted).
	Directory crypto.PublicKey
	// Audiences are the values accepted in the request's aud (the bank's own identifiers).
	Audiences []string
	// Issuer is the bank's issuer identifier.
	Issuer string
	// JWKSTimeout bounds a JWKS fetch (default 2s).
	JWKSTimeout time.Duration
	// Dial opens connections for JWKS fetches (default net.Dialer).
	Dial DialFunc
	// Skew is the clock tolerance for exp and iat (default 60s).
	Skew time.Duration
	// MaxBody is the largest request body read (default 64 KiB); larger ones get 413.
	MaxBody int64
	// Faults are the fault switches that are on.
	Faults map[string]bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Latency delays every response by this long, like a bank far away or under load, so the
	// harness's concurrency can be measured against it (serve --latency, make bench). The TLS
	// handshake is not delayed.
	Latency time.Duration
	// AllowNonLoopback lets Addr be any address, for a bank run as a CI service; without it a
	// non-loopback address is refused, so a stray flag never exposes a deliberately faulty bank.
	AllowNonLoopback bool
	// NoDelete makes the bank one that does not offer DELETE /register/{ClientId} (optional
	// in OBIE): it answers 405.
	NoDelete bool
	// DiscoveryAddr, when set, is a loopback address where the bank also serves its discovery
	// document over plain TLS with no client certificate asked, as banks with a separate mTLS
	// host do (and as the peer tool OpenBankingUK/conformance-dcr fetches it). "" picks
	// 127.0.0.1 with an ephemeral port; "-" serves none.
	DiscoveryAddr string
}

// Server is a running reference bank.
type Server struct {
	cfg     Config
	jwks    *fetcher
	ln      net.Listener
	srv     *http.Server
	disc    *http.Server
	discLn  net.Listener
	mu      sync.Mutex
	clients map[string]map[string]any
	tokens  map[string]*token
	jtis    map[string]time.Time
	// firstIDs maps a software statement to the client_id first issued for it, for the
	// reuse-client-id fault.
	firstIDs map[string]string
}

// Start validates cfg and serves the bank on loopback.
func Start(cfg Config) (*Server, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if host, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("reference bank: address %q: %v", addr, err)
	} else if ip := net.ParseIP(host); !cfg.AllowNonLoopback && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("reference bank: listen address must be loopback (127.0.0.1, ::1 or localhost), got %q; --allow-non-loopback runs it on another address", host)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("reference bank: listen %s: %w", addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         s.tlsConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = s.srv.ServeTLS(ln, "", "") }()
	if cfg.DiscoveryAddr != "-" {
		if err := s.serveDiscovery(cfg.DiscoveryAddr); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// serveDiscovery starts the plain-TLS listener that serves only the discovery document.
func (s *Server) serveDiscovery(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("reference bank: discovery listen %s: %w", addr, err)
	}
	s.discLn = ln
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", s.discovery)
	s.disc = &http.Server{
		Handler:           delayed(mux, s.cfg.Latency),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{s.cfg.Cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = s.disc.ServeTLS(ln, "", "") }()
	return nil
}

// DiscoveryURL is the discovery document on the plain-TLS listener ("" when none is served).
func (s *Server) DiscoveryURL() string {
	if s.discLn == nil {
		return ""
	}
	return "https://" + s.discLn.Addr().String() + "/.well-known/openid-configuration"
}

// TokenURL is the token endpoint.
func (s *Server) TokenURL() string { return s.URL() + "/token" }

// New builds a bank without listening, for tests that drive Handler directly.
func New(cfg Config) (*Server, error) {
	if cfg.Profile.Name == "" {
		return nil, errors.New("reference bank: no profile")
	}
	if cfg.ClientCAs == nil {
		return nil, errors.New("reference bank: no client CA pool")
	}
	if cfg.JWKSTimeout == 0 {
		cfg.JWKSTimeout = 2 * time.Second
	}
	if cfg.Skew == 0 {
		cfg.Skew = time.Minute
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 64 << 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Faults == nil {
		cfg.Faults = map[string]bool{}
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "dcrconform-refbank"
	}
	timeout := cfg.JWKSTimeout
	if cfg.Faults[FaultJWKSNoTimeout] {
		timeout = 0
	}
	return &Server{
		cfg:      cfg,
		jwks:     newFetcher(cfg.JWKSRoots, cfg.Dial, timeout, cfg.Now),
		clients:  map[string]map[string]any{},
		tokens:   map[string]*token{},
		jtis:     map[string]time.Time{},
		firstIDs: map[string]string{},
	}, nil
}

func (s *Server) tlsConfig() *tls.Config {
	auth := tls.RequireAndVerifyClientCert
	clientCAs := s.cfg.ClientCAs
	switch {
	case s.fault(FaultAcceptUntrustedCert):
		auth = tls.RequireAnyClientCert
		// Advertise no acceptable CAs: a client (Go's among them) only offers a certificate
		// from an advertised CA, so listing them would keep the untrusted one from ever arriving.
		clientCAs = nil
	case s.fault(FaultAcceptNoClientCert):
		auth = tls.VerifyClientCertIfGiven
	case s.fault(FaultManageNoCert):
		// Certificates are asked for but neither required nor verified by the handshake: the
		// handlers decide, and the management handler of this faulty bank does not.
		auth = tls.RequestClientCert
	}
	minTLS := uint16(tls.VersionTLS12)
	if s.fault(FaultLegacyTLS) {
		minTLS = tls.VersionTLS10
	}
	return &tls.Config{
		Certificates: []tls.Certificate{s.cfg.Cert},
		ClientCAs:    clientCAs,
		ClientAuth:   auth,
		MinVersion:   minTLS,
	}
}

// URL is the bank's base URL.
func (s *Server) URL() string { return "https://" + s.ln.Addr().String() }

// RegistrationURL is the POST /register endpoint.
func (s *Server) RegistrationURL() string { return s.URL() + "/register" }

// Close stops the bank.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if s.disc != nil {
		if err := s.disc.Shutdown(ctx); err != nil {
			s.disc.Close()
		}
	}
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
}

// Handler serves the bank's endpoints, each response delayed by the configured latency.
func (s *Server) Handler() http.Handler {
	return delayed(s.handler(), s.cfg.Latency)
}

// delayed holds every request for d before h handles it; a caller that gives up (or a bank
// that is shut down) ends the wait.
func delayed(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/register", s.register)
	mux.HandleFunc("/register/", s.manage)
	mux.HandleFunc("/token", s.tokenEndpoint)
	mux.HandleFunc("/.well-known/openid-configuration", s.discovery)
	return mux
}

func (s *Server) fault(name string) bool { return s.cfg.Faults[name] }

// Clients returns how many clients are registered.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	// The endpoints are on the mTLS host whichever listener serves the document.
	base := "https://" + r.Host
	if s.ln != nil {
		base = s.URL()
	}
	doc := map[string]any{
		"issuer":                   base,
		"registration_endpoint":    base + "/register",
		"token_endpoint":           base + "/token",
		"grant_types_supported":    []string{"client_credentials", "authorization_code", "refresh_token"},
		"response_types_supported": []string{"code id_token", "code"},
		"token_endpoint_auth_signing_alg_values_supported": s.cfg.Profile.ResponseAlgs,
		"token_endpoint_auth_methods_supported":            s.cfg.Profile.AuthMethods,
		"request_object_signing_alg_values_supported":      s.cfg.Profile.ResponseAlgs,
		"id_token_signing_alg_values_supported":            s.cfg.Profile.ResponseAlgs,
		"tls_client_certificate_bound_access_tokens":       true,
	}
	s.bendDiscovery(doc)
	writeJSON(w, http.StatusOK, doc)
}

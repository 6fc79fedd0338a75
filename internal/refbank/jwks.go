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
	"time"

	"github.com/dcrconform/dcrconform/internal/jose"
)

// DialFunc opens a TCP connection; tests and embedded runs inject one that never leaves the machine.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// fetcher retrieves TPP key sets. Names under .invalid fail at once without asking any resolver
// (RFC 6761 6.4): a conformance run must never leak a lookup for its own probe.
type fetcher struct {
	client *http.Client
}

func newFetcher(roots *x509.CertPool, dial DialFunc, timeout time.Duration) *fetcher {
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
	return &fetcher{client: &http.Client{
		Timeout: timeout, // zero (the no-timeout fault) means none
		Transport: &http.Transport{
			DialContext:       guarded,
			TLSClientConfig:   &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("JWKS endpoint redirected") },
	}}
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

package harness

import (
	"context"
	"crypto"
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

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/printable"
)

// DefaultPreflightTimeout bounds each preflight step: the TLS handshake, the JWKS fetch and the
// control registration. A silent target then ends the run in seconds, not a timeout per case.
const DefaultPreflightTimeout = 10 * time.Second

// maxJWKS caps the published key set the preflight reads.
const maxJWKS = 1 << 20

// PreflightError is a problem with the user's setup or with the path to the target, found
// before any case ran: the run cannot be made (exit 2). Its message names the fix.
type PreflightError struct {
	Step string
	Msg  string
}

func (e *PreflightError) Error() string { return "preflight (" + e.Step + "): " + e.Msg }

func preflightErr(step, format string, args ...any) error {
	return &PreflightError{Step: step, Msg: fmt.Sprintf(format, args...)}
}

// Preflight checks, before any case, everything whose failure would otherwise be reported as
// the bank's: the client certificates' dates and key usage, a TLS handshake that verifies the
// target's server certificate against the configured roots, the published JWKS (with jwks.url:
// the kid is there and is the public half of the signing key), and a control registration, the
// valid happy-path request. A target that does not answer, or has no registration endpoint at
// the URL (404, 405), stops the run. A control registration that is answered but not accepted
// does not: the run goes on, HP-01 fails with the bank's words, and every rejection case is
// inconclusive. The returned notes are for the console.
func (r *Run) Preflight(ctx context.Context, timeout time.Duration) (notes []string, err error) {
	if timeout <= 0 {
		timeout = DefaultPreflightTimeout
	}
	now := time.Now()
	if err := checkClientCert("transport.cert", r.transportLeaf, now); err != nil {
		return nil, err
	}
	if r.untrustedConfigured {
		if err := checkClientCert("transport.untrusted_cert", r.untrustedLeaf, now); err != nil {
			return nil, err
		}
	}
	if err := r.handshake(ctx, timeout); err != nil {
		return nil, err
	}
	if r.jwksURL != "" {
		if err := r.checkJWKS(ctx, timeout); err != nil {
			return nil, err
		}
	}
	return r.control(ctx, timeout)
}

// checkClientCert checks a client certificate's validity dates and that it may be used for TLS
// client authentication.
func checkClientCert(field string, c *x509.Certificate, now time.Time) error {
	if c == nil {
		return nil
	}
	who := fmt.Sprintf("%s (subject %q)", field, c.Subject.String())
	switch {
	case now.Before(c.NotBefore):
		return preflightErr("certificates", "%s is not valid until %s; use a certificate that is valid now (or check this machine's clock)", who, c.NotBefore.UTC().Format(time.RFC3339))
	case now.After(c.NotAfter):
		return preflightErr("certificates", "%s expired on %s; renew it and point %s at the new file", who, c.NotAfter.UTC().Format(time.RFC3339), field)
	case c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageDigitalSignature == 0:
		return preflightErr("certificates", "%s has no digitalSignature key usage, which a TLS client certificate needs; issue one with it", who)
	}
	if len(c.ExtKeyUsage) > 0 {
		for _, u := range c.ExtKeyUsage {
			if u == x509.ExtKeyUsageClientAuth || u == x509.ExtKeyUsageAny {
				return nil
			}
		}
		return preflightErr("certificates", "%s is not for TLS client authentication (its extended key usage lacks clientAuth); issue one for client auth", who)
	}
	return nil
}

// handshake connects to the target and verifies its server certificate against the roots,
// naming the certificate and the verification error when it does not verify.
func (r *Run) handshake(ctx context.Context, timeout time.Duration) error {
	u, err := url.Parse(r.Target)
	if err != nil || u.Host == "" {
		return preflightErr("target", "registration endpoint %q is not an absolute URL", r.Target)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "443")
	}
	var chain []*x509.Certificate
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: &tls.Config{
		ServerName: u.Hostname(), MinVersion: tls.VersionTLS12,
		// Verified below by hand, so that a failure can name the certificate it is about.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			chain = cs.PeerCertificates
			return nil
		},
		Certificates: []tls.Certificate{r.transportTLS},
	}}
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := d.DialContext(hctx, "tcp", addr)
	if conn != nil {
		defer conn.Close()
	}
	if len(chain) > 0 {
		if verr := verifyServer(chain, r.roots, u.Hostname()); verr != nil {
			where := "the system roots"
			if r.Files.CACert != "" {
				where = "target.ca_bundle " + r.Files.CACert
			}
			return preflightErr("server certificate", "the certificate of %s (subject %q, issued by %q) does not verify against %s: %v; set target.ca_bundle to the CA that issued it",
				addr, chain[0].Subject.String(), chain[0].Issuer.String(), where, verr)
		}
	}
	if err != nil {
		var ne net.Error
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case client.IsRemoteAlert(err):
			return preflightErr("tls", "the target %s refused the TLS handshake (%v); check that transport.cert is issued by a CA the bank trusts", addr, err)
		case errors.As(err, &ne) && ne.Timeout():
			return preflightErr("tls", "the target %s did not complete a TLS handshake within %s; check the URL and port, or whether a firewall holds the connection", addr, timeout)
		case len(chain) == 0 && isDialError(err):
			return preflightErr("target", "the target %s is unreachable: %v; check target.registration_endpoint", addr, err)
		default:
			return preflightErr("tls", "the TLS handshake with %s failed: %v", addr, err)
		}
	}
	return nil
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func verifyServer(chain []*x509.Certificate, roots *x509.CertPool, host string) error {
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: host})
	return err
}

// checkJWKS fetches the key set the bank will fetch and checks that it publishes the signing
// key's public half under the configured kid.
func (r *Run) checkJWKS(ctx context.Context, timeout time.Duration) error {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if r.Files.CACert != "" {
		if extra, err := pki.LoadCertificates(r.Files.CACert); err == nil {
			for _, c := range extra {
				pool.AddCert(c)
			}
		}
	}
	hc := &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.jwksURL, nil)
	if err != nil {
		return preflightErr("jwks", "jwks.url %q: %v", r.jwksURL, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return preflightErr("jwks", "could not fetch jwks.url %s: %v; the bank will not be able to either", r.jwksURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKS+1))
	if err != nil {
		return preflightErr("jwks", "reading jwks.url %s: %v", r.jwksURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return preflightErr("jwks", "jwks.url %s answered %d, not the key set", r.jwksURL, resp.StatusCode)
	}
	if len(body) > maxJWKS {
		return preflightErr("jwks", "jwks.url %s serves more than %d bytes; that is not a key set", r.jwksURL, maxJWKS)
	}
	set, err := jose.ParseKeySet(body)
	if err != nil {
		return preflightErr("jwks", "jwks.url %s: %v", r.jwksURL, err)
	}
	kid := r.Env.Identity.Signing.Kid
	pub, err := set.PublicKey(kid)
	if err != nil {
		return preflightErr("jwks", "signing.kid %q is not in the key set at %s (it holds %s); publish the signing key under that kid, or set signing.kid to the kid it has",
			printable.String(kid, 80), r.jwksURL, printable.String(strings.Join(set.Kids(), ", "), 200))
	}
	own := crypto.PublicKey(&r.Env.Identity.Signing.Key.PublicKey)
	if eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(own) {
		return preflightErr("jwks", "the key published at %s under kid %q is not the public half of signing.key; publish the right key or point signing.key at its private half",
			r.jwksURL, printable.String(kid, 80))
	}
	// With an EC key configured, JWS-04 signs under its derived kid: a set without it would
	// make the bank refuse ES256 for the wrong reason, and the case pass for nothing.
	if ec := r.Env.Identity.Signing.EC; ec != nil {
		ecKid := r.Env.Identity.Signing.ECKid()
		pub, err := set.PublicKey(ecKid)
		eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
		if err != nil || !ok || !eq.Equal(&ec.PublicKey) {
			return preflightErr("jwks", "signing.ec_key is set, but the key set at %s does not publish its public half under kid %q; publish it there, or drop signing.ec_key",
				r.jwksURL, printable.String(ecKid, 100))
		}
	}
	return nil
}

// control sends the control registration and stops the run when the target does not answer it
// or has no registration endpoint at the URL.
func (r *Run) control(ctx context.Context, timeout time.Duration) ([]string, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctrl, ex := r.Env.Control(cctx)
	if ex == nil {
		return nil, preflightErr("control registration", "%s", ctrl.Answer)
	}
	if ex.Response == nil {
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case ex.Failure == client.Canceled || ex.Failure == client.Timeout:
			return nil, preflightErr("control registration", "the target did not answer a valid registration request within %s; check that %s is the registration endpoint and that the bank is up (or raise --preflight-timeout)", timeout, r.Target)
		case ex.Failure == client.TLSAlert || ex.Failure == client.HandshakeReset:
			return nil, preflightErr("control registration", "the target refused the transport certificate (%s); check that transport.cert is issued by a CA the bank trusts and registered with it", printable.String(ex.Error, 200))
		case ex.Failure.NoAnswer() || ex.Failure.HarnessSide():
			return nil, preflightErr("control registration", "a valid registration request got no HTTP response: %s (%s)", ex.Failure.Describe(), printable.String(ex.Error, 200))
		default:
			// The target answered, with something that is not HTTP (garbage, a reset, headers
			// past the cap): that is the bank's to answer for, so the run goes on and reports it.
			return []string{"the control registration (a valid request) got no HTTP response: " + ex.Failure.Describe() +
				" (" + printable.String(ex.Error, 200) + "); every rejection case is inconclusive"}, nil
		}
	}
	switch ex.Response.Status {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return nil, preflightErr("control registration", "no registration endpoint at %s: a valid POST was answered %d; check target.registration_endpoint", r.Target, ex.Response.Status)
	}
	if !ctrl.Accepted {
		return []string{"the control registration (a valid request) was not accepted: " + ctrl.Answer +
			"; HP-01 will fail, and every rejection case is inconclusive, since a refusal proves nothing while the valid request is refused too"}, nil
	}
	return nil, nil
}

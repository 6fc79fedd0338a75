// Package harness sets up one conformance run: it turns the configuration (or, with none, the
// embedded reference bank) into the fixtures, target, client and case list the engine needs,
// and tears them down afterwards.
package harness

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/config"
	"github.com/dcrconform/dcrconform/internal/contract"
	"github.com/dcrconform/dcrconform/internal/engine"
	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/jwkshost"
	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/refbank"
	"github.com/dcrconform/dcrconform/internal/request"
	"github.com/dcrconform/dcrconform/internal/safefile"
)

// Options choose the run.
type Options struct {
	// ConfigPath is the target config; empty runs against the embedded reference bank.
	ConfigPath string
	// Profile overrides the config's profile (or picks the embedded bank's).
	Profile string
	// WorkDir holds the run's private keys, outside reports/ (default .dcrconform).
	WorkDir string
	// Strict fails the run on failed SHOULD cases.
	Strict bool
	// Faults switches the embedded bank into non-conformant behaviour (tests, demos).
	Faults []string
	// NoDelete starts the embedded bank without DELETE /register/{ClientId} (optional in OBIE).
	NoDelete bool
	// JWKSTimeout is the embedded bank's JWKS fetch timeout (default 2s).
	JWKSTimeout time.Duration
	// RequestTimeout bounds each call to the embedded bank (default 15s, at least 4x JWKSTimeout).
	RequestTimeout time.Duration
	// Keys reuses a key set instead of generating one (tests and the fault matrix make keys once).
	Keys *pki.Set
	// KeyDir, with Keys, is where those keys are already written; the run then does not write
	// them again (the fault matrix starts hundreds of runs from one key set).
	KeyDir string
	// Latency delays every answer of the embedded bank (serve --latency; benchmarks).
	Latency time.Duration
	// Rate, when above 0, bounds the run's calls to that many a second (--rate), the control
	// registration and every case's calls alike.
	Rate float64
}

// Run is a prepared run.
type Run struct {
	Env      *engine.Env
	Profile  profile.Profile
	Target   string
	Embedded bool
	// Files are the paths of the run's certificates and keys, for reproduction commands.
	Files Files
	// ConfigProfile is the profile the config file names (before any --profile override).
	ConfigProfile string
	// Effective is the configuration in use, for the console ("" lines for the embedded bank).
	Effective []string
	// RequestTimeout bounds each call of the run.
	RequestTimeout time.Duration
	closers        []func()

	// bank is the embedded reference bank, when the run started one.
	bank *refbank.Server

	// What the preflight checks.
	transportLeaf, untrustedLeaf *x509.Certificate
	untrustedConfigured          bool
	transportTLS                 tls.Certificate
	roots                        *x509.CertPool
	jwksURL                      string
}

// Files are paths of a run's TLS material; empty where the run has no file for it.
type Files struct {
	CACert, TransportCert, TransportKey, UntrustedCert, UntrustedKey string
}

// Fingerprint is a SHA-256 over the run's effective configuration with secrets left out (key
// material is named by its kid and certificate subject only), so a report can say which setup
// produced it.
func (r *Run) Fingerprint() string {
	id := r.Env.Identity
	caps := []string{}
	for c, on := range r.Env.Caps {
		if on {
			caps = append(caps, string(c))
		}
	}
	sort.Strings(caps)
	doc, _ := json.Marshal(map[string]any{
		"target": r.Target, "profile": r.Profile.Name, "embedded": r.Embedded, "ssa_mode": id.SSAMode,
		"jwks_url": id.JWKSURL, "aud": id.Aud, "iss": id.Iss, "software_id": id.SoftwareID,
		"redirect_uris": id.RedirectURIs, "dn": id.DN, "scope": id.Scope, "kid": id.Signing.Kid,
		"capabilities": caps, "strict": r.Env.Strict,
	})
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:])
}

// BankClients is how many clients the embedded reference bank holds (-1 for a configured
// target): what a run left behind.
func (r *Run) BankClients() int {
	if r.bank == nil {
		return -1
	}
	return r.bank.Clients()
}

// Close stops whatever the run started.
func (r *Run) Close() {
	// Kept-alive connections first: a bank's graceful shutdown would wait for them.
	if r.Env != nil && r.Env.Client != nil {
		r.Env.Client.CloseIdleConnections()
	}
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	r.closers = nil
}

// Defaults for claims when the harness makes the TPP itself.
const (
	DefaultIss        = "dcrconformTPP0001"
	DefaultClientName = "dcrconform test TPP"
)

// DefaultRedirectURIs are the embedded TPP's redirect URIs; they are never contacted.
var DefaultRedirectURIs = []string{"https://tpp.dcrconform.example/callback", "https://tpp.dcrconform.example/callback-2"}

// DefaultAud is the bank identifier the embedded TPP addresses, per profile.
func DefaultAud(p profile.Profile) string {
	if p.Name == profile.Default {
		return "revolut"
	}
	return "0015800000dcrASPSP"
}

// Prepare builds the run. Any error means the run cannot be made (exit 2).
func Prepare(ctx context.Context, o Options) (*Run, error) {
	if o.WorkDir == "" {
		o.WorkDir = ".dcrconform"
	}
	if o.ConfigPath == "" {
		return prepareEmbedded(o)
	}
	if len(o.Faults) > 0 {
		return nil, errors.New("--fault applies to the embedded reference bank only; start `dcrconform serve --fault` for a faulty target")
	}
	return prepareConfigured(ctx, o)
}

func prepareEmbedded(o Options) (*Run, error) {
	p, err := profile.Get(o.Profile)
	if err != nil {
		return nil, err
	}
	faults, err := refbank.ParseFaults(o.Faults, p.Name)
	if err != nil {
		return nil, err
	}
	// A fault of a bank without DELETE makes the bank one: its case applies to no other.
	noDelete := o.NoDelete
	for name := range faults {
		if f, ok := refbank.LookupFault(name); ok && f.NoDelete {
			noDelete = true
		}
	}
	keys, keyDir := o.Keys, o.KeyDir
	switch {
	case keys == nil:
		// The loopback key set is kept in the work directory and reused by later runs: making
		// it was the largest cost of a run that is not signing, handshaking or judging.
		if keys, keyDir, err = pki.LoadOrGenerate(filepath.Join(o.WorkDir, "keys")); err != nil {
			return nil, fmt.Errorf("test PKI: %w", err)
		}
	case keyDir == "":
		keyDir = filepath.Join(o.WorkDir, "keys")
		if err := keys.WriteDir(keyDir); err != nil {
			return nil, err
		}
	}
	run := &Run{Profile: p, Embedded: true}
	run.Files = Files{
		CACert:        filepath.Join(keyDir, pki.Files.CA),
		TransportCert: filepath.Join(keyDir, pki.Files.Transport), TransportKey: filepath.Join(keyDir, pki.Files.TransportKey),
		UntrustedCert: filepath.Join(keyDir, pki.Files.Untrusted), UntrustedKey: filepath.Join(keyDir, pki.Files.UntrustedKey),
	}
	host, err := startJWKSHost("127.0.0.1:0", keys, keys.Server.TLSCertificate())
	if err != nil {
		return nil, err
	}
	run.closers = append(run.closers, func() { host.Close() })
	aud := DefaultAud(p)
	bank, err := refbank.Start(refbank.Config{
		Profile:     p,
		Cert:        keys.Server.TLSCertificate(),
		ClientCAs:   keys.CAPool(),
		JWKSRoots:   keys.CAPool(),
		Directory:   &keys.Directory.Key.PublicKey,
		Audiences:   []string{aud},
		JWKSTimeout: o.JWKSTimeout,
		Faults:      faults,
		Latency:     o.Latency,
		NoDelete:    noDelete,
	})
	if err != nil {
		run.Close()
		return nil, err
	}
	run.bank = bank
	run.closers = append(run.closers, func() { bank.Close() })
	run.Target = bank.RegistrationURL()
	id := &request.Identity{
		Profile: p, Endpoint: bank.RegistrationURL(), Signing: keys.Signing, Foreign: keys.Foreign,
		Directory: &keys.Directory, SSAMode: request.SSASelfSigned, JWKSURL: host.URL(),
		Aud: aud, Iss: DefaultIss, SoftwareID: DefaultIss, ClientName: DefaultClientName,
		RedirectURIs: DefaultRedirectURIs, DN: pki.SubjectDN(keys.Transport.Cert),
		Scope: []string{"openid", "accounts", "payments"}, Probes: probes(host),
		TokenEndpoint: bank.TokenURL(), Session: &request.Session{},
	}
	if !p.SelfSignedSSA {
		id.SSAMode = request.SSADirectory
	}
	untrusted := keys.Untrusted.TLSCertificate()
	timeout := 15 * time.Second
	if o.RequestTimeout > 0 {
		timeout = o.RequestTimeout
	}
	if o.JWKSTimeout > 0 && o.JWKSTimeout*4 > timeout {
		timeout = o.JWKSTimeout * 4
	}
	run.RequestTimeout, run.roots = timeout, keys.CAPool()
	run.transportLeaf, run.transportTLS = keys.Transport.Cert, keys.Transport.TLSCertificate()
	run.Env, err = newEnv(p, id, client.Options{Roots: keys.CAPool(), Transport: keys.Transport.TLSCertificate(),
		Untrusted: &untrusted, Timeout: timeout, Rate: o.Rate}, map[catalogue.Capability]bool{
		catalogue.MintSSA: true, catalogue.LoopbackTarget: true, catalogue.UntrustedCert: true,
		catalogue.ECSigningKey:  keys.Signing.EC != nil,
		catalogue.TokenEndpoint: true, catalogue.ManageGet: true, catalogue.ManagePut: true, catalogue.ManageDelete: !noDelete, catalogue.NoManageDelete: noDelete,
	}, o.Strict)
	if err != nil {
		run.Close()
		return nil, err
	}
	return run, nil
}

func prepareConfigured(ctx context.Context, o Options) (*Run, error) {
	cfg, err := config.Load(o.ConfigPath, o.Profile)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			cfg.Close()
		}
	}()
	// The run owns the config's private files and removes them on Close; until it is made,
	// the deferred Close above does.
	run := &Run{Effective: cfg.Effective(), closers: []func(){cfg.Close}, Profile: cfg.Profile, ConfigProfile: cfg.FileProfile, Target: cfg.RegistrationEndpoint, RequestTimeout: cfg.RequestTimeout, Files: Files{CACert: cfg.CABundle,
		TransportCert: cfg.TransportCert, TransportKey: cfg.TransportKey, UntrustedCert: cfg.UntrustedCert, UntrustedKey: cfg.UntrustedKey}}
	transport, err := pki.LoadIssued(cfg.TransportCert, cfg.TransportKey)
	if err != nil {
		return nil, fmt.Errorf("transport certificate: %w", err)
	}
	signing, err := pki.LoadSigningKey(cfg.SigningKey, cfg.SigningKid)
	if err != nil {
		return nil, err
	}
	if cfg.SigningECKey != "" {
		k, err := pki.LoadPrivateKey(cfg.SigningECKey)
		if err != nil {
			return nil, fmt.Errorf("signing.ec_key: %w", err)
		}
		ec, ok := k.(*ecdsa.PrivateKey)
		if !ok || ec.Curve != elliptic.P256() {
			return nil, fmt.Errorf("signing.ec_key %s: ES256 needs an EC P-256 key", cfg.SigningECKey)
		}
		signing.EC = ec
	}
	var roots *x509.CertPool // nil: the system roots
	if cfg.CABundle != "" {
		if roots, err = pki.LoadCertPool(cfg.CABundle); err != nil {
			return nil, err
		}
	}
	// Throwaway material: a self-signed client certificate no target trusts, a foreign signing
	// key and loopback probe servers.
	// They need not be secret or new, so the work directory's kept loopback set serves.
	scratch, _, err := pki.LoadOrGenerate(filepath.Join(o.WorkDir, "keys"))
	if err != nil {
		return nil, fmt.Errorf("generate scratch keys: %w", err)
	}
	untrusted := scratch.Untrusted.TLSCertificate()
	if cfg.UntrustedCert != "" {
		iss, err := pki.LoadIssued(cfg.UntrustedCert, cfg.UntrustedKey)
		if err != nil {
			return nil, fmt.Errorf("untrusted certificate: %w", err)
		}
		untrusted = iss.TLSCertificate()
		run.untrustedLeaf, run.untrustedConfigured = iss.Cert, true
	}
	run.transportLeaf, run.transportTLS, run.roots = transport.Cert, transport.TLSCertificate(), roots
	if !cfg.JWKSHost {
		run.jwksURL = cfg.JWKSURL
	}
	id := &request.Identity{
		Profile: cfg.Profile, Endpoint: cfg.RegistrationEndpoint, Signing: signing, Foreign: scratch.Foreign,
		SSAMode: request.SSAMode(cfg.SSAMode), JWKSURL: cfg.JWKSURL, Aud: cfg.Aud, Iss: cfg.Iss,
		SoftwareID: cfg.SoftwareID, ClientName: cfg.ClientName, RedirectURIs: cfg.RedirectURIs,
		DN: cfg.DN, Scope: cfg.Scope, Probes: request.Probes{Invalid: jwkshost.InvalidURL()},
		TokenEndpoint: cfg.TokenEndpoint, Session: &request.Session{},
	}
	if id.DN == "" {
		id.DN = pki.SubjectDN(transport.Cert)
	}
	switch cfg.SSAMode {
	case string(request.SSASupplied):
		b, err := safefile.ReadFile(cfg.SSAFile, safefile.MaxSSA)
		if err != nil {
			return nil, fmt.Errorf("ssa.file: %w", err)
		}
		id.SuppliedSSA = strings.TrimSpace(string(b))
		if _, _, err := jose.Decode(id.SuppliedSSA); err != nil {
			return nil, fmt.Errorf("ssa.file %s: not a JWT: %v", cfg.SSAFile, err)
		}
	case string(request.SSADirectory):
		dk, err := pki.LoadSigningKey(cfg.DirectoryKey, cfg.DirectoryKid)
		if err != nil {
			return nil, fmt.Errorf("ssa.directory_key: %w", err)
		}
		id.Directory = &dk
	}
	loopback := isLoopback(cfg.RegistrationEndpoint)
	if cfg.JWKSHost {
		cert, err := pki.LoadIssued(cfg.JWKSCert, cfg.JWKSKey)
		if err != nil {
			return nil, fmt.Errorf("jwks.host: %w", err)
		}
		host, err := startJWKSHost(cfg.JWKSListen, &pki.Set{Signing: signing}, cert.TLSCertificate())
		if err != nil {
			return nil, err
		}
		run.closers = append(run.closers, func() { host.Close() })
		id.JWKSURL = host.URL()
		if loopback {
			id.Probes = probes(host)
		}
	} else if loopback {
		host, err := startJWKSHost("127.0.0.1:0", &pki.Set{Signing: signing}, scratch.Server.TLSCertificate())
		if err != nil {
			return nil, err
		}
		run.closers = append(run.closers, func() { host.Close() })
		id.Probes = probes(host)
	}
	run.Env, err = newEnv(cfg.Profile, id, client.Options{Roots: roots, Transport: transport.TLSCertificate(),
		Untrusted: &untrusted, Timeout: cfg.RequestTimeout, Rate: o.Rate}, map[catalogue.Capability]bool{
		catalogue.MintSSA:        cfg.SSAMode != string(request.SSASupplied),
		catalogue.LoopbackTarget: loopback,
		catalogue.UntrustedCert:  true,
		catalogue.ECSigningKey:   signing.EC != nil,
		catalogue.TokenEndpoint:  cfg.OffersToken,
		catalogue.ManageGet:      cfg.OffersGet,
		catalogue.ManagePut:      cfg.OffersPut,
		catalogue.ManageDelete:   cfg.OffersDelete,
		catalogue.NoManageDelete: !cfg.OffersDelete,
	}, o.Strict)
	if err != nil {
		run.Close()
		return nil, err
	}
	ok = true
	return run, nil
}

func newEnv(p profile.Profile, id *request.Identity, co client.Options, caps map[catalogue.Capability]bool, strict bool) (*engine.Env, error) {
	v, err := contract.Load(p.Spec)
	if err != nil {
		return nil, fmt.Errorf("load the %s OpenAPI document: %w", p.Name, err)
	}
	return &engine.Env{Identity: id, Client: client.New(co), Contract: v, Caps: caps, Strict: strict}, nil
}

func startJWKSHost(addr string, keys *pki.Set, cert tls.Certificate) (*jwkshost.Host, error) {
	// The EC key, when there is one, sits beside the RSA one so the ES256 case (JWS-04) can be
	// verified; the happy path keeps signing PS256.
	doc, err := keys.Signing.JWKS()
	if err != nil {
		return nil, fmt.Errorf("build JWKS: %w", err)
	}
	return jwkshost.Start(addr, doc, cert)
}

func probes(h *jwkshost.Host) request.Probes {
	return request.Probes{ClosedPort: h.ClosedURL(), Blackhole: h.BlackholeURL(), NotFound: h.NotFoundURL(),
		HTML: h.HTMLURL(), Invalid: jwkshost.InvalidURL()}
}

func isLoopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

package main

import (
	"fmt"
	"github.com/spf13/cobra"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/dcrconform/dcrconform/internal/config"
	"github.com/dcrconform/dcrconform/internal/harness"
	"github.com/dcrconform/dcrconform/internal/jwkshost"
	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/refbank"
	"github.com/dcrconform/dcrconform/internal/request"
)

// serveOptions are the flags of `dcrconform serve`.
type serveOptions struct {
	profile, addr, dir, signCSR, certOut   string
	listFaults, noDelete, allowNonLoopback bool
	jwksTimeout, latency                   time.Duration
	faults                                 []string
}

func newServeCmd(stdout, stderr io.Writer, code *int) *cobra.Command {
	o := &serveOptions{}
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve the reference bank, writing the files a client of it needs",
		Long: `Start the embedded reference bank (a conformant DCR server, per profile, with fault switches)
and write into --dir its CA, a TPP's keys and a ready target.yaml, so dcrconform (or another tool)
can be pointed at it from another terminal. With --sign-csr it plays the bank's portal instead:
it signs a certificate request with the CA in --dir and exits.`,
		Example: `  dcrconform serve --dir /tmp/bank
  dcrconform serve --dir /tmp/bank --profile obie-3.2 --fault jwks-fail-open
  dcrconform serve --dir /tmp/bank --sign-csr tpp/transport.csr --cert-out tpp/transport.pem
  dcrconform serve --list-faults`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { *code = cmdServe(o, stdout, stderr); return nil },
	}
	f := c.Flags()
	profileFlag(f, &o.profile, profile.Default)
	f.StringVar(&o.addr, "addr", "127.0.0.1:0", "listen address (loopback unless --allow-non-loopback)")
	f.BoolVar(&o.allowNonLoopback, "allow-non-loopback", false, "allow a non-loopback --addr, to run the bank as a CI service")
	f.StringVar(&o.dir, "dir", filepath.Join(".dcrconform", "serve"), "directory for the CA, client keys and target.yaml")
	f.BoolVar(&o.listFaults, "list-faults", false, "list the fault switches and exit")
	jwksTimeoutFlag(f, &o.jwksTimeout)
	f.BoolVar(&o.noDelete, "no-delete", false, "a bank that does not offer DELETE /register/{ClientId} (answers 405; optional in OBIE)")
	f.DurationVar(&o.latency, "latency", 0, "delay every answer by this long, like a slow or distant bank (for measuring a run's concurrency)")
	f.StringVar(&o.signCSR, "sign-csr", "", "sign this PEM certificate request with the CA in --dir (as the bank's portal would) and exit")
	f.StringVar(&o.certOut, "cert-out", "", "with --sign-csr: where to write the issued certificate (default: beside the request, .pem)")
	faultFlag(f, &o.faults)
	_ = c.RegisterFlagCompletionFunc("fault", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return faultNames(), cobra.ShellCompDirectiveNoFileComp
	})
	return c
}

func cmdServe(o *serveOptions, stdout, stderr io.Writer) int {
	if o.signCSR != "" {
		return signCSR(o, stdout, stderr)
	}
	if o.latency < 0 {
		return fail(stderr, "--latency %s: must not be negative", o.latency)
	}
	if o.listFaults {
		tw := tabwriter.NewWriter(stdout, 0, 2, 2, ' ', 0)
		fmt.Fprintln(tw, "FAULT\tPROFILES\tTRIPS\tWHAT THE BANK THEN DOES")
		for _, f := range refbank.Faults() {
			ps := "all"
			if len(f.Profiles) > 0 {
				ps = strings.Join(f.Profiles, ",")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, ps, strings.Join(f.Trips, ","), f.Description)
		}
		tw.Flush()
		return 0
	}
	p, err := profile.Get(o.profile)
	if err != nil {
		return fail(stderr, "%v", err)
	}
	on, err := refbank.ParseFaults(o.faults, p.Name)
	if err != nil {
		return fail(stderr, "%v", err)
	}
	keys, err := pki.Generate()
	if err != nil {
		return fail(stderr, "generate keys: %v", err)
	}
	aud := harness.DefaultAud(p)
	bank, err := refbank.Start(refbank.Config{
		Profile: p, Addr: o.addr, Cert: keys.Server.TLSCertificate(), ClientCAs: keys.CAPool(), JWKSRoots: keys.CAPool(),
		Directory: &keys.Directory.Key.PublicKey, Audiences: []string{aud}, JWKSTimeout: o.jwksTimeout, Faults: on, Latency: o.latency,
		NoDelete: o.noDelete, AllowNonLoopback: o.allowNonLoopback,
	})
	if err != nil {
		return fail(stderr, "%v", err)
	}
	defer bank.Close()
	target, err := writeServeDir(o.dir, keys, p, bank.RegistrationURL(), aud)
	if err != nil {
		return fail(stderr, "%v", err)
	}
	ssaPath, stopJWKS, err := writePeerSSA(o.dir, keys, p)
	if err != nil {
		return fail(stderr, "%v", err)
	}
	defer stopJWKS()
	fmt.Fprintf(stdout, "reference bank (%s) listening at %s\n", p.Name, bank.RegistrationURL())
	fmt.Fprintf(stdout, "token endpoint: %s\ndiscovery (plain TLS, no client certificate): %s\n", bank.TokenURL(), bank.DiscoveryURL())
	if len(on) > 0 {
		fmt.Fprintf(stdout, "faults on: %s\n", strings.Join(o.faults, ","))
	}
	fmt.Fprintf(stdout, "target config: %s\nin another terminal: dcrconform run --config %s\n", target, target)
	if ssaPath != "" {
		fmt.Fprintf(stdout, "software statement for other tools (docs/peer-comparison.md): %s\n", ssaPath)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	fmt.Fprintln(stdout, "stopping")
	return 0
}

// signCSR plays the bank's portal: it issues the TPP's transport certificate for a request with
// the CA of the bank directory, valid for a year.
func signCSR(o *serveOptions, stdout, stderr io.Writer) int {
	out := o.certOut
	if out == "" {
		out = strings.TrimSuffix(o.signCSR, filepath.Ext(o.signCSR)) + ".pem"
	}
	cert, err := pki.SignCSR(o.signCSR, filepath.Join(o.dir, pki.Files.CA), filepath.Join(o.dir, pki.Files.CAKey), 365*24*time.Hour)
	if err != nil {
		return fail(stderr, "--sign-csr: %v", err)
	}
	if err := pki.WriteCert(out, cert); err != nil {
		return fail(stderr, "--cert-out: %v", err)
	}
	fmt.Fprintf(stdout, "issued %s for %s (CA %s)\n", out, pki.SubjectDN(cert), filepath.Join(o.dir, pki.Files.CA))
	return 0
}

// writePeerSSA serves the TPP's key set on loopback for as long as the bank runs and, for a
// profile whose SSA comes from a directory, writes ssa.jwt: a software statement signed by the
// directory key the bank trusts, naming that key set. Another tool (the peer
// OpenBankingUK/conformance-dcr) can then register with this bank, the keys and SSA taken from
// the directory, as a TPP would from the Open Banking Directory.
func writePeerSSA(dir string, keys *pki.Set, p profile.Profile) (string, func(), error) {
	if p.SelfSignedSSA {
		return "", func() {}, nil
	}
	doc, err := keys.Signing.JWKS()
	if err != nil {
		return "", nil, err
	}
	host, err := jwkshost.Start("127.0.0.1:0", doc, keys.Server.TLSCertificate())
	if err != nil {
		return "", nil, err
	}
	id := &request.Identity{Profile: p, Signing: keys.Signing, Directory: &keys.Directory, SSAMode: request.SSADirectory,
		JWKSURL: host.URL(), SoftwareID: harness.DefaultIss, ClientName: harness.DefaultClientName,
		RedirectURIs: harness.DefaultRedirectURIs, Session: &request.Session{}}
	prep, err := request.NewDraft(id).Build()
	if err != nil {
		host.Close()
		return "", nil, err
	}
	path := filepath.Join(dir, "ssa.jwt")
	if err := os.WriteFile(path, []byte(prep.SSA+"\n"), 0o600); err != nil {
		host.Close()
		return "", nil, err
	}
	return path, func() { host.Close() }, nil
}

// writeServeDir writes what a client of the served bank needs: the CA, the TPP's transport and
// signing keys, a JWKS-host certificate the bank trusts, and a ready target.yaml.
func writeServeDir(dir string, keys *pki.Set, p profile.Profile, endpoint, aud string) (string, error) {
	if err := keys.WriteDir(dir); err != nil {
		return "", err
	}
	jwksCert, err := keys.IssueServer()
	if err != nil {
		return "", err
	}
	if err := pki.WriteCert(filepath.Join(dir, "jwks-server.pem"), jwksCert.Cert); err != nil {
		return "", err
	}
	if err := pki.WriteKey(filepath.Join(dir, "jwks-server-key.pem"), jwksCert.Key); err != nil {
		return "", err
	}
	var f config.File
	f.Profile = p.Name
	f.Target.RegistrationEndpoint = endpoint
	f.Target.CABundle = pki.Files.CA
	f.Transport.Cert, f.Transport.Key = pki.Files.Transport, pki.Files.TransportKey
	f.Transport.UntrustedCert, f.Transport.UntrustedKey = pki.Files.Untrusted, pki.Files.UntrustedKey
	f.Signing.Key, f.Signing.Kid = pki.Files.Signing, keys.Signing.Kid
	if keys.Signing.EC != nil {
		f.Signing.ECKey = pki.Files.SigningEC
	}
	f.SSA.Mode = "self-signed"
	if !p.SelfSignedSSA {
		f.SSA.Mode, f.SSA.DirectoryKey, f.SSA.DirectoryKid = "directory", pki.Files.Directory, keys.Directory.Kid
	}
	f.JWKS.Host = &config.JWKSHost{Listen: "127.0.0.1:0", Cert: "jwks-server.pem", Key: "jwks-server-key.pem"}
	f.Claims.Aud, f.Claims.Iss, f.Claims.SoftwareID = aud, harness.DefaultIss, harness.DefaultIss
	f.Claims.ClientName, f.Claims.RedirectURIs = harness.DefaultClientName, harness.DefaultRedirectURIs
	f.Timeouts.Request = "15s"
	f.Management.TokenEndpoint = strings.TrimSuffix(endpoint, "/register") + "/token"
	path := filepath.Join(dir, "target.yaml")
	header := "Target config for the dcrconform reference bank at " + endpoint + ".\nWritten by `dcrconform serve`; paths are relative to this file."
	if err := config.Write(path, &f, header); err != nil {
		return "", err
	}
	return path, nil
}

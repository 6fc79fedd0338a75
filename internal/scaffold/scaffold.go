// Package scaffold makes what a TPP needs before its first run against a real bank: a transport
// key and the certificate request the bank's portal (or the Open Banking directory) signs, a
// signing key and the JWKS to publish, the software statement a self-signed (Revolut) path sends,
// the DN the bank will register, and a target config with the next steps. `dcrconform init`
// is its face.
package scaffold

import (
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dcrconform/dcrconform/internal/config"
	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/request"
)

// Options describe the TPP.
type Options struct {
	Profile profile.Profile
	// OrgID and SoftwareID are the TPP's organisation and software identifiers (the OU and CN of
	// an Open Banking transport certificate); OrgName its name.
	OrgID, SoftwareID, OrgName string
	// RedirectURIs are the TPP's redirect URIs; JWKSURL where it will publish jwks.json.
	RedirectURIs []string
	JWKSURL      string
}

// Files written into the directory.
const (
	TransportKey = "transport-key.pem"
	TransportCSR = "transport.csr"
	TransportCrt = "transport.pem"
	SigningKey   = "signing-key.pem"
	SigningEC    = "signing-ec-key.pem"
	JWKS         = "jwks.json"
	SSATemplate  = "ssa-template.json"
	DN           = "dn.txt"
	Config       = "target.yaml"
	BankCA       = "ca.pem"
)

// Result says what was written and what the user does next.
type Result struct {
	Dir, Kid, DN string
	Files        []string
	NextSteps    []string
}

// Write makes the files in dir, which must not hold any of them already (keys are never
// overwritten). Private keys are 0600.
func Write(dir string, o Options) (*Result, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	for _, name := range []string{TransportKey, TransportCSR, SigningKey, SigningEC, JWKS, SSATemplate, DN, Config} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return nil, fmt.Errorf("%s already exists in %s; init never overwrites keys (use an empty directory)", name, dir)
		}
	}
	if o.OrgID == "" {
		o.OrgID = "0015800001ZZZZZZZZ"
	}
	if o.SoftwareID == "" {
		o.SoftwareID = "dcrconformSoftware01"
	}
	if o.OrgName == "" {
		o.OrgName = "My TPP Ltd"
	}
	if len(o.RedirectURIs) == 0 {
		o.RedirectURIs = []string{"https://tpp.example/callback", "https://tpp.example/callback-2"}
	}
	if o.JWKSURL == "" {
		o.JWKSURL = "https://tpp.example/.well-known/jwks.json"
	}
	res := &Result{Dir: dir}
	write := func(name string, data []byte, mode os.FileMode) error {
		res.Files = append(res.Files, name)
		return os.WriteFile(filepath.Join(dir, name), data, mode)
	}

	// The transport certificate's subject as Open Banking issues it: C, O, OU (organisation
	// id), CN (software id). A QWAC for Revolut's eIDAS path has its own; the bank registers the
	// DN of the certificate actually issued.
	subject := pkix.Name{Country: []string{"GB"}, Organization: []string{o.OrgName},
		OrganizationalUnit: []string{o.OrgID}, CommonName: o.SoftwareID}
	tkey, csr, err := pki.NewCSR(subject)
	if err != nil {
		return nil, err
	}
	res.Files = append(res.Files, TransportKey)
	if err := pki.WriteKey(filepath.Join(dir, TransportKey), tkey); err != nil {
		return nil, err
	}
	res.Files = append(res.Files, TransportCSR)
	if err := pki.WriteCSR(filepath.Join(dir, TransportCSR), csr); err != nil {
		return nil, err
	}
	res.DN = subject.String()
	if err := write(DN, []byte(res.DN+"\n"), 0o644); err != nil {
		return nil, err
	}

	signing, err := pki.NewSigningKey()
	if err != nil {
		return nil, err
	}
	res.Kid = signing.Kid
	res.Files = append(res.Files, SigningKey)
	if err := pki.WriteKey(filepath.Join(dir, SigningKey), signing.Key); err != nil {
		return nil, err
	}
	// An EC P-256 key beside the RSA one, for the ES256 case; the happy path signs PS256.
	if signing.EC, err = pki.NewECKey(); err != nil {
		return nil, err
	}
	res.Files = append(res.Files, SigningEC)
	if err := pki.WriteKey(filepath.Join(dir, SigningEC), signing.EC); err != nil {
		return nil, err
	}
	doc, err := signing.JWKS()
	if err != nil {
		return nil, err
	}
	if err := write(JWKS, doc, 0o644); err != nil {
		return nil, err
	}
	id := &request.Identity{Profile: o.Profile, JWKSURL: o.JWKSURL, ClientName: o.OrgName, RedirectURIs: o.RedirectURIs}
	tmpl, _ := json.MarshalIndent(request.SelfSignedClaims(id), "", "  ")
	if err := write(SSATemplate, append(tmpl, '\n'), 0o644); err != nil {
		return nil, err
	}

	var f config.File
	f.Profile = o.Profile.Name
	f.Target.RegistrationEndpoint = registrationEndpoint(o.Profile)
	f.Target.CABundle = BankCA
	f.Transport.Cert, f.Transport.Key = TransportCrt, TransportKey
	f.Signing.Key, f.Signing.Kid, f.Signing.ECKey = SigningKey, signing.Kid, SigningEC
	f.SSA.Mode = "self-signed"
	if !o.Profile.SelfSignedSSA {
		f.SSA.Mode, f.SSA.File = "supplied", "ssa.jwt"
	}
	f.JWKS.URL = o.JWKSURL
	f.Claims.Aud = "revolut"
	if o.Profile.Name != profile.Default {
		f.Claims.Aud = "0015800000BANKORGID"
	}
	f.Claims.Iss, f.Claims.SoftwareID, f.Claims.ClientName = o.SoftwareID, o.SoftwareID, o.OrgName
	f.Claims.RedirectURIs = o.RedirectURIs
	f.Timeouts.Request = "15s"
	res.NextSteps = nextSteps(o, res)
	header := "Target config written by `dcrconform init` (profile " + o.Profile.Name + "). Paths are relative to this file.\n" +
		"Every field can also be set from a DCRCONFORM_* variable; see docs/CONFIG.md.\n\nNext steps:\n" + strings.Join(res.NextSteps, "\n")
	res.Files = append(res.Files, Config)
	if err := config.Write(filepath.Join(dir, Config), &f, header); err != nil {
		return nil, err
	}
	return res, nil
}

// registrationEndpoint is the profile's known registration endpoint: Revolut's sandbox (from its
// documentation), or a placeholder for an OBIE bank.
func registrationEndpoint(p profile.Profile) string {
	if p.Name == profile.Default {
		return "https://sandbox-oba-auth.revolut.com/register"
	}
	return "https://bank.example/register"
}

func nextSteps(o Options, r *Result) []string {
	steps := []string{
		fmt.Sprintf("1. Have %s signed: upload it to the bank's developer portal (or the Open Banking directory) and save the issued certificate as %s.", TransportCSR, TransportCrt),
		fmt.Sprintf("2. Save the CA that issued the bank's server certificate as %s (or remove target.ca_bundle to use the system roots).", BankCA),
		fmt.Sprintf("3. Publish %s at %s (the bank fetches it), or point jwks.url at where you publish it; its kid is %s.", JWKS, o.JWKSURL, r.Kid),
		fmt.Sprintf("4. The bank registers the DN of the issued certificate; for the requested subject that is %s (dn.txt). Override claims.dn if the issued one differs.", r.DN),
	}
	if o.Profile.SelfSignedSSA {
		steps = append(steps, fmt.Sprintf("5. The harness mints the self-signed software statement from these claims (%s); check its redirect URIs and JWKS URL.", SSATemplate))
	} else {
		steps = append(steps, "5. Save the software statement the directory issued for this software as ssa.jwt.")
	}
	steps = append(steps, "6. Run: dcrconform run --config "+filepath.Join(r.Dir, Config))
	return steps
}

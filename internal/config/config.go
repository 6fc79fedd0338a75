// Package config loads and validates a target configuration: the registration endpoint, the
// profile, the TPP's keys and certificates, how the SSA and JWKS are provided, the claim values
// and timeouts. Every problem is reported as one line naming the field; no key material is ever
// printed.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dcrconform/dcrconform/internal/printable"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/safefile"
)

// File is the YAML form of a target configuration. Paths are relative to the file's directory.
type File struct {
	// Profile names the contract the target claims to follow (default revolut).
	Profile string `yaml:"profile,omitempty"`
	Target  struct {
		// RegistrationEndpoint is the POST /register URL.
		RegistrationEndpoint string `yaml:"registration_endpoint,omitempty"`
		// CABundle verifies the target's server certificate; empty uses the system roots.
		CABundle string `yaml:"ca_bundle,omitempty"`
	} `yaml:"target,omitempty"`
	Transport struct {
		Cert string `yaml:"cert,omitempty"`
		Key  string `yaml:"key,omitempty"`
		// UntrustedCert and UntrustedKey are a client certificate the target must refuse; when
		// absent the harness makes a self-signed one.
		UntrustedCert string `yaml:"untrusted_cert,omitempty"`
		UntrustedKey  string `yaml:"untrusted_key,omitempty"`
	} `yaml:"transport,omitempty"`
	Signing struct {
		Key string `yaml:"key,omitempty"`
		Kid string `yaml:"kid,omitempty"`
		// ECKey is an optional EC P-256 key of the same TPP, published beside the RSA key under
		// the kid "<kid>-es256", for the ES256 case (JWS-04).
		ECKey string `yaml:"ec_key,omitempty"`
	} `yaml:"signing,omitempty"`
	SSA struct {
		// Mode is self-signed, directory or supplied.
		Mode         string `yaml:"mode,omitempty"`
		File         string `yaml:"file,omitempty"`
		DirectoryKey string `yaml:"directory_key,omitempty"`
		DirectoryKid string `yaml:"directory_kid,omitempty"`
	} `yaml:"ssa,omitempty"`
	JWKS struct {
		// URL is where the target fetches the TPP's JWKS, when the TPP publishes it itself.
		URL string `yaml:"url,omitempty"`
		// Host makes the harness serve the JWKS on loopback (for targets on this machine).
		Host *JWKSHost `yaml:"host,omitempty"`
	} `yaml:"jwks,omitempty"`
	Claims struct {
		Aud          string   `yaml:"aud,omitempty"`
		Iss          string   `yaml:"iss,omitempty"`
		SoftwareID   string   `yaml:"software_id,omitempty"`
		ClientName   string   `yaml:"client_name,omitempty"`
		RedirectURIs []string `yaml:"redirect_uris,omitempty"`
		DN           string   `yaml:"dn,omitempty"`
		Scope        []string `yaml:"scope,omitempty"`
	} `yaml:"claims,omitempty"`
	Timeouts struct {
		Request string `yaml:"request,omitempty"`
	} `yaml:"timeouts,omitempty"`
	// Management says which lifecycle operations the target offers (all optional in OBIE);
	// an operation set false makes its cases not applicable. Unset means offered.
	Management struct {
		// TokenEndpoint is the client_credentials token endpoint; default: /token on the
		// registration endpoint's host.
		TokenEndpoint string `yaml:"token_endpoint,omitempty"`
		Token         *bool  `yaml:"token,omitempty"`
		Get           *bool  `yaml:"get,omitempty"`
		Put           *bool  `yaml:"put,omitempty"`
		Delete        *bool  `yaml:"delete,omitempty"`
	} `yaml:"management,omitempty"`
}

// JWKSHost asks the harness to serve the TPP's JWKS on a loopback address with this TLS identity.
type JWKSHost struct {
	Listen string `yaml:"listen,omitempty"`
	Cert   string `yaml:"cert"`
	Key    string `yaml:"key"`
}

// Config is a validated configuration with absolute paths.
type Config struct {
	Path    string
	Profile profile.Profile
	// SecretDir holds the private files written for key material given in variables ("" when
	// none); Close removes it.
	SecretDir string
	// FileProfile is the profile the file itself names ("" when it names none).
	FileProfile          string
	RegistrationEndpoint string
	CABundle             string
	TransportCert        string
	TransportKey         string
	UntrustedCert        string
	UntrustedKey         string
	SigningKey           string
	SigningKid           string
	SigningECKey         string
	SSAMode              string
	SSAFile              string
	DirectoryKey         string
	DirectoryKid         string
	JWKSURL              string
	JWKSHost             bool
	JWKSListen           string
	JWKSCert             string
	JWKSKey              string
	Aud                  string
	Iss                  string
	SoftwareID           string
	ClientName           string
	RedirectURIs         []string
	DN                   string
	Scope                []string
	RequestTimeout       time.Duration
	// TokenEndpoint and the Offers* fields are the lifecycle operations the target offers.
	TokenEndpoint                                   string
	OffersToken, OffersGet, OffersPut, OffersDelete bool
}

// Load reads, parses and validates a configuration file. profileOverride, when set, replaces the
// file's profile. The error is one line (or a short list) naming each problem. The config and
// every file it names may be symbolic links, but each must end at a regular file within its
// safefile cap (MaxConfig for the config, MaxPEM for keys and certificates, MaxSSA for ssa.file):
// a device, a FIFO or a huge file is refused here, before anything reads it.
func Load(path, profileOverride string) (*Config, error) {
	return LoadWith(path, profileOverride, os.LookupEnv)
}

// LoadWith is Load with the environment given: lookup is os.LookupEnv in use, a map in tests.
// The layers apply in a documented order: the file, ${NAME} references in its values, then the
// DCRCONFORM_* variables; the CLI's flags come last.
func LoadWith(path, profileOverride string, lookup func(string) (string, bool)) (*Config, error) {
	data, err := safefile.ReadFile(path, safefile.MaxConfig)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("config %s: file does not exist", path)
		}
		return nil, fmt.Errorf("config %s: %s", path, safefile.Reason(err))
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("config %s: not valid YAML: %s", path, printable.String(oneLine(err.Error()), 300))
	}
	if len(root.Content) > 0 && root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config %s: not valid YAML for a target config: the document is not a mapping of fields (see fixtures/target.example.yaml)", path)
	}
	problems := append(unknownFields(&root), substitute(&root, "", lookup)...)
	if len(problems) > 0 {
		return nil, fmt.Errorf("config %s: %s", path, printable.String(strings.Join(problems, "; "), 2000))
	}
	var f File
	if len(root.Content) > 0 {
		if err := root.Decode(&f); err != nil {
			return nil, fmt.Errorf("config %s: a value has the wrong type: %s", path, printable.String(oneLine(err.Error()), 300))
		}
	}
	if problems := applyEnv(&f, lookup); len(problems) > 0 {
		return nil, fmt.Errorf("config %s: %s", path, strings.Join(problems, "; "))
	}
	abs, _ := filepath.Abs(path)
	return f.validate(abs, profileOverride, lookup)
}

// Close removes the private files the config wrote for key material given in variables.
func (c *Config) Close() {
	if c != nil && c.SecretDir != "" {
		os.RemoveAll(c.SecretDir)
	}
}

func (f *File) validate(path, profileOverride string, lookup func(string) (string, bool)) (*Config, error) {
	dir := filepath.Dir(path)
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	secretDir := ""
	fileOf := func(field, p string, required bool, max int64) string {
		if p == "" {
			if required {
				bad("%s is required", field)
			}
			return ""
		}
		np, d, err := PEMFromEnv(field, p, secretDir, lookup)
		if d != "" {
			secretDir = d
		}
		if err != nil {
			bad("%v", err)
			return ""
		}
		p = np
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		err = safefile.Check(p, max)
		var pe *fs.PathError
		switch {
		case err == nil:
		case errors.Is(err, safefile.ErrNotRegular) || errors.Is(err, safefile.ErrTooLarge):
			bad("%s: %s is %s", field, p, safefile.Reason(err))
		case errors.As(err, &pe) && pe.Op == "stat":
			bad("%s: %s does not exist or cannot be read", field, p)
		default:
			bad("%s: %s: %s", field, p, safefile.Reason(err))
		}
		return p
	}
	file := func(field, p string, required bool) string { return fileOf(field, p, required, safefile.MaxPEM) }
	c := &Config{Path: path, FileProfile: f.Profile}
	name := f.Profile
	if profileOverride != "" {
		name = profileOverride
	}
	p, err := profile.Get(name)
	if err != nil {
		bad("profile: %v", err)
	}
	c.Profile = p
	c.RegistrationEndpoint = f.Target.RegistrationEndpoint
	if u, err := url.Parse(c.RegistrationEndpoint); c.RegistrationEndpoint == "" {
		bad("target.registration_endpoint is required")
	} else if err != nil || u.Scheme != "https" || u.Host == "" {
		bad("target.registration_endpoint must be an https URL")
	}
	c.CABundle = file("target.ca_bundle", f.Target.CABundle, false)
	c.TransportCert = file("transport.cert", f.Transport.Cert, true)
	c.TransportKey = file("transport.key", f.Transport.Key, true)
	c.UntrustedCert = file("transport.untrusted_cert", f.Transport.UntrustedCert, false)
	c.UntrustedKey = file("transport.untrusted_key", f.Transport.UntrustedKey, c.UntrustedCert != "")
	c.SigningKey = file("signing.key", f.Signing.Key, true)
	c.SigningKid = f.Signing.Kid
	c.SigningECKey = fileOf("signing.ec_key", f.Signing.ECKey, false, safefile.MaxPEM)
	c.SSAMode = f.SSA.Mode
	if c.SSAMode == "" {
		c.SSAMode = "self-signed"
		if !p.SelfSignedSSA && p.Name != "" {
			c.SSAMode = "directory"
		}
	}
	switch c.SSAMode {
	case "self-signed":
	case "directory":
		c.DirectoryKey = file("ssa.directory_key", f.SSA.DirectoryKey, true)
		c.DirectoryKid = f.SSA.DirectoryKid
	case "supplied":
		c.SSAFile = fileOf("ssa.file", f.SSA.File, true, safefile.MaxSSA)
	default:
		bad("ssa.mode must be self-signed, directory or supplied, not %q", c.SSAMode)
	}
	c.JWKSURL = f.JWKS.URL
	if h := f.JWKS.Host; h != nil {
		c.JWKSHost = true
		c.JWKSListen = h.Listen
		c.JWKSCert = file("jwks.host.cert", h.Cert, true)
		c.JWKSKey = file("jwks.host.key", h.Key, true)
		if c.JWKSURL != "" {
			bad("jwks: give url or host, not both")
		}
	} else if c.JWKSURL == "" && c.SSAMode != "supplied" {
		bad("jwks: give url (where the target fetches the TPP's JWKS) or host (the harness serves it)")
	}
	c.Aud, c.Iss, c.SoftwareID, c.ClientName = f.Claims.Aud, f.Claims.Iss, f.Claims.SoftwareID, f.Claims.ClientName
	c.RedirectURIs, c.DN, c.Scope = f.Claims.RedirectURIs, f.Claims.DN, f.Claims.Scope
	if c.Aud == "" {
		bad("claims.aud is required (the bank's identifier, e.g. revolut)")
	}
	if c.Iss == "" {
		bad("claims.iss is required")
	}
	if len(c.RedirectURIs) == 0 {
		bad("claims.redirect_uris needs at least one URI")
	}
	if c.ClientName == "" {
		c.ClientName = "dcrconform test TPP"
	}
	if c.SoftwareID == "" {
		c.SoftwareID = c.Iss
	}
	if len(c.Scope) == 0 {
		c.Scope = []string{"openid", "accounts", "payments"}
	}
	c.RequestTimeout = 15 * time.Second
	if f.Timeouts.Request != "" {
		d, err := time.ParseDuration(f.Timeouts.Request)
		if err != nil || d <= 0 {
			bad("timeouts.request: %q is not a positive duration such as 15s", f.Timeouts.Request)
		}
		c.RequestTimeout = d
	}
	offered := func(b *bool) bool { return b == nil || *b }
	c.OffersToken, c.OffersGet = offered(f.Management.Token), offered(f.Management.Get)
	c.OffersPut, c.OffersDelete = offered(f.Management.Put), offered(f.Management.Delete)
	c.TokenEndpoint = f.Management.TokenEndpoint
	if c.TokenEndpoint == "" {
		if u, err := url.Parse(c.RegistrationEndpoint); err == nil && u.Host != "" {
			c.TokenEndpoint = "https://" + u.Host + "/token"
		}
	} else if u, err := url.Parse(c.TokenEndpoint); err != nil || u.Scheme != "https" || u.Host == "" {
		bad("management.token_endpoint must be an https URL")
	}
	c.SecretDir = secretDir
	if len(problems) > 0 {
		c.Close()
		return nil, fmt.Errorf("config %s: %s", path, strings.Join(problems, "; "))
	}
	return c, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Write renders a File as YAML with a header comment, for `dcrconform serve` and `init`.
func Write(path string, f *File, header string) error {
	var buf bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(header), "\n") {
		buf.WriteString("# " + line + "\n")
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

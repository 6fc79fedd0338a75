package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/config"
	"github.com/dcrconform/dcrconform/internal/pki"
)

var (
	setOnce sync.Once
	theSet  *pki.Set
	setErr  error
)

// keyDir writes real key and certificate files (from one Set generated for the package) into a
// fresh directory. Call it once per test: configs that differ can share the directory.
func keyDir(t *testing.T) string {
	t.Helper()
	setOnce.Do(func() { theSet, setErr = pki.Generate() })
	if setErr != nil {
		t.Fatalf("Generate: %v", setErr)
	}
	dir := t.TempDir()
	if err := theSet.WriteDir(dir); err != nil {
		t.Fatalf("WriteDir: %v", err)
	}
	return dir
}

const validYAML = `profile: revolut
target:
  registration_endpoint: https://bank.example/register
  ca_bundle: ca.pem
transport:
  cert: transport.pem
  key: transport-key.pem
signing:
  key: signing-key.pem
  kid: kid-1
jwks:
  url: https://tpp.example/jwks.json
claims:
  aud: revolut
  iss: tpp-123
  redirect_uris:
    - https://tpp.example/callback
`

// edit replaces one line of validYAML (matched by its exact text) with repl; an empty repl drops it.
func edit(t *testing.T, yaml, line, repl string) string {
	t.Helper()
	lines := strings.Split(yaml, "\n")
	for i, l := range lines {
		if l == line {
			if repl == "" {
				return strings.Join(append(lines[:i:i], lines[i+1:]...), "\n")
			}
			lines[i] = repl
			return strings.Join(lines, "\n")
		}
	}
	t.Fatalf("line %q not in config", line)
	return ""
}

func writeConfig(t *testing.T, dir, yaml string) string {
	t.Helper()
	p := filepath.Join(dir, "target.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadErr loads yaml as a config in dir, a key directory, and returns the error, failing if there
// is none.
func loadErr(t *testing.T, dir, yaml, profile string) string {
	t.Helper()
	c, err := config.Load(writeConfig(t, dir, yaml), profile)
	if err == nil {
		t.Fatalf("Load accepted the config: %+v", c)
	}
	if c != nil {
		t.Errorf("Load returned a config with an error")
	}
	return err.Error()
}

func sameFile(t *testing.T, got, want string) {
	t.Helper()
	if !filepath.IsAbs(got) {
		t.Errorf("path %q is not absolute", got)
		return
	}
	a, err := os.Stat(got)
	if err != nil {
		t.Errorf("path %q: %v", got, err)
		return
	}
	b, err := os.Stat(want)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(a, b) {
		t.Errorf("path %q is not %q", got, want)
	}
}

func TestLoadValid(t *testing.T) {
	dir := keyDir(t)
	writeConfig(t, dir, validYAML)
	t.Chdir(dir)
	c, err := config.Load("target.yaml", "")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	sameFile(t, c.Path, filepath.Join(dir, "target.yaml"))
	sameFile(t, c.CABundle, filepath.Join(dir, "ca.pem"))
	sameFile(t, c.TransportCert, filepath.Join(dir, "transport.pem"))
	sameFile(t, c.TransportKey, filepath.Join(dir, "transport-key.pem"))
	sameFile(t, c.SigningKey, filepath.Join(dir, "signing-key.pem"))
	if c.Profile.Name != "revolut" {
		t.Errorf("profile = %q, want revolut", c.Profile.Name)
	}
	if c.RegistrationEndpoint != "https://bank.example/register" || c.SigningKid != "kid-1" ||
		c.JWKSURL != "https://tpp.example/jwks.json" || c.JWKSHost || c.Aud != "revolut" || c.Iss != "tpp-123" {
		t.Errorf("fields not carried over: %+v", c)
	}
	if !reflect.DeepEqual(c.RedirectURIs, []string{"https://tpp.example/callback"}) {
		t.Errorf("redirect URIs = %v", c.RedirectURIs)
	}
	// Defaults.
	if !reflect.DeepEqual(c.Scope, []string{"openid", "accounts", "payments"}) {
		t.Errorf("default scope = %v", c.Scope)
	}
	if c.ClientName != "dcrconform test TPP" {
		t.Errorf("default client name = %q", c.ClientName)
	}
	if c.SoftwareID != "tpp-123" {
		t.Errorf("default software_id = %q, want iss tpp-123", c.SoftwareID)
	}
	if c.RequestTimeout != 15*time.Second {
		t.Errorf("default request timeout = %v, want 15s", c.RequestTimeout)
	}
	if c.SSAMode != "self-signed" {
		t.Errorf("default ssa mode for revolut = %q, want self-signed", c.SSAMode)
	}
	if c.UntrustedCert != "" || c.UntrustedKey != "" || c.DirectoryKey != "" || c.SSAFile != "" {
		t.Errorf("unset optional paths were filled in: %+v", c)
	}
}

func TestLoadProfileDefaultsToRevolut(t *testing.T) {
	dir := keyDir(t)
	c, err := config.Load(writeConfig(t, dir, edit(t, validYAML, "profile: revolut", "")), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile.Name != "revolut" || c.SSAMode != "self-signed" {
		t.Fatalf("profile %q, ssa mode %q; want revolut, self-signed", c.Profile.Name, c.SSAMode)
	}
}

func TestLoadExplicitValues(t *testing.T) {
	dir := keyDir(t)
	yaml := validYAML + `  software_id: sw-9
  client_name: My TPP
  scope: [openid, accounts]
  dn: CN=tpp
timeouts:
  request: 2m30s
`
	c, err := config.Load(writeConfig(t, dir, yaml), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.SoftwareID != "sw-9" || c.ClientName != "My TPP" || c.DN != "CN=tpp" ||
		!reflect.DeepEqual(c.Scope, []string{"openid", "accounts"}) || c.RequestTimeout != 150*time.Second {
		t.Fatalf("explicit values not used: %+v", c)
	}
}

func TestLoadOBIEDefaultsToDirectorySSA(t *testing.T) {
	dir := keyDir(t)
	yaml := edit(t, validYAML, "profile: revolut", "profile: obie-3.2")
	msg := loadErr(t, dir, yaml, "")
	if !strings.Contains(msg, "ssa.directory_key is required") {
		t.Fatalf("obie-3.2 without a directory key: error %q should ask for ssa.directory_key", msg)
	}
	yaml += "ssa:\n  directory_key: directory-key.pem\n  directory_kid: dir-1\n"
	c, err := config.Load(writeConfig(t, dir, yaml), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile.Name != "obie-3.2" || c.SSAMode != "directory" || c.DirectoryKid != "dir-1" {
		t.Fatalf("profile %q, ssa mode %q, kid %q; want obie-3.2, directory, dir-1", c.Profile.Name, c.SSAMode, c.DirectoryKid)
	}
	sameFile(t, c.DirectoryKey, filepath.Join(dir, "directory-key.pem"))
}

func TestLoadProfileOverride(t *testing.T) {
	dir := keyDir(t)
	yaml := validYAML + "ssa:\n  directory_key: directory-key.pem\n"
	p := writeConfig(t, dir, yaml)
	c, err := config.Load(p, "obie-3.2")
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile.Name != "obie-3.2" || c.SSAMode != "directory" {
		t.Fatalf("override: profile %q, ssa mode %q; want obie-3.2, directory", c.Profile.Name, c.SSAMode)
	}
	c, err = config.Load(p, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile.Name != "revolut" || c.SSAMode != "self-signed" {
		t.Fatalf("no override: profile %q, ssa mode %q; want revolut, self-signed", c.Profile.Name, c.SSAMode)
	}
	// The override wins even over a file naming an unknown profile.
	c, err = config.Load(writeConfig(t, dir, edit(t, validYAML, "profile: revolut", "profile: nonesuch")), "revolut")
	if err != nil || c.Profile.Name != "revolut" {
		t.Fatalf("override over an unknown profile: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := config.Load(p, "")
	if err == nil {
		t.Fatal("Load of a missing file: no error")
	}
	if !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), p) {
		t.Fatalf("error %q should say %s does not exist", err, p)
	}
}

func TestLoadSingleProblems(t *testing.T) {
	cases := []struct {
		name, yaml, profile string
		want                []string
	}{
		{"unknown field", validYAML + "bogus_field: 1\n", "", []string{"bogus_field"}},
		{"unknown nested field", edit(t, validYAML, "  kid: kid-1", "  kidd: kid-1"), "", []string{"kidd"}},
		{"http endpoint", edit(t, validYAML, "  registration_endpoint: https://bank.example/register", "  registration_endpoint: http://bank.example/register"), "", []string{"target.registration_endpoint", "https"}},
		{"endpoint without host", edit(t, validYAML, "  registration_endpoint: https://bank.example/register", "  registration_endpoint: https:///register"), "", []string{"target.registration_endpoint"}},
		{"endpoint not a URL", edit(t, validYAML, "  registration_endpoint: https://bank.example/register", "  registration_endpoint: bank.example"), "", []string{"target.registration_endpoint"}},
		{"endpoint missing", edit(t, validYAML, "  registration_endpoint: https://bank.example/register", ""), "", []string{"target.registration_endpoint is required"}},
		{"transport cert missing", edit(t, validYAML, "  cert: transport.pem", ""), "", []string{"transport.cert is required"}},
		{"transport cert not found", edit(t, validYAML, "  cert: transport.pem", "  cert: nothere.pem"), "", []string{"transport.cert", "nothere.pem", "does not exist"}},
		{"transport key is a directory", edit(t, validYAML, "  key: transport-key.pem", "  key: ."), "", []string{"transport.key", "is a directory"}},
		{"signing key missing", edit(t, validYAML, "  key: signing-key.pem", ""), "", []string{"signing.key is required"}},
		{"ca bundle not found", edit(t, validYAML, "  ca_bundle: ca.pem", "  ca_bundle: missing-ca.pem"), "", []string{"target.ca_bundle", "missing-ca.pem"}},
		{"untrusted cert without key", edit(t, validYAML, "  key: transport-key.pem", "  key: transport-key.pem\n  untrusted_cert: untrusted.pem"), "", []string{"transport.untrusted_key is required"}},
		{"unknown profile", edit(t, validYAML, "profile: revolut", "profile: nonesuch"), "", []string{"nonesuch", "unknown profile", "revolut"}},
		{"unknown profile override", validYAML, "obie-9.9", []string{"obie-9.9", "unknown profile"}},
		{"jwks url and host", edit(t, validYAML, "  url: https://tpp.example/jwks.json",
			"  url: https://tpp.example/jwks.json\n  host:\n    listen: 127.0.0.1:0\n    cert: server.pem\n    key: server-key.pem"), "", []string{"jwks", "not both"}},
		{"jwks neither", edit(t, validYAML, "  url: https://tpp.example/jwks.json", "  url: \"\""), "", []string{"jwks"}},
		{"bad timeout", validYAML + "timeouts:\n  request: soon\n", "", []string{"timeouts.request", "soon"}},
		{"negative timeout", validYAML + "timeouts:\n  request: -5s\n", "", []string{"timeouts.request"}},
		{"zero timeout", validYAML + "timeouts:\n  request: 0s\n", "", []string{"timeouts.request"}},
		{"bad ssa mode", validYAML + "ssa:\n  mode: magic\n", "", []string{"ssa.mode", "magic"}},
		{"supplied ssa without file", validYAML + "ssa:\n  mode: supplied\n", "", []string{"ssa.file is required"}},
		{"aud missing", edit(t, validYAML, "  aud: revolut", ""), "", []string{"claims.aud is required"}},
		{"iss missing", edit(t, validYAML, "  iss: tpp-123", ""), "", []string{"claims.iss is required"}},
		{"not a mapping", "just a string\n", "", []string{"not valid YAML"}},
	}
	dir := keyDir(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := loadErr(t, dir, tc.yaml, tc.profile)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error for a single problem spans lines: %q", msg)
			}
			// Validation problems are joined with "; "; a YAML error is one problem whose text
			// (a Go type name) may itself hold "; ".
			if n := strings.Count(msg, "; "); n != 0 && !strings.Contains(msg, "not valid YAML") {
				t.Errorf("error for a single problem reports %d extra problems: %q", n, msg)
			}
		})
	}
}

func TestLoadJWKSHost(t *testing.T) {
	dir := keyDir(t)
	yaml := edit(t, validYAML, "  url: https://tpp.example/jwks.json",
		"  host:\n    listen: 127.0.0.1:0\n    cert: server.pem\n    key: server-key.pem")
	c, err := config.Load(writeConfig(t, dir, yaml), "")
	if err != nil {
		t.Fatal(err)
	}
	if !c.JWKSHost || c.JWKSURL != "" || c.JWKSListen != "127.0.0.1:0" {
		t.Fatalf("jwks host not set: %+v", c)
	}
	sameFile(t, c.JWKSCert, filepath.Join(dir, "server.pem"))
	sameFile(t, c.JWKSKey, filepath.Join(dir, "server-key.pem"))

	// A supplied SSA carries its own JWKS URL, so neither url nor host is needed.
	if err := os.WriteFile(filepath.Join(dir, "ssa.jwt"), []byte("x.y.z"), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml = edit(t, validYAML, "  url: https://tpp.example/jwks.json", "  url: \"\"") + "ssa:\n  mode: supplied\n  file: ssa.jwt\n"
	c, err = config.Load(writeConfig(t, dir, yaml), "")
	if err != nil {
		t.Fatalf("supplied SSA without jwks: %v", err)
	}
	sameFile(t, c.SSAFile, filepath.Join(dir, "ssa.jwt"))
}

func TestLoadAbsolutePathsKept(t *testing.T) {
	dir := keyDir(t)
	other := t.TempDir()
	abs := filepath.Join(dir, "signing-key.pem")
	yaml := edit(t, validYAML, "  key: signing-key.pem", "  key: "+abs)
	c, err := config.Load(writeConfig(t, other, yaml), "")
	if err == nil {
		t.Fatalf("relative transport paths resolved outside the config's directory: %+v", c)
	}
	// The transport files are relative to the config's directory (other), where they do not
	// exist; the absolute signing key path is used as given.
	if !strings.Contains(err.Error(), filepath.Join(other, "transport.pem")) {
		t.Errorf("error %q does not name the resolved transport path", err)
	}
	if strings.Contains(err.Error(), "signing.key") {
		t.Errorf("absolute signing key path was not used as given: %q", err)
	}
}

func TestLoadReportsAllProblems(t *testing.T) {
	yaml := edit(t, validYAML, "  registration_endpoint: https://bank.example/register", "  registration_endpoint: http://bank.example/register")
	yaml = edit(t, yaml, "  aud: revolut", "")
	yaml = edit(t, yaml, "  cert: transport.pem", "")
	yaml += "timeouts:\n  request: later\n"
	msg := loadErr(t, keyDir(t), yaml, "")
	for _, w := range []string{"target.registration_endpoint", "claims.aud", "transport.cert", "timeouts.request"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not report %s", msg, w)
		}
	}
	if n := strings.Count(msg, "; "); n != 3 {
		t.Errorf("error reports %d problems, want 4: %q", n+1, msg)
	}
	if strings.Count(msg, "config ") != 1 {
		t.Errorf("error repeats its prefix: %q", msg)
	}
}

func TestLoadEmptyFileListsRequiredFields(t *testing.T) {
	dir := keyDir(t)
	for name, content := range map[string]string{"empty": "", "comments only": "# nothing here\n"} {
		msg := loadErr(t, dir, content, "")
		for _, w := range []string{"target.registration_endpoint is required", "transport.cert is required", "signing.key is required", "claims.aud is required"} {
			if !strings.Contains(msg, w) {
				t.Errorf("%s file: error %q does not report %q", name, msg, w)
			}
		}
	}
}

// A key file passed as the config must not have its contents echoed in the error.
func TestLoadKeyFileAsConfigDoesNotLeak(t *testing.T) {
	dir := keyDir(t)
	for _, name := range []string{pki.Files.Signing, pki.Files.TransportKey} {
		p := filepath.Join(dir, name)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = config.Load(p, "")
		if err == nil {
			t.Fatalf("Load(%s) accepted a key file", name)
		}
		var body strings.Builder
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(line, "-----") {
				body.WriteString(line)
			}
		}
		b := body.String()
		for i := 0; i+20 <= len(b); i++ {
			if strings.Contains(err.Error(), b[i:i+20]) {
				t.Fatalf("error %q contains key bytes", err)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("error spans lines: %q", err)
		}
	}
}

func TestWriteLoadRoundTrip(t *testing.T) {
	dir := keyDir(t)
	var f config.File
	f.Profile = "obie-3.2"
	f.Target.RegistrationEndpoint = "https://127.0.0.1:8443/register"
	f.Target.CABundle = pki.Files.CA
	f.Transport.Cert, f.Transport.Key = pki.Files.Transport, pki.Files.TransportKey
	f.Transport.UntrustedCert, f.Transport.UntrustedKey = pki.Files.Untrusted, pki.Files.UntrustedKey
	f.Signing.Key, f.Signing.Kid = pki.Files.Signing, "sig-kid"
	f.SSA.Mode, f.SSA.DirectoryKey, f.SSA.DirectoryKid = "directory", pki.Files.Directory, "dir-kid"
	f.JWKS.Host = &config.JWKSHost{Listen: "127.0.0.1:0", Cert: pki.Files.Server, Key: pki.Files.ServerKey}
	f.Claims.Aud, f.Claims.Iss, f.Claims.SoftwareID = "refbank", "tppiss", "swid"
	f.Claims.ClientName, f.Claims.RedirectURIs = "Round Trip TPP", []string{"https://tpp.example/a", "https://tpp.example/b"}
	f.Claims.DN, f.Claims.Scope = "CN=dcrconform-tpp,O=x", []string{"openid", "payments"}
	f.Timeouts.Request = "7s"

	path := filepath.Join(dir, "target.yaml")
	if err := config.Write(path, &f, "First line.\nSecond line."); err != nil {
		t.Fatalf("Write: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "# First line.\n# Second line.\n") {
		t.Errorf("header comment missing:\n%s", data)
	}
	if st, err := os.Stat(path); err != nil {
		t.Error(err)
	} else if st.Mode().Perm() != 0o600 {
		t.Errorf("written config mode = %v, want 0600", st.Mode().Perm())
	}

	c, err := config.Load(path, "")
	if err != nil {
		t.Fatalf("Load(Write output): %v\n%s", err, data)
	}
	if c.Profile.Name != "obie-3.2" || c.RegistrationEndpoint != f.Target.RegistrationEndpoint ||
		c.SigningKid != "sig-kid" || c.SSAMode != "directory" || c.DirectoryKid != "dir-kid" ||
		!c.JWKSHost || c.JWKSListen != "127.0.0.1:0" || c.JWKSURL != "" ||
		c.Aud != "refbank" || c.Iss != "tppiss" || c.SoftwareID != "swid" || c.ClientName != "Round Trip TPP" ||
		c.DN != f.Claims.DN || !reflect.DeepEqual(c.RedirectURIs, f.Claims.RedirectURIs) ||
		!reflect.DeepEqual(c.Scope, f.Claims.Scope) || c.RequestTimeout != 7*time.Second {
		t.Fatalf("round trip lost values: %+v", c)
	}
	for got, name := range map[string]string{
		c.CABundle: pki.Files.CA, c.TransportCert: pki.Files.Transport, c.TransportKey: pki.Files.TransportKey,
		c.UntrustedCert: pki.Files.Untrusted, c.UntrustedKey: pki.Files.UntrustedKey, c.SigningKey: pki.Files.Signing,
		c.DirectoryKey: pki.Files.Directory, c.JWKSCert: pki.Files.Server, c.JWKSKey: pki.Files.ServerKey,
	} {
		sameFile(t, got, filepath.Join(dir, name))
	}

	// An empty File writes nothing but the header and fails validation, not parsing.
	empty := filepath.Join(dir, "empty.yaml")
	if err := config.Write(empty, &config.File{}, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(empty, ""); err == nil || !strings.Contains(err.Error(), "is required") {
		t.Fatalf("Load(empty File) = %v, want required-field problems", err)
	}
}

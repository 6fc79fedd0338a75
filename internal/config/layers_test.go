package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/config"
)

// Every field the loader reads is documented in docs/CONFIG.md, with its variable.
func TestEveryFieldIsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "CONFIG.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range config.Fields() {
		row := "| `" + f.Path + "` | `" + f.Env + "` |"
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/CONFIG.md has no row %q", row)
		}
	}
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// The layers: the file, ${NAME} in its values, then DCRCONFORM_* variables, for every field.
func TestEnvironmentLayers(t *testing.T) {
	dir := keyDir(t)
	yaml := strings.Replace(validYAML, "  kid: kid-1", "  kid: ${KID_FROM_ENV}", 1)
	path := filepath.Join(dir, "target.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"KID_FROM_ENV":                    "kid-from-env",
		"DCRCONFORM_CLAIMS_AUD":           "aud-from-env",
		"DCRCONFORM_CLAIMS_REDIRECT_URIS": "https://a.example/cb, https://b.example/cb",
		"DCRCONFORM_MANAGEMENT_DELETE":    "false",
		"DCRCONFORM_TIMEOUTS_REQUEST":     "7s",
	}
	c, err := config.LoadWith(path, "", env(vars))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.SigningKid != "kid-from-env" || c.Aud != "aud-from-env" || len(c.RedirectURIs) != 2 || c.OffersDelete || c.RequestTimeout.String() != "7s" {
		t.Errorf("kid %q aud %q redirects %v delete %v timeout %v", c.SigningKid, c.Aud, c.RedirectURIs, c.OffersDelete, c.RequestTimeout)
	}
	if _, err := config.LoadWith(path, "", env(map[string]string{})); err == nil || !strings.Contains(err.Error(), "signing.kid: variable KID_FROM_ENV is not set") {
		t.Errorf("unset variable: %v", err)
	}
}

// Key material can come from a variable holding the PEM, for CI secrets.
func TestPEMFromVariable(t *testing.T) {
	dir := keyDir(t)
	pemData, err := os.ReadFile(filepath.Join(dir, "transport-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(validYAML, "  key: transport-key.pem", "  key: env:TRANSPORT_KEY_PEM", 1)
	path := filepath.Join(dir, "target.yaml")
	os.WriteFile(path, []byte(yaml), 0o600)
	c, err := config.LoadWith(path, "", env(map[string]string{"TRANSPORT_KEY_PEM": string(pemData)}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(c.TransportKey)
	if err != nil || strings.TrimSpace(string(got)) != strings.TrimSpace(string(pemData)) {
		t.Fatalf("transport key from the variable: %v", err)
	}
	if st, _ := os.Stat(c.TransportKey); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	c.Close()
	if _, err := os.Stat(c.TransportKey); !os.IsNotExist(err) {
		t.Error("the private copy outlived Close")
	}
	// The same through a DCRCONFORM_* variable holding the content itself.
	c, err = config.LoadWith(path, "", env(map[string]string{"TRANSPORT_KEY_PEM": "x", "DCRCONFORM_TRANSPORT_KEY": string(pemData)}))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// A multi-line value is never substituted into YAML.
	yaml = strings.Replace(validYAML, "  kid: kid-1", "  kid: ${MULTI}", 1)
	os.WriteFile(path, []byte(yaml), 0o600)
	if _, err := config.LoadWith(path, "", env(map[string]string{"MULTI": "a\nb"})); err == nil || !strings.Contains(err.Error(), "several lines") {
		t.Errorf("multi-line substitution: %v", err)
	}
}

func TestUnknownFieldSuggestsTheNearest(t *testing.T) {
	dir := keyDir(t)
	yaml := strings.Replace(validYAML, "  registration_endpoint:", "  registraton_endpoint:", 1)
	path := filepath.Join(dir, "target.yaml")
	os.WriteFile(path, []byte(yaml), 0o600)
	_, err := config.LoadWith(path, "", env(nil))
	if err == nil || !strings.Contains(err.Error(), "target.registraton_endpoint") || !strings.Contains(err.Error(), "did you mean target.registration_endpoint?") {
		t.Errorf("got %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "struct") {
		t.Errorf("a Go type leaked into the message: %v", err)
	}
}

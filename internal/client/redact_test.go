package client

import (
	"net/http"
	"strings"
	"testing"
)

const planted = "PLANTED-SECRET-VALUE-1234"

// Each shape a bank may put a credential in is redacted; the evidence (SSA, JWT, client_id,
// public keys, names that merely mention a token) is kept.
func TestRedactBodyShapes(t *testing.T) {
	deep := `{"client_secret":"` + planted + `","x":` + strings.Repeat(`{"a":`, 20000) + `1` + strings.Repeat(`}`, 20000) + `}`
	for name, body := range map[string]string{
		"plain":         `{"client_id":"c","client_secret":"` + planted + `"}`,
		"nested":        `{"a":[{"b":{"registration_access_token":"` + planted + `"}}]}`,
		"object value":  `{"client_secret":{"value":"` + planted + `"}}`,
		"array value":   `{"client_secret":["` + planted + `"]}`,
		"number value":  `{"api_key":` + "123456789" + `,"x":"` + "" + `"}`,
		"byte order":    "\xef\xbb\xbf" + `{"client_secret":"` + planted + `"}`,
		"cut short":     `{"client_id":"c","client_secret":"` + planted + `","padding":"aaaa`,
		"cut in value":  `{"client_secret":"` + planted,
		"too deep":      deep,
		"form":          `client_id=c&client_secret=` + planted + `&access_token=` + planted,
		"odd case":      `{"Client_Secret":"` + planted + `"}`,
		"password":      `{"user":{"password":"` + planted + `"}}`,
		"jwk private d": `{"keys":[{"kty":"RSA","n":"abc","e":"AQAB","d":"` + planted + `"}]}`,
	} {
		got := string(RedactBody([]byte(body)))
		if strings.Contains(got, planted) || (name == "number value" && strings.Contains(got, "123456789")) {
			t.Errorf("%s: secret kept: %.200s", name, got)
		}
		if !strings.Contains(got, Redacted) && !strings.Contains(got, "%5BREDACTED%5D") {
			t.Errorf("%s: nothing marked redacted: %.200s", name, got)
		}
	}
	keep := `{"client_id":"c-123","software_statement":"eyJ.ssa.sig","token_endpoint_auth_method":"tls_client_auth","id_token_signed_response_alg":"PS256","keys":[{"kty":"RSA","n":"modulus","e":"AQAB"}],"Code":"400"}`
	if got := string(RedactBody([]byte(keep))); got != keep {
		t.Errorf("evidence was redacted:\n%s\n%s", keep, got)
	}
}

func TestRedactHeaderShapes(t *testing.T) {
	h := http.Header{
		"Authorization":               {"Bearer " + planted},
		"Set-Cookie":                  {"s=" + planted},
		"X-Api-Key":                   {planted},
		"X-Registration-Access-Token": {planted},
		"X-Client-Secret":             {planted},
		"Www-Authenticate":            {`Bearer realm="bank", error="invalid_token", access_token="` + planted + `"`, "Bearer " + planted},
		"Location":                    {"https://tpp.example/cb?state=s&code=" + planted + "#access_token=" + planted + "&token_type=Bearer"},
		"Link":                        {"<https://x.example/a?client_secret=" + planted + ">; rel=next"},
		"Content-Type":                {"application/json"},
	}
	got := RedactHeader(h)
	for k, vs := range got {
		for _, v := range vs {
			if strings.Contains(v, planted) {
				t.Errorf("%s kept the secret: %s", k, v)
			}
		}
	}
	if got.Get("Authorization") != "Bearer "+Redacted {
		t.Errorf("Authorization = %q", got.Get("Authorization"))
	}
	if v := got.Values("Www-Authenticate")[0]; !strings.Contains(v, `realm="bank"`) || !strings.Contains(v, `error="invalid_token"`) {
		t.Errorf("challenge lost its description: %q", v)
	}
	if v := got.Get("Location"); !strings.Contains(v, "state=s") || !strings.Contains(v, "token_type=Bearer") {
		t.Errorf("Location lost its evidence: %q", v)
	}
	if got.Get("Content-Type") != "application/json" {
		t.Error("Content-Type changed")
	}
	if h.Get("X-Api-Key") != planted {
		t.Error("RedactHeader changed its input")
	}
}

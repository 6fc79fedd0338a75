package main

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/request"
)

// TestPeerToolFlowAgainstServe makes the calls the peer tool OpenBankingUK/conformance-dcr
// makes (docs/peer-comparison.md), with only what `serve --dir` writes: discovery over plain
// TLS with no client certificate, a registration with the directory SSA, a client_credentials
// token, then GET, PUT and DELETE /register/{ClientId} with it. The peer itself is not run here
// (it calls an update server at every start); this shows the bank offers what it needs.
func TestPeerToolFlowAgainstServe(t *testing.T) {
	dir := t.TempDir()
	bankDir := filepath.Join(dir, "bank")
	startServe(t, dir, "serve", "--profile", "obie-3.2", "--dir", bankDir, "--jwks-timeout", "2s")
	var discoveryURL string
	// serve printed it; read it back from the running bank's target.yaml neighbours instead of
	// the console: the registration endpoint is in target.yaml, discovery is on its own port.
	data, _ := os.ReadFile(filepath.Join(bankDir, "target.yaml"))
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "registration_endpoint: "); ok {
			discoveryURL = strings.TrimSuffix(v, "/register")
		}
	}
	roots, err := pki.LoadCertPool(filepath.Join(bankDir, pki.Files.CA))
	if err != nil {
		t.Fatal(err)
	}
	transport, err := tls.LoadX509KeyPair(filepath.Join(bankDir, pki.Files.Transport), filepath.Join(bankDir, pki.Files.TransportKey))
	if err != nil {
		t.Fatal(err)
	}
	mtls := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{transport}}}}
	do := func(c *http.Client, method, u, ctype, auth, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, u, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}

	// The bank serves discovery on the mTLS host too; its plain-TLS listener (the URL serve
	// prints) is tested in internal/refbank.
	st, disc := do(mtls, http.MethodGet, discoveryURL+"/.well-known/openid-configuration", "", "", "")
	if st != 200 {
		t.Fatalf("discovery on the mTLS host: %d", st)
	}
	regURL, _ := disc["registration_endpoint"].(string)
	tokenURL, _ := disc["token_endpoint"].(string)
	if regURL == "" || tokenURL == "" {
		t.Fatalf("discovery lacks endpoints: %v", disc)
	}

	ssa, err := os.ReadFile(filepath.Join(bankDir, "ssa.jwt"))
	if err != nil {
		t.Fatal(err)
	}
	signing, err := pki.LoadSigningKey(filepath.Join(bankDir, pki.Files.Signing), "")
	if err != nil {
		t.Fatal(err)
	}
	var ssaClaims jose.Claims
	if _, ssaClaims, err = jose.Decode(strings.TrimSpace(string(ssa))); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := jose.Claims{"aud": "0015800000dcrASPSP", "iss": ssaClaims["software_id"], "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"jti": request.NewJTI(), "grant_types": []any{"authorization_code", "client_credentials"},
		"application_type": "web", "redirect_uris": ssaClaims["software_redirect_uris"], "token_endpoint_auth_method": "tls_client_auth",
		"software_statement": strings.TrimSpace(string(ssa)), "scope": "accounts openid", "request_object_signing_alg": "PS256",
		"id_token_signed_response_alg": "PS256", "response_types": []any{"code id_token"},
		"tls_client_auth_subject_dn": pki.SubjectDN(transport.Leaf)}
	if transport.Leaf == nil {
		leaf, _ := pki.LoadCertificate(filepath.Join(bankDir, pki.Files.Transport))
		claims["tls_client_auth_subject_dn"] = pki.SubjectDN(leaf)
	}
	sign := func(c jose.Claims) string {
		tok, err := jose.Sign("PS256", signing.Key, jose.Header{"alg": "PS256", "kid": signing.Kid, "typ": "JWT"}, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	st, reg := do(mtls, http.MethodPost, regURL, "application/jose", "", sign(claims))
	id, _ := reg["client_id"].(string)
	if st != 201 || id == "" {
		t.Fatalf("register: %d %v", st, reg)
	}
	st, tok := do(mtls, http.MethodPost, tokenURL, "application/x-www-form-urlencoded", "",
		url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "scope": {"openid"}}.Encode())
	access, _ := tok["access_token"].(string)
	if st != 200 || access == "" {
		t.Fatalf("token: %d", st)
	}
	if st, _ := do(mtls, http.MethodGet, regURL+"/"+id, "", access, ""); st != 200 {
		t.Errorf("GET: %d", st)
	}
	if st, _ := do(mtls, http.MethodGet, regURL+"/"+id, "", " ", ""); st != 401 {
		t.Errorf("GET with an empty token: %d", st)
	}
	claims["jti"] = request.NewJTI()
	if st, body := do(mtls, http.MethodPut, regURL+"/"+id, "application/jose", access, sign(claims)); st != 200 {
		t.Errorf("PUT: %d %v", st, body)
	}
	if st, _ := do(mtls, http.MethodDelete, regURL+"/"+id, "", access, ""); st != 204 {
		t.Errorf("DELETE: %d", st)
	}
	if st, _ := do(mtls, http.MethodGet, regURL+"/"+id, "", access, ""); st != 401 {
		t.Errorf("GET after DELETE: %d", st)
	}
}

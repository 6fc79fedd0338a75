package judge

import (
	"testing"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/jose"
)

func TestRefusedNeedsARealRefusal(t *testing.T) {
	for name, tc := range map[string]struct {
		ex *client.Exchange
		ok bool
	}{
		"tls alert":      {&client.Exchange{Error: "remote error: tls: certificate required"}, true},
		"401":            {exchange(nil, 401, map[string]any{"error": "invalid_client"}), true},
		"registered":     {exchange(nil, 200, map[string]any{"client_id": "x"}), false},
		"not configured": {&client.Exchange{Error: `no client certificate of kind "forged" is configured`}, false},
		"timeout":        {&client.Exchange{Error: "timeout: context deadline exceeded"}, false},
	} {
		if got := (Refused{}).Judge(claimsContext(t, "revolut", tc.ex)).OK(); got != tc.ok {
			t.Errorf("%s: OK = %v, want %v", name, got, tc.ok)
		}
	}
}

func TestHandshakeRefused(t *testing.T) {
	e := HandshakeRefused{What: "TLS 1.0/1.1"}
	for name, tc := range map[string]struct {
		ex *client.Exchange
		ok bool
	}{
		"alert":        {&client.Exchange{Error: "remote error: tls: protocol version not supported"}, true},
		"answered":     {exchange(nil, 400, map[string]any{}), false},
		"local refuse": {&client.Exchange{Error: "tls: no supported versions satisfy MinVersion and MaxVersion"}, false},
	} {
		if got := e.Judge(claimsContext(t, "obie-3.2", tc.ex)).OK(); got != tc.ok {
			t.Errorf("%s: OK = %v, want %v", name, got, tc.ok)
		}
	}
}

func TestDistinctClients(t *testing.T) {
	a := exchange(nil, 200, map[string]any{"client_id": "a"})
	b := exchange(nil, 200, map[string]any{"client_id": "b"})
	if !(DistinctClients{}).Judge(claimsContext(t, "revolut", a, b)).OK() {
		t.Error("two client_ids judged as one")
	}
	if (DistinctClients{}).Judge(claimsContext(t, "revolut", a, a)).OK() {
		t.Error("a reused client_id passed")
	}
	// A case that forgot Sends: 2 makes one registration, which proves nothing about a second.
	if (DistinctClients{}).Judge(claimsContext(t, "revolut", a)).OK() {
		t.Error("a single registration passed as distinct clients")
	}
}

func TestShapeChecks(t *testing.T) {
	sent := jose.Claims{"scope": "openid accounts", "token_endpoint_auth_method": "tls_client_auth"}
	for name, tc := range map[string]struct {
		check BodyCheck
		prof  string
		body  map[string]any
		ok    bool
	}{
		"scope string":         {ScopeShape, "obie-3.2", map[string]any{"scope": "accounts openid"}, true},
		"scope array in 3.2":   {ScopeShape, "obie-3.2", map[string]any{"scope": []any{"openid"}}, false},
		"scope not requested":  {ScopeShape, "obie-3.2", map[string]any{"scope": "openid payments"}, false},
		"scope without openid": {ScopeShape, "revolut", map[string]any{"scope": "accounts"}, false},
		"secret for mtls":      {SecretRules, "obie-3.2", map[string]any{"client_secret": "[REDACTED]", "client_secret_expires_at": 0}, false},
		"no secret":            {SecretRules, "obie-3.2", map[string]any{}, true},
		"redirects":            {RedirectURIsShape, "revolut", map[string]any{"redirect_uris": []any{"https://tpp.example/cb"}}, true},
		"redirect string":      {RedirectURIsShape, "revolut", map[string]any{"redirect_uris": "https://tpp.example/cb"}, false},
		"redirect localhost":   {RedirectURIsShape, "revolut", map[string]any{"redirect_uris": []any{"https://127.0.0.1/cb"}}, false},
		"grant types empty":    {GrantTypesShape, "obie-3.1", map[string]any{"grant_types": []any{}}, false},
		"dn missing":           {DNShape, "obie-3.2", map[string]any{"token_endpoint_auth_method": "tls_client_auth"}, false},
		"enum outside":         {ProfileEnums, "revolut", map[string]any{"id_token_signed_response_alg": "ES256"}, false},
	} {
		var j Judgement
		tc.check.Fn(claimsContext(t, tc.prof), client.RecordedRequest{JWTClaims: sent}, tc.body, &j)
		if j.OK() != tc.ok {
			t.Errorf("%s: OK = %v, want %v (%v)", name, j.OK(), tc.ok, j.Checks)
		}
	}
}

func TestRejectedOrCut(t *testing.T) {
	e := RejectedOrCut{Rejected: Rejected{Statuses: []int{413, 400}}}
	cut := &client.Exchange{Error: "write tcp: write: connection reset by peer"}
	if !e.Judge(claimsContext(t, "revolut", cut)).OK() {
		t.Error("a reset during the upload is a refusal")
	}
	if e.Judge(claimsContext(t, "revolut", exchange(nil, 200, map[string]any{"client_id": "x"}))).OK() {
		t.Error("a registration passed")
	}
}

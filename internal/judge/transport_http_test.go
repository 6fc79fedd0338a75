package judge

import (
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/jose"
)

// result is a judgement in one word, as the engine turns it into a verdict.
func result(j Judgement) string {
	switch {
	case j.Inconclusive != "":
		return "inconclusive"
	case j.OK():
		return "pass"
	}
	return "fail"
}

// noResponseEx is a call that got no HTTP response, of the given kind.
func noResponseEx(kind client.Failure, msg string, mod ...func(*client.Exchange)) *client.Exchange {
	ex := &client.Exchange{Error: msg, Failure: kind}
	for _, m := range mod {
		m(ex)
	}
	return ex
}

func handshakeDone(ex *client.Exchange) { ex.TLSVersion = "TLS 1.3" }

// A TLS case passes only on a refusal by the bank after our side verified the bank: never on
// our own verification failure, a timeout, or a handshake that completed and was followed by
// garbage. The kinds come from the client's classification, never from error text.
func TestRefusedNeedsARealRefusal(t *testing.T) {
	accepted := &Control{Accepted: true, Answer: "200"}
	refused := &Control{Accepted: false, Answer: `400 invalid_software_statement: "unknown kid"`}
	for name, tc := range map[string]struct {
		ex      *client.Exchange
		control *Control
		want    string
	}{
		"tls alert":                      {noResponseEx(client.TLSAlert, "remote error: tls: certificate required"), accepted, "pass"},
		"reset in handshake":             {noResponseEx(client.HandshakeReset, "read: connection reset by peer"), accepted, "pass"},
		"alert, control refused":         {noResponseEx(client.TLSAlert, "remote error: tls: certificate required"), refused, "pass"},
		"401":                            {exchange(nil, 401, map[string]any{"error": "invalid_client"}), accepted, "pass"},
		"403, control refused":           {exchange(nil, 403, map[string]any{"error": "invalid_client"}), refused, "inconclusive"},
		"registered":                     {exchange(nil, 200, map[string]any{"client_id": "x"}), accepted, "fail"},
		"registered, control refused":    {exchange(nil, 200, map[string]any{"client_id": "x"}), refused, "fail"},
		"not configured":                 {noResponseEx(client.NotSent, `no client certificate of kind "forged" is configured`), accepted, "inconclusive"},
		"timeout":                        {noResponseEx(client.Timeout, "timeout: context deadline exceeded"), accepted, "inconclusive"},
		"our verification":               {noResponseEx(client.ServerCertUntrusted, "x509: certificate signed by unknown authority"), accepted, "inconclusive"},
		"reset after handshake":          {noResponseEx(client.Reset, "read: connection reset by peer", handshakeDone), accepted, "fail"},
		"garbage after handshake":        {noResponseEx(client.Protocol, `malformed HTTP response "\x00\x00\x12\x04"`, handshakeDone), accepted, "fail"},
		"error text alone is no refusal": {&client.Exchange{Error: "remote error: tls: certificate required"}, accepted, "inconclusive"},
	} {
		c := claimsContext(t, "revolut", tc.ex)
		c.Control = tc.control
		if got := result((Refused{}).Judge(c)); got != tc.want {
			t.Errorf("%s: %s, want %s", name, got, tc.want)
		}
	}
}

func TestHandshakeRefused(t *testing.T) {
	e := HandshakeRefused{What: "TLS 1.0/1.1"}
	for name, tc := range map[string]struct {
		ex   *client.Exchange
		want string
	}{
		"alert":                   {noResponseEx(client.TLSAlert, "remote error: tls: protocol version not supported"), "pass"},
		"answered":                {exchange(nil, 400, map[string]any{}), "fail"},
		"local refuse":            {noResponseEx(client.NotSent, "tls: no supported versions satisfy MinVersion and MaxVersion"), "inconclusive"},
		"timeout":                 {noResponseEx(client.Timeout, "i/o timeout"), "inconclusive"},
		"completed, then garbage": {noResponseEx(client.Protocol, "malformed HTTP response", func(ex *client.Exchange) { ex.TLSVersion = "TLS 1.0" }), "fail"},
	} {
		if got := result(e.Judge(claimsContext(t, "obie-3.2", tc.ex))); got != tc.want {
			t.Errorf("%s: %s, want %s", name, got, tc.want)
		}
	}
}

// A rejection proves something only while the valid control request is accepted.
func TestRejectionNeedsAnAcceptedControl(t *testing.T) {
	rejected := exchange(nil, 400, map[string]any{"Code": "400", "Id": "x", "Message": "bad", "Errors": []any{map[string]any{"ErrorCode": "UK.OBIE.Field.Invalid", "Message": "bad"}}})
	rejected.Response.Header.Set("Content-Type", "application/json")
	for name, tc := range map[string]struct {
		control *Control
		ex      *client.Exchange
		want    string
	}{
		"control accepted": {&Control{Accepted: true}, rejected, "pass"},
		"control refused":  {&Control{Answer: "400"}, rejected, "inconclusive"},
		"control refused, invalid request registered": {&Control{Answer: "400"}, exchange(nil, 200, map[string]any{"client_id": "x"}), "fail"},
		"no answer": {&Control{Accepted: true}, noResponseEx(client.Timeout, "i/o timeout"), "inconclusive"},
		"reset":     {&Control{Accepted: true}, noResponseEx(client.Reset, "connection reset by peer", handshakeDone), "fail"},
	} {
		c := claimsContext(t, "revolut", tc.ex)
		c.Control = tc.control
		if got := result((Rejected{}).Judge(c)); got != tc.want {
			t.Errorf("%s: %s, want %s (%+v)", name, got, tc.want, (Rejected{}).Judge(c))
		}
	}
}

func TestAnswerShowsTheBanksWordsSafely(t *testing.T) {
	p := claimsContext(t, "obie-3.2").Profile
	ex := exchange(nil, 400, map[string]any{"error": "invalid_software_statement", "error_description": "kid \x1b[2J unknown " + strings.Repeat("x", 300)})
	got := Answer(p, ex)
	if !strings.HasPrefix(got, `400 invalid_software_statement: "kid \x1b[2J unknown `) {
		t.Errorf("answer = %q", got)
	}
	if strings.ContainsRune(got, 0x1b) || len(got) > 300 {
		t.Errorf("answer not made safe or not cut: %q", got)
	}
	if got := Answer(p, noResponseEx(client.Timeout, "i/o timeout")); !strings.Contains(got, "did not answer in time") {
		t.Errorf("no-response answer = %q", got)
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

package judge

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/contract"
	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/profile"
)

func claimsContext(t *testing.T, prof string, exs ...*client.Exchange) *Context {
	t.Helper()
	p := profile.MustGet(prof)
	v, err := contract.Load(p.Spec)
	if err != nil {
		t.Fatal(err)
	}
	return &Context{Profile: p, Contract: v, Exchanges: exs}
}

func exchange(claims jose.Claims, status int, body map[string]any) *client.Exchange {
	b, _ := json.Marshal(body)
	return &client.Exchange{
		Request:  client.RecordedRequest{JWTClaims: claims},
		Response: &client.RecordedResponse{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: b},
	}
}

func TestRejectOrSubstitute(t *testing.T) {
	e := RejectOrSubstitute{Claims: []string{"token_endpoint_auth_method"},
		Supported: func(p profile.Profile) []string { return p.AuthMethods }}
	sent := jose.Claims{"token_endpoint_auth_method": "none"}
	for name, tc := range map[string]struct {
		ex   *client.Exchange
		ok   bool
		note string
	}{
		"rejected":     {exchange(sent, 400, map[string]any{"error": "invalid_client_metadata"}), true, "rejected"},
		"substituted":  {exchange(sent, 201, map[string]any{"client_id": "x", "token_endpoint_auth_method": "tls_client_auth"}), true, "substituted"},
		"kept":         {exchange(sent, 201, map[string]any{"client_id": "x", "token_endpoint_auth_method": "none"}), false, "kept"},
		"not echoed":   {exchange(sent, 201, map[string]any{"client_id": "x"}), false, "not returned"},
		"server error": {exchange(sent, 500, map[string]any{"error": "server_error"}), false, ""},
	} {
		j := e.Judge(claimsContext(t, "obie-3.2", tc.ex))
		if j.OK() != tc.ok || !strings.Contains(j.Observation, tc.note) {
			t.Errorf("%s: ok=%v observation %q; checks %v", name, j.OK(), j.Observation, j.Checks)
		}
	}
}

func TestRejectOrSubstituteScope(t *testing.T) {
	e := RejectOrSubstitute{Claims: []string{"scope"}, Supported: func(p profile.Profile) []string { return p.Scopes }}
	sent := jose.Claims{"scope": "openid accounts admin"}
	if j := e.Judge(claimsContext(t, "obie-3.2", exchange(sent, 201, map[string]any{"scope": "openid accounts"}))); !j.OK() {
		t.Errorf("dropping the unknown scope is a substitution: %v", j.Checks)
	}
	if j := e.Judge(claimsContext(t, "obie-3.2", exchange(sent, 201, map[string]any{"scope": "openid accounts admin"}))); j.OK() {
		t.Error("echoing the unknown scope must fail")
	}
}

func TestMissingClaimCodes(t *testing.T) {
	all := jose.Claims{}
	for _, n := range profile.MustGet("obie-3.2").RequiredClaims {
		all[n] = "x"
	}
	without := func(name string) jose.Claims {
		c := jose.Claims{}
		for k, v := range all {
			if k != name {
				c[k] = v
			}
		}
		return c
	}
	for name, tc := range map[string]struct {
		claims jose.Claims
		code   string
		ok     bool
	}{
		"ssa missing, ssa code":        {without("software_statement"), "invalid_software_statement", true},
		"redirects missing, redirect":  {without("redirect_uris"), "invalid_redirect_uri", true},
		"exp missing, metadata":        {without("exp"), "invalid_client_metadata", true},
		"exp missing, wrong code":      {without("exp"), "invalid_redirect_uri", false},
		"nothing missing, not a probe": {all, "invalid_client_metadata", false},
	} {
		ex := exchange(tc.claims, 400, map[string]any{"error": tc.code})
		if j := (MissingClaim{}).Judge(claimsContext(t, "obie-3.2", ex)); j.OK() != tc.ok {
			t.Errorf("%s: ok=%v, checks %v", name, j.OK(), j.Checks)
		}
	}
}

func TestReplayRejected(t *testing.T) {
	e := ReplayRejected{}
	ok := exchange(nil, 201, map[string]any{"client_id": "x"})
	refused := exchange(nil, 400, map[string]any{"error": "invalid_client_metadata"})
	if j := e.Judge(claimsContext(t, "obie-3.1", ok, refused)); !j.OK() {
		t.Errorf("registered then refused: %v", j.Checks)
	}
	if j := e.Judge(claimsContext(t, "obie-3.1", ok, ok)); j.OK() {
		t.Error("a replay that registers again must fail")
	}
	if j := e.Judge(claimsContext(t, "obie-3.1", refused, refused)); j.OK() {
		t.Error("a first send that is refused proves nothing about replay")
	}
}

func TestSSAPrecedence(t *testing.T) {
	chk := SSAPrecedence("software_client_name")
	sent := client.RecordedRequest{JWTClaims: jose.Claims{"software_client_name": "request"},
		SSAClaims: jose.Claims{"software_client_name": "statement"}}
	for body, want := range map[string]bool{"statement": true, "request": false, "": true} {
		b := map[string]any{}
		if body != "" {
			b["software_client_name"] = body
		}
		var j Judgement
		chk.Fn(nil, sent, b, &j)
		if j.OK() != want {
			t.Errorf("response %q: ok=%v, want %v", body, j.OK(), want)
		}
	}
}

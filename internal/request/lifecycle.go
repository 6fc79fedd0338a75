package request

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Session is what the lifecycle steps of one run learn and pass on: the client the control
// registration made, the token a step obtained. Values (tokens among them) live in memory only;
// what the client records of an exchange is redacted.
type Session struct {
	mu     sync.Mutex
	values map[string]string
}

// Session keys the lifecycle cases share.
const (
	// KeyClientID is the client the control registration made.
	KeyClientID = "client_id"
	// KeyToken is the client_credentials access token of that client.
	KeyToken = "token"
	// KeyOtherClientID is a second client, for the cross-client case.
	KeyOtherClientID = "other_client_id"
	// KeyProbeToken is a token used up by a probe that may revoke it.
	KeyProbeToken = "probe_token"
)

// Set keeps a value for the steps after.
func (s *Session) Set(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = map[string]string{}
	}
	s.values[key] = value
}

// Get returns a kept value, "" when none.
func (s *Session) Get(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.values[key]
}

// ManagementURL is the RFC 7592 / OBIE management URL of a client: the registration endpoint
// followed by the client's id.
func (id *Identity) ManagementURL(clientID string) string {
	return strings.TrimSuffix(id.Endpoint, "/") + "/" + url.PathEscape(clientID)
}

// AsTokenRequest turns the draft into a client_credentials token request for the client, with
// tls_client_auth (the client certificate authenticates; client_id names the client, as RFC
// 8705 requires and as Revolut needs when a certificate has several clients).
func (d *Draft) AsTokenRequest(id *Identity, clientID string) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}}
	if len(id.Scope) > 0 {
		form.Set("scope", strings.Join(id.Scope, " "))
	}
	d.Method, d.URL, d.ContentType = http.MethodPost, id.TokenEndpoint, "application/x-www-form-urlencoded"
	d.Body = []byte(form.Encode())
	d.Header = http.Header{"Accept": {"application/json"}}
}

// AsManagement turns the draft into a management call on a client: GET or DELETE with no body,
// or PUT with the draft's signed registration request as its body. An empty token sends no
// Authorization header.
func (d *Draft) AsManagement(id *Identity, method, clientID, token string) {
	d.Method, d.URL = method, id.ManagementURL(clientID)
	d.Header = http.Header{"Accept": {"application/json"}}
	if token != "" {
		d.Header.Set("Authorization", "Bearer "+token)
	}
	if method != http.MethodPut {
		d.ContentType = ""
		d.Body = []byte{}
	}
}

package refbank_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/refbank"
	"github.com/dcrconform/dcrconform/internal/request"
)

// httpFaultCases pin the faults of faults_http.go (and the empty-body reach of
// crash-on-malformed-jwt): the clean bank answers one way, the faulty one the way its
// description says.
func httpFaultCases() []faultCase {
	obie := []string{"obie-3.2"}
	discovery := func(t *testing.T, e *bankEnv) (*request.Prepared, *result) {
		url := strings.TrimSuffix(e.bank.RegistrationURL(), "/register") + "/.well-known/openid-configuration"
		return nil, e.send(t, &request.Prepared{Method: http.MethodGet, URL: url, Header: http.Header{}, Cert: request.CertTransport})
	}
	member := func(name string, present bool) checkFunc {
		return func(t *testing.T, _ *bankEnv, _ *request.Prepared, r *result) {
			t.Helper()
			if r.err != nil || r.status != http.StatusOK {
				t.Fatalf("want 200, got %v", r)
			}
			if _, ok := r.json[name]; ok != present {
				t.Errorf("%s present: want %v, got %v", name, present, ok)
			}
		}
	}
	plainJSON := func(t *testing.T, e *bankEnv) (*request.Prepared, *result) {
		p := build(t, e.draft())
		_, claims, err := jose.Decode(p.Token)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(claims)
		return p, e.raw(t, http.MethodPost, "application/json", b)
	}
	padded := alter(func(d *request.Draft, _ *bankEnv) {
		for i := 0; i < 256; i++ {
			d.Claims[fmt.Sprintf("x_padding_%03d", i)] = strings.Repeat("a", 4000)
		}
	})
	// A server enforcing its limit may close the connection before the client has sent it all.
	tooLarge := func(t *testing.T, e *bankEnv, _ *request.Prepared, r *result) {
		t.Helper()
		if r.err == nil {
			wantRejected(t, e.p.ErrorFormat, r, rejection{status: http.StatusRequestEntityTooLarge})
		}
	}
	secondClient := func(same bool) checkFunc {
		return func(t *testing.T, e *bankEnv, _ *request.Prepared, r *result) {
			t.Helper()
			wantSuccess(t, e.p, r)
			_, r2 := e.register(t, nil)
			wantSuccess(t, e.p, r2)
			if got := r.json["client_id"] == r2.json["client_id"]; got != same {
				t.Errorf("same client_id for two registrations: want %v, got %v", same, got)
			}
		}
	}
	return []faultCase{
		{fault: refbank.FaultDiscoveryNoRegistration, send: discovery,
			clean: member("registration_endpoint", true), faulty: member("registration_endpoint", false)},
		{fault: refbank.FaultExactRedirects,
			send:  alter(func(d *request.Draft, e *bankEnv) { d.Claims["redirect_uris"] = []any{e.id.RedirectURIs[0]} }),
			clean: succeeded, faulty: rejected(rejection{rfc: badRedirect, msg: "every one"})},
		{fault: refbank.FaultScopeOrder,
			send: alter(func(d *request.Draft, e *bankEnv) {
				d.Claims["scope"] = e.p.EncodeScope([]string{"payments", "accounts", "openid"})
			}),
			clean: succeeded, faulty: rejected(rejection{rfc: badMeta, msg: "order"})},
		{fault: refbank.FaultReuseClientID, profiles: []string{"revolut"}, send: happy,
			clean: secondClient(false), faulty: secondClient(true)},
		{fault: refbank.FaultRequireResponseTypes, profiles: obie,
			send:  alter(func(d *request.Draft, _ *bankEnv) { delete(d.Claims, "response_types") }),
			clean: succeeded, faulty: rejected(rejection{rfc: badMeta, ob: obFieldMissing, msg: "response_types"})},
		{fault: refbank.FaultRedirectsAsString, send: happy,
			clean:  succeededWith("redirect_uris", []any{testRedirects[0], testRedirects[1]}),
			faulty: succeededWith("redirect_uris", strings.Join(testRedirects, " "))},
		{fault: refbank.FaultEmptyGrantTypes, profiles: obie, send: happy,
			clean:  succeededWith("grant_types", []any{"client_credentials", "authorization_code", "refresh_token"}),
			faulty: succeededWith("grant_types", []any{})},
		{fault: refbank.FaultAcceptJSON, send: plainJSON,
			clean: rejected(rejection{status: http.StatusUnsupportedMediaType}), faulty: succeeded},
		{fault: refbank.FaultNoBodyLimit, send: padded, clean: tooLarge, faulty: succeeded},
		{fault: refbank.FaultNoClaimBounds,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.Claims["client_name"] = strings.Repeat("n", 10000) }),
			clean: rejected(rejection{rfc: badMeta, msg: "client_name"}), faulty: succeeded},
		{fault: refbank.FaultAnyMethod,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.Method = http.MethodPut }),
			clean: rejected(rejection{status: http.StatusMethodNotAllowed}), faulty: succeeded},
		{fault: refbank.FaultCrashOnMalformed,
			send: func(t *testing.T, e *bankEnv) (*request.Prepared, *result) {
				return nil, e.raw(t, http.MethodPost, e.p.MediaType, nil)
			},
			clean: rejected(rejection{ob: obFieldMissing, msg: "empty"}), faulty: status(http.StatusInternalServerError)},
	}
}

// TestDNBindingNeedsAVerifiedCertificate: a bank that does not verify client certificates has no
// subject to hold the DN claim against, so a forged one with the victim's subject gets through.
func TestDNBindingNeedsAVerifiedCertificate(t *testing.T) {
	e := newEnv(t, "revolut", withFaults(refbank.FaultAcceptUntrustedCert))
	_, r := e.register(t, func(d *request.Draft) { d.Cert = request.CertUntrusted })
	wantSuccess(t, e.p, r)
}

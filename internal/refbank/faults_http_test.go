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
	// About 210 KB: over the 64 KiB limit, yet short enough that Go's server drains what the
	// bank left unread (up to 256 KiB) before answering, so the clean bank's 413 always reaches
	// the client instead of a reset connection.
	padded := alter(func(d *request.Draft, _ *bankEnv) {
		for i := 0; i < 40; i++ {
			d.Claims[fmt.Sprintf("x_padding_%03d", i)] = strings.Repeat("a", 4000)
		}
	})
	secondClient := func(same bool) checkFunc {
		return func(t *testing.T, e *bankEnv, _ *request.Prepared, r *result) {
			t.Helper()
			wantSuccess(t, e.p, r)
			_, r2 := e.register(t, nil)
			wantSuccess(t, e.p, r2)
			if got := r.json["client_id"] == r2.json["client_id"]; got != same {
				t.Errorf("same client_id for two registrations: want %v, got %v", same, got)
			}
			want := 2
			if same {
				want = 1
			}
			if n := e.bank.Clients(); n != want {
				t.Errorf("bank holds %d clients after two registrations, want %d", n, want)
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
		{fault: refbank.FaultNoBodyLimit, send: padded,
			clean: rejected(rejection{status: http.StatusRequestEntityTooLarge}), faulty: succeeded},
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

// TestPlainJSONBodyLimit: a plain JSON registration is read under the same body limit as a
// signed one, so an oversized one gets 413 too.
func TestPlainJSONBodyLimit(t *testing.T) {
	e := newEnv(t, "obie-3.2", withFaults(refbank.FaultAcceptJSON))
	body := []byte(`{"client_name":"` + strings.Repeat("n", 100<<10) + `"}`)
	wantRejected(t, e.p.ErrorFormat, e.raw(t, http.MethodPost, "application/json", body),
		rejection{status: http.StatusRequestEntityTooLarge})
}

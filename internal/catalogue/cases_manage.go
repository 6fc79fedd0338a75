package catalogue

import (
	"errors"
	"net/http"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/judge"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/request"
)

// chainLifecycle is the chain of the lifecycle cases: they read, change and finally delete the
// client of the control registration, so they never run at the same time.
const chainLifecycle = "lifecycle"

// errNoClient says a lifecycle step has no client to work on.
var errNoClient = errors.New("no registered client to continue from (the control registration was not accepted)")

// tokenRequest builds a client_credentials request for the client kept under clientKey.
func tokenRequest(clientKey string) Alter {
	return func(d *request.Draft, id *request.Identity) error {
		cid := id.Session.Get(clientKey)
		if cid == "" {
			return errNoClient
		}
		d.AsTokenRequest(id, cid)
		return nil
	}
}

// keepToken keeps the access token of a token response under key.
func keepToken(key string) func(*request.Session, *client.Exchange) {
	return func(s *request.Session, ex *client.Exchange) { s.Set(key, ex.Secret("access_token")) }
}

// manage builds a management call on the client kept under clientKey, with the token kept
// under tokenKey ("" sends none). A PUT carries the happy-path registration request, which
// alter may change first.
func manage(method, clientKey, tokenKey string, alter Alter) Alter {
	return func(d *request.Draft, id *request.Identity) error {
		cid := id.Session.Get(clientKey)
		if cid == "" {
			return errNoClient
		}
		if alter != nil {
			if err := alter(d, id); err != nil {
				return err
			}
		}
		tok := ""
		if tokenKey != "" {
			if tok = id.Session.Get(tokenKey); tok == "" {
				return errors.New("no access token to continue from (HP-04 got none)")
			}
		}
		d.AsManagement(id, method, cid, tok)
		return nil
	}
}

// firstRedirectOnly narrows the request's redirect_uris to the first of the SSA's: a change an
// update within the SSA may make.
func firstRedirectOnly(d *request.Draft, id *request.Identity) error {
	if len(id.RedirectURIs) < 2 {
		return errors.New("an update within the SSA needs an SSA with at least two redirect URIs")
	}
	d.Claims["redirect_uris"] = []any{id.RedirectURIs[0]}
	return nil
}

// manageCases are the registration lifecycle: a token for the new client, then GET, PUT and
// DELETE /register/{ClientId} with it (optional operations in OBIE, documented by Revolut), as
// one chain on the control registration's client.
func manageCases() []*Case {
	get := func(tokenKey string) Alter { return manage(http.MethodGet, request.KeyClientID, tokenKey, nil) }
	withCert := func(c request.Cert) Alter {
		return func(d *request.Draft, id *request.Identity) error {
			if err := get(request.KeyToken)(d, id); err != nil {
				return err
			}
			d.Cert = c
			return nil
		}
	}
	return []*Case{
		{
			ID: "HP-04", Title: "The new client gets a client_credentials token", Group: GroupManage,
			Ref:    "OBIE DCR v3.1 (client_credentials token for management); RFC 8705 2 (tls_client_auth); Revolut get-a-client-id",
			Levels: All(SHOULD), Needs: []Capability{TokenEndpoint}, After: "HP-01", Chain: chainLifecycle,
			Calls:  []Call{{Alter: tokenRequest(request.KeyClientID), Capture: keepToken(request.KeyToken)}},
			Expect: judge.TokenIssued{},
		},
		{
			ID: "MGT-01", Title: "GET returns the registered client", Group: GroupManage,
			Ref:    "OBIE DCR v3.1 GET /register/{ClientId} (200); Revolut get-an-application",
			Levels: All(MUST), Needs: []Capability{ManageGet}, After: "HP-04", Chain: chainLifecycle,
			Calls:  []Call{{Alter: get(request.KeyToken)}},
			Expect: judge.ClientRead{},
		},
		{
			ID: "MGT-02", Title: "GET without a token is 401 with a Bearer challenge", Group: GroupManage,
			Ref:    "OBIE DCR v3.1 GET /register/{ClientId} (401); RFC 6750 3",
			Levels: All(MUST), Needs: []Capability{ManageGet}, After: "HP-01", Chain: chainLifecycle,
			Calls:  []Call{{Alter: get("")}},
			Expect: judge.Unauthorized{},
		},
		{
			ID: "MGT-03", Title: "GET with an invalid token is 401", Group: GroupManage,
			Ref:    "OBIE DCR v3.1 GET /register/{ClientId} (401); OBIE conformance DCR-007",
			Levels: All(MUST), Needs: []Capability{ManageGet}, After: "HP-01", Chain: chainLifecycle,
			Variants: []Variant{
				{Name: "empty", Title: "empty bearer token", Alter: func(d *request.Draft, id *request.Identity) error {
					if err := get("")(d, id); err != nil {
						return err
					}
					d.Header.Set("Authorization", "Bearer ")
					return nil
				}},
				{Name: "unknown", Title: "a token the bank never issued", Alter: func(d *request.Draft, id *request.Identity) error {
					if err := get("")(d, id); err != nil {
						return err
					}
					d.Header.Set("Authorization", "Bearer dcrconform-"+request.NewJTI())
					return nil
				}},
			},
			Expect: judge.Unauthorized{},
		},
		{
			ID: "MGT-04", Title: "A client's token cannot read another client", Group: GroupManage,
			Ref:    "OBIE DCR v3.2 swagger GET /register/{ClientId} (403); Revolut UK.OBIE.Resource.Forbidden",
			Levels: All(MUST), Needs: []Capability{ManageGet}, After: "HP-04", Chain: chainLifecycle,
			Calls: []Call{
				{Alter: func(*request.Draft, *request.Identity) error { return nil },
					Capture: func(s *request.Session, ex *client.Exchange) {
						if id, ok := clientIDIn(ex); ok {
							s.Set(request.KeyOtherClientID, id)
						}
					}},
				{Alter: manage(http.MethodGet, request.KeyOtherClientID, request.KeyToken, nil)},
			},
			Expect: judge.Forbidden{},
		},
		{
			ID: "MGT-05", Title: "An unknown ClientId is 401, never 404", Group: GroupManage,
			Ref:    "OBIE DCR v3.1 GET /register/{ClientId} (unknown client: 401 and the token revoked)",
			Levels: All(MUST), Needs: []Capability{ManageGet}, After: "HP-04", Chain: chainLifecycle,
			Calls: []Call{
				{Alter: tokenRequest(request.KeyClientID), Capture: keepToken(request.KeyProbeToken)},
				{Alter: func(d *request.Draft, id *request.Identity) error {
					d.AsManagement(id, http.MethodGet, "dcrconform-unknown-"+request.NewJTI(), id.Session.Get(request.KeyProbeToken))
					return nil
				}},
				{Alter: manage(http.MethodGet, request.KeyClientID, request.KeyProbeToken, nil)},
			},
			Expect: judge.UnknownClient{Revokes: true},
			ExpectBy: map[string]judge.Expectation{
				profile.Default: judge.UnknownClient{},
			},
		},
		{
			ID: "MGT-07", Title: "PUT outside the software statement is refused", Group: GroupManage,
			Ref:    "OBIE DCR v3.1 PUT /register/{ClientId} (400 invalid_redirect_uri); OIDF brazil-dcr-update",
			Levels: All(MUST), Needs: []Capability{ManagePut}, After: "HP-04", Chain: chainLifecycle,
			Calls: []Call{{Alter: manage(http.MethodPut, request.KeyClientID, request.KeyToken, func(d *request.Draft, _ *request.Identity) error {
				d.Claims["redirect_uris"] = []any{"https://not-in-the-software-statement.dcrconform.example/cb"}
				return nil
			})}},
			Expect: judge.Rejected{RFCCodes: []string{profile.ErrInvalidRedirectURI, profile.ErrInvalidClientMetadata}},
			ExpectBy: map[string]judge.Expectation{
				profile.Default: judge.Rejected{},
			},
		},
		{
			ID: "MGT-06", Title: "PUT within the software statement takes effect", Group: GroupManage,
			Ref:    "OBIE DCR v3.1 PUT /register/{ClientId} (200); Revolut update-an-application",
			Levels: All(MUST), Needs: []Capability{ManagePut, ManageGet}, After: "HP-04", Chain: chainLifecycle,
			// The GET after the PUT uses a token of its own, so a bank that revokes tokens on
			// an update fails MGT-08 (which reads with the old one), not this case.
			Calls: []Call{
				{Alter: manage(http.MethodPut, request.KeyClientID, request.KeyToken, firstRedirectOnly)},
				{Alter: tokenRequest(request.KeyClientID), Capture: keepToken(request.KeyProbeToken)},
				{Alter: get(request.KeyProbeToken)},
			},
			Expect: judge.Updated{},
		},
		{
			ID: "MGT-08", Title: "Tokens survive a PUT", Group: GroupManage,
			Ref:    "OBIE DCR v3.1 PUT /register/{ClientId} (an update must not invalidate issued tokens)",
			Levels: All(MUST), Needs: []Capability{ManagePut, ManageGet}, After: "MGT-06", Chain: chainLifecycle,
			Calls:  []Call{{Alter: get(request.KeyToken)}},
			Expect: judge.StatusOnly{Statuses: []int{http.StatusOK}},
		},
		{
			ID: "MGT-12", Title: "Management calls without a trusted client certificate are refused", Group: GroupManage,
			Ref:    "OBIE DCR v3.1 (mutual TLS on every DCR endpoint); OIDF brazil-dcr-no-mtls",
			Levels: All(MUST), Needs: []Capability{ManageGet}, After: "HP-04", Chain: chainLifecycle,
			Variants: []Variant{
				{Name: "no-cert", Title: "no client certificate", Alter: withCert(request.CertNone)},
				{Name: "untrusted-cert", Title: "a certificate from a CA the bank does not trust", Needs: []Capability{UntrustedCert},
					Alter: withCert(request.CertUntrusted)},
			},
			Expect: judge.Refused{},
		},
		{
			ID: "MGT-09", Title: "DELETE removes the client with 204", Group: GroupManage,
			Ref:    "OBIE DCR v3.2 swagger DELETE /register/{ClientId} (204); Revolut delete-an-application",
			Levels: All(MUST), Needs: []Capability{ManageDelete}, After: "HP-04", Chain: chainLifecycle,
			Calls:  []Call{{Alter: manage(http.MethodDelete, request.KeyClientID, request.KeyToken, nil)}},
			Expect: judge.StatusOnly{Statuses: []int{http.StatusNoContent}},
		},
		{
			ID: "MGT-11", Title: "DELETE where the bank does not offer it is 405", Group: GroupManage,
			Ref:    "RFC 7592 2.3 (405 when deletion is not supported); OBIE DCR v3.2 swagger DELETE (405)",
			Levels: All(MUST), Needs: []Capability{NoManageDelete}, After: "HP-04", Chain: chainLifecycle,
			Calls:  []Call{{Alter: manage(http.MethodDelete, request.KeyClientID, request.KeyToken, nil)}},
			Expect: judge.StatusOnly{Statuses: []int{http.StatusMethodNotAllowed}},
		},
		{
			ID: "MGT-10", Title: "A deleted client is gone: GET, PUT, DELETE and tokens refused", Group: GroupManage,
			Ref:    "OBIE DCR v3.1 (deleted client: 401); OIDF brazildcr-client-delete; OBIE conformance DCR-003",
			Levels: All(MUST), Needs: []Capability{ManageDelete}, After: "MGT-09", Chain: chainLifecycle,
			Calls: []Call{
				{Alter: manage(http.MethodGet, request.KeyClientID, request.KeyToken, nil)},
				{Alter: manage(http.MethodPut, request.KeyClientID, request.KeyToken, nil)},
				{Alter: manage(http.MethodDelete, request.KeyClientID, request.KeyToken, nil)},
				{Alter: tokenRequest(request.KeyClientID)},
			},
			Expect: judge.AfterDelete{},
		},
	}
}

// clientIDIn reads the client_id of a registration answer.
func clientIDIn(ex *client.Exchange) (string, bool) {
	if ex == nil || ex.Response == nil || ex.Response.Status/100 != 2 {
		return "", false
	}
	id := judge.ClientIDOf(ex)
	return id, id != ""
}

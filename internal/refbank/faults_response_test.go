package refbank_test

import (
	"testing"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/refbank"
	"github.com/dcrconform/dcrconform/internal/request"
)

// responseFaultCases pin the faults of faults_response.go: the clean bank's answer says what the
// documents say (times in seconds, the request's iss, the statement's JWKS URL and claims), the
// faulty one does what the fault's description says.
func responseFaultCases() []faultCase {
	sent := func(t *testing.T, p *request.Prepared) jose.Claims {
		t.Helper()
		_, claims, err := jose.Decode(p.Token)
		if err != nil {
			t.Fatal(err)
		}
		return claims
	}
	ssaClaims := func(t *testing.T, p *request.Prepared) jose.Claims {
		t.Helper()
		_, claims, err := jose.Decode(p.SSA)
		if err != nil {
			t.Fatal(err)
		}
		return claims
	}
	timesScaled := func(factor float64) checkFunc {
		return func(t *testing.T, e *bankEnv, p *request.Prepared, r *result) {
			t.Helper()
			wantSuccess(t, e.p, r)
			claims := sent(t, p)
			for _, name := range []string{"iat", "exp"} {
				want := claims[name].(float64) * factor
				if got, _ := r.json[name].(float64); got != want {
					t.Errorf("%s: want %.0f, got %#v", name, want, r.json[name])
				}
			}
		}
	}
	issuer := func(own bool) checkFunc {
		return func(t *testing.T, e *bankEnv, p *request.Prepared, r *result) {
			t.Helper()
			wantSuccess(t, e.p, r)
			want := sent(t, p)["iss"]
			if own {
				want = e.bank.URL()
			}
			if r.json["iss"] != want {
				t.Errorf("iss: want %#v, got %#v", want, r.json["iss"])
			}
		}
	}
	jwksEndpoint := func(fromSSA bool) checkFunc {
		return func(t *testing.T, e *bankEnv, p *request.Prepared, r *result) {
			t.Helper()
			wantSuccess(t, e.p, r)
			want := ssaClaims(t, p)["org_jwks_endpoint"]
			if got := r.json["org_jwks_endpoint"]; (got == want) != fromSSA || got == nil {
				t.Errorf("org_jwks_endpoint: the statement's %v, want %v (got %#v)", got == want, fromSSA, got)
			}
		}
	}
	flattened := func(want bool) checkFunc {
		return func(t *testing.T, e *bankEnv, p *request.Prepared, r *result) {
			t.Helper()
			wantSuccess(t, e.p, r)
			for _, name := range []string{"software_jwks_endpoint", "org_name", "software_roles"} {
				if _, present := r.json[name]; present != want {
					t.Errorf("%s returned: want %v, got %v", name, want, present)
				}
			}
		}
	}
	return []faultCase{
		{fault: refbank.FaultTimesInMilliseconds, send: happy, clean: timesScaled(1), faulty: timesScaled(1000)},
		{fault: refbank.FaultOwnIssuer, send: happy, clean: issuer(false), faulty: issuer(true)},
		{fault: refbank.FaultKeystoreJWKSEndpoint, send: happy, clean: jwksEndpoint(true), faulty: jwksEndpoint(false)},
		{fault: refbank.FaultSSAClaimsNotFlattened, profiles: []string{"obie-3.2"}, send: happy,
			clean: flattened(true), faulty: flattened(false)},
	}
}

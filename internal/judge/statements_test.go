package judge

import (
	"testing"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/jose"
)

// TestStatementChecks pins the checks that go beyond a member's JSON type: seconds, not
// milliseconds; the statement's JWKS URL; the statement's claims flattened into the response.
func TestStatementChecks(t *testing.T) {
	const jwks = "https://tpp.example/jwks.json"
	ssa := jose.Claims{"iss": "OpenBanking Ltd", "iat": 1.7e9, "org_jwks_endpoint": jwks, "org_name": "TPP", "software_roles": []any{"AISP"}}
	for name, tc := range map[string]struct {
		check BodyCheck
		body  map[string]any
		ok    bool
	}{
		"seconds":                 {EpochSeconds, map[string]any{"iat": 1.7e9, "exp": 1.7e9 + 300}, true},
		"no times":                {EpochSeconds, map[string]any{}, true},
		"milliseconds":            {EpochSeconds, map[string]any{"iat": 1.7e12, "exp": 1.7e12 + 300000}, false},
		"string":                  {EpochSeconds, map[string]any{"iat": "1700000000"}, false},
		"fraction":                {EpochSeconds, map[string]any{"exp": 1.7e9 + 0.5}, false},
		"exp before iat":          {EpochSeconds, map[string]any{"iat": 1.7e9 + 300, "exp": 1.7e9}, false},
		"issued_at milliseconds":  {EpochSeconds, map[string]any{"client_id_issued_at": 1.7e12}, false},
		"jwks from ssa":           {JWKSEndpointFromSSA, map[string]any{"org_jwks_endpoint": jwks}, true},
		"jwks not returned":       {JWKSEndpointFromSSA, map[string]any{}, true},
		"jwks elsewhere":          {JWKSEndpointFromSSA, map[string]any{"org_jwks_endpoint": "https://keystore.example/org.jwks"}, false},
		"flattened":               {SSAClaimsFlattened, map[string]any{"org_jwks_endpoint": jwks, "org_name": "TPP", "software_roles": []any{"AISP"}}, true},
		"not flattened":           {SSAClaimsFlattened, map[string]any{"client_id": "x"}, false},
		"flattened another value": {SSAClaimsFlattened, map[string]any{"org_jwks_endpoint": jwks, "org_name": "Other", "software_roles": []any{"AISP"}}, false},
	} {
		var j Judgement
		tc.check.Fn(claimsContext(t, "obie-3.2"), client.RecordedRequest{SSAClaims: ssa}, tc.body, &j)
		if j.OK() != tc.ok {
			t.Errorf("%s: OK = %v, want %v (%v)", name, j.OK(), tc.ok, j.Checks)
		}
	}
}

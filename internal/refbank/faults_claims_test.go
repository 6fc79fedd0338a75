package refbank_test

import (
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/refbank"
	"github.com/dcrconform/dcrconform/internal/request"
)

// claimFaultCases pin the faults of faults_claims.go: the clean bank refuses, the faulty one
// does what its description says.
func claimFaultCases(t *testing.T) []faultCase {
	der, err := x509.MarshalPKIXPublicKey(&keys.Signing.Key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	return []faultCase{
		{fault: refbank.FaultHMACPublicKey,
			send: alter(func(d *request.Draft, _ *bankEnv) {
				d.Alg, d.JWTHeader["alg"], d.Key = "HS256", "HS256", publicPEM
			}),
			clean: rejected(rejection{msg: `alg "HS256"`}), faulty: succeeded},
		{fault: refbank.FaultAcceptMissingSSA,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.OmitSSA = true }),
			clean: rejected(rejection{rfc: "invalid_software_statement"}), faulty: succeeded},
		{fault: refbank.FaultCrashOnMalformedSSA,
			send: alter(func(d *request.Draft, _ *bankEnv) {
				s := "not-a-software-statement"
				d.SSA = &s
			}),
			clean: rejected(rejection{rfc: "invalid_software_statement"}), faulty: status(500)},
		{fault: refbank.FaultIgnoreSSAJWKSMissing,
			send: alter(func(d *request.Draft, _ *bankEnv) {
				delete(d.SSAClaims, "software_jwks_endpoint")
				delete(d.SSAClaims, "org_jwks_endpoint")
			}),
			clean: rejected(rejection{rfc: "invalid_software_statement"}), faulty: succeeded},
		{fault: refbank.FaultJTIOptional, profiles: []string{"obie-3.2"},
			send:  alter(func(d *request.Draft, _ *bankEnv) { delete(d.Claims, "jti") }),
			clean: rejected(rejection{rfc: badMeta, msg: "jti"}), faulty: succeeded},
		{fault: refbank.FaultAcceptUnsignedSSA, profiles: []string{"obie-3.2"},
			send: alter(func(d *request.Draft, _ *bankEnv) {
				d.SSAHeader, d.SSAAlg, d.SSAKey = jose.Header{"alg": "none"}, "none", nil
			}),
			clean: rejected(rejection{rfc: badSSA, msg: "unsigned"}), faulty: succeeded},
		{fault: refbank.FaultRequireSignedSSA, profiles: []string{"revolut"}, send: happy,
			clean: succeeded, faulty: rejected(rejection{ob: obSignatureInvalid, msg: "unsigned"})},
		{fault: refbank.FaultAcceptES256, profiles: []string{"revolut"}, send: es256,
			clean: rejected(rejection{ob: obSignatureInvalid, msg: `alg "ES256"`}), faulty: succeeded},
		{fault: refbank.FaultRefuseES256, profiles: []string{"obie-3.2"}, send: es256,
			clean: succeeded, faulty: rejected(rejection{rfc: badMeta, msg: `alg "ES256"`})},
		{fault: refbank.FaultPreferRequestMetadata, profiles: []string{"obie-3.2"},
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.Claims["software_client_name"] = "from the request" }),
			clean: succeededWith("software_client_name", "dcrconform test TPP"), faulty: succeededWith("software_client_name", "from the request")},
	}
}

// es256 signs the request ES256 with the TPP's EC key, which its JWKS publishes beside the RSA
// key, so only the bank's algorithm policy decides the answer.
var es256 = alter(func(d *request.Draft, _ *bankEnv) {
	d.Alg, d.JWTHeader["alg"], d.JWTHeader["kid"], d.Key = "ES256", "ES256", keys.Signing.ECKid(), keys.Signing.EC
})

// TestRedirectURILimitInherited: Revolut, which documents no limit of its own, holds redirect
// URIs to OBIE v3.1's 256 characters like the OBIE profiles.
func TestRedirectURILimitInherited(t *testing.T) {
	for _, name := range []string{"revolut", "obie-3.2"} {
		e := newEnv(t, name)
		long := "https://tpp.dcrconform.example/" + strings.Repeat("c", 250)
		_, r := e.register(t, func(d *request.Draft) {
			d.Claims["redirect_uris"] = []any{long}
			d.SetSSAClaim(e.p.RedirectClaim, []any{long})
		})
		wantRejected(t, e.p.ErrorFormat, r, rejection{rfc: "invalid_redirect_uri", msg: "longer than 256"})
	}
}

// TestHMACConfusionStillVerifies: the confused bank keys HMAC with the public PEM, not with
// nothing, so an HS256 request keyed with any other secret is still refused.
func TestHMACConfusionStillVerifies(t *testing.T) {
	e := newEnv(t, "revolut", withFaults(refbank.FaultHMACPublicKey))
	_, r := e.register(t, func(d *request.Draft) {
		d.Alg, d.JWTHeader["alg"], d.Key = "HS256", "HS256", []byte("0123456789abcdef0123456789abcdef")
	})
	wantRejected(t, e.p.ErrorFormat, r, rejection{ob: obSignatureInvalid, msg: "signature does not verify"})
}

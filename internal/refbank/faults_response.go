package refbank

import "maps"

// Faults of what a registration response says beyond its members' JSON types: the unit of its
// times, and the members that must repeat what the request or its software statement carried.
// Each breaks one documented statement (docs/STATEMENTS.md) the schema alone would let through.
var (
	FaultTimesInMilliseconds = declare(Fault{Name: "times-in-milliseconds",
		Description: "returns iat, exp and client_id_issued_at in milliseconds since the epoch (as Java's currentTimeMillis gives them) where seconds are documented",
		Trips:       []string{"SCH-11", "SCH-12"}})
	FaultOwnIssuer = declare(Fault{Name: "own-issuer-in-response",
		Description: "returns its own issuer URL as iss instead of the iss of the request JWT it registered",
		Trips:       []string{"SCH-12"}})
	FaultKeystoreJWKSEndpoint = declare(Fault{Name: "keystore-jwks-endpoint",
		Description: "returns the organisation's directory keystore URL as org_jwks_endpoint instead of the JWKS URL the software statement names",
		Trips:       []string{"SCH-13", "SCH-14"}})
	FaultSSAClaimsNotFlattened = declare(Fault{Name: "ssa-claims-not-flattened",
		Description: "returns the request's metadata only, leaving out the software statement's claims",
		Profiles:    obieProfiles, Trips: []string{"SCH-14"}})
)

// keystoreJWKSURL is where the Open Banking directory keeps an organisation's keys: a real URL
// shape, and the wrong answer for the JWKS the software statement names.
const keystoreJWKSURL = "https://keystore.openbanking.org.uk/0015800001041RHAAY/0015800001041RHAAY.jwks"

// bendStatements applies the faults of faults_response.go to a registration response.
func (s *Server) bendStatements(body map[string]any) {
	if s.fault(FaultTimesInMilliseconds) {
		for _, name := range []string{"iat", "exp", "client_id_issued_at"} {
			switch n := body[name].(type) {
			case float64: // a request claim, as decoded JSON
				body[name] = n * 1000
			case int64: // a time the bank set itself
				body[name] = n * 1000
			}
		}
	}
	if s.fault(FaultOwnIssuer) {
		body["iss"] = s.URL()
	}
	if s.fault(FaultKeystoreJWKSEndpoint) {
		body["org_jwks_endpoint"] = keystoreJWKSURL
	}
}

// flattenSSA copies the software statement's claims (but its own iss, iat, exp and jti) into an
// OBIE registration response, where the request did not set the member already.
func (s *Server) flattenSSA(body map[string]any, ssaClaims map[string]any) {
	if s.fault(FaultSSAClaimsNotFlattened) {
		return
	}
	flat := maps.Clone(ssaClaims)
	for _, k := range statementOwnClaims {
		delete(flat, k)
	}
	for k, v := range flat {
		if _, taken := body[k]; !taken {
			body[k] = v
		}
	}
}

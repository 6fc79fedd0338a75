package refbank

// Faults for the request-JWS, claim and SSA cases that no fault in faults.go bends. Each is a bug
// seen in real registration endpoints, not a reaction to one probe value.
var (
	FaultHMACPublicKey = declare(Fault{Name: "hmac-public-key-confusion",
		Description: "lets the request's header choose HS256 and verifies it with the JWKS key's public PEM as the HMAC secret",
		Trips:       []string{"JWS-02"}})
	FaultAcceptMissingSSA = declare(Fault{Name: "accept-missing-ssa",
		Description: "registers a request that carries no software statement from its own metadata, leaving its signature unverified (there is no JWKS URL)",
		Trips:       []string{"SSA-01", "CLM-12/software-statement"}})
	FaultCrashOnMalformedSSA = declare(Fault{Name: "crash-on-malformed-ssa",
		Description: "answers 500 when the software statement is not a decodable JWT", Trips: []string{"SSA-02"}})
	FaultIgnoreSSAJWKSMissing = declare(Fault{Name: "ignore-ssa-jwks-missing",
		Description: "registers software whose SSA names no JWKS URL, leaving the request's signature unverified",
		Trips:       []string{"SSA-12"}})
	FaultPreferRequestMetadata = declare(Fault{Name: "prefer-request-metadata",
		Description: "lets request metadata override the software statement's claims in the registration",
		Profiles:    obieProfiles, Trips: []string{"SSA-13"}})
)

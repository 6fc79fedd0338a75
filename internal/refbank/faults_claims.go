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
	FaultJTIOptional = declare(Fault{Name: "jti-optional",
		Description: "treats the request's jti as optional, as plain RFC 7519 does, though the profile requires one: a request without it is registered and can never be recognised as a replay",
		Profiles:    obieProfiles, Trips: []string{"CLM-09"}})
	FaultAcceptUnsignedSSA = declare(Fault{Name: "accept-unsigned-ssa",
		Description: "accepts an unsigned (alg none) software statement as if it were self-signed, while still verifying signed ones",
		Profiles:    obieProfiles, Trips: []string{"SSA-06"}})
	FaultRequireSignedSSA = declare(Fault{Name: "require-signed-ssa",
		Description: "refuses unsigned (alg none) software statements, the self-signed form Revolut documents, as an OBIE bank would",
		Profiles:    []string{"revolut"}, Trips: []string{"SSA-06"}})
	FaultPreferRequestMetadata = declare(Fault{Name: "prefer-request-metadata",
		Description: "lets request metadata override the software statement's claims in the registration",
		Profiles:    obieProfiles, Trips: []string{"SSA-13"}})
	// The two ES256 faults bend the algorithm list the opposite ways each profile's documents
	// rule out: Revolut allows PS256 alone, FAPI 1 (and so OBIE) lets a TPP sign with ES256.
	FaultAcceptES256 = declare(Fault{Name: "accept-es256",
		Description: "verifies ES256 registration requests although the profile allows PS256 only",
		Profiles:    []string{"revolut"}, Trips: []string{"JWS-04"}})
	FaultRefuseES256 = declare(Fault{Name: "refuse-es256",
		Description: "refuses ES256 registration requests, verifying PS256 only, though FAPI 1 lets a TPP sign with ES256",
		Profiles:    obieProfiles, Trips: []string{"JWS-04"}})
)

package refbank

// Faults of discovery, the happy path's finer points, the response's shape and the HTTP
// envelope.
var (
	FaultDiscoveryNoRegistration = declare(Fault{Name: "discovery-without-registration-endpoint",
		Description: "leaves registration_endpoint out of its OpenID discovery document", Trips: []string{"TLS-01"}})
	FaultExactRedirects = declare(Fault{Name: "require-all-redirect-uris",
		Description: "rejects redirect_uris unless they are exactly the software statement's list, so no subset can be registered",
		Trips:       []string{"HP-05"}})
	FaultScopeOrder = declare(Fault{Name: "scope-order-sensitive",
		Description: "rejects scope values that are not in the bank's own order", Trips: []string{"HP-06"}})
	FaultReuseClientID = declare(Fault{Name: "reuse-client-id",
		Description: "answers a repeated registration of the same software statement with the client_id it issued before",
		Profiles:    []string{"revolut"}, Trips: []string{"HP-07"}})
	FaultRequireResponseTypes = declare(Fault{Name: "require-response-types",
		Description: "rejects a request without response_types instead of taking the default",
		Profiles:    obieProfiles, Trips: []string{"HP-08"}})
	FaultRedirectsAsString = declare(Fault{Name: "redirect-uris-as-string",
		Description: "returns redirect_uris as one space-separated string", Trips: []string{"SCH-03"}})
	FaultEmptyGrantTypes = declare(Fault{Name: "empty-grant-types",
		Description: "returns grant_types as an empty array", Profiles: obieProfiles, Trips: []string{"SCH-04"}})
	FaultAcceptJSON = declare(Fault{Name: "accept-json-registration",
		Description: "also takes RFC 7591's plain JSON registration, registering unsigned metadata", Trips: []string{"HTTP-01"}})
	FaultNoBodyLimit = declare(Fault{Name: "no-body-limit",
		Description: "reads request bodies of any size", Trips: []string{"HTTP-06"}})
	FaultNoClaimBounds = declare(Fault{Name: "no-claim-bounds",
		Description: "accepts claim values of any length and nesting depth", Trips: []string{"HTTP-07"}})
	FaultAnyMethod = declare(Fault{Name: "any-method-registers",
		Description: "handles every HTTP method on /register as a registration", Trips: []string{"HTTP-08"}})
)

package refbank

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Fault is a named non-conformance the reference bank can be switched into. Each one bends a
// whole check the way a real bank's bug would (skip signature verification, accept any auth
// method), never one probe value, so the harness is measured against realistic failures.
type Fault struct {
	// Name is the switch, e.g. "accept-alg-none".
	Name string
	// Description says what the bank then does wrong.
	Description string
	// Profiles lists the profiles the fault applies to; empty means all.
	Profiles []string
	// NoDelete says the fault is one of a bank that does not offer DELETE /register/{ClientId}:
	// a run with it starts the bank that way (the only kind of bank its cases apply to).
	NoDelete bool
	// Trips lists the cases that must detect the fault in every profile it applies to: a case
	// ID names each of the case's variants, an ID/variant that variant alone. The reference
	// bank does not import the catalogue; these are plain strings the fault matrix checks.
	Trips []string
}

// AppliesTo reports whether the fault is meaningful under the profile.
func (f Fault) AppliesTo(profile string) bool {
	if len(f.Profiles) == 0 {
		return true
	}
	return slices.Contains(f.Profiles, profile)
}

var faults = map[string]Fault{}

// obieProfiles are the Open Banking UK profiles, for faults that bend what only they document.
var obieProfiles = []string{"obie-3.1", "obie-3.2", "obie-3.3"}

func declare(f Fault) string {
	if _, dup := faults[f.Name]; dup {
		panic("refbank: fault declared twice: " + f.Name)
	}
	faults[f.Name] = f
	return f.Name
}

// Faults lists every declared fault, sorted by name.
func Faults() []Fault {
	out := make([]Fault, 0, len(faults))
	for _, f := range faults {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupFault returns the named fault.
func LookupFault(name string) (Fault, bool) {
	f, ok := faults[name]
	return f, ok
}

// ParseFaults validates a list of fault names (comma-separated entries allowed) for a profile.
func ParseFaults(names []string, profile string) (map[string]bool, error) {
	set := map[string]bool{}
	for _, entry := range names {
		for _, n := range strings.Split(entry, ",") {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			f, ok := faults[n]
			if !ok {
				return nil, fmt.Errorf("unknown fault %q (see --list-faults)", n)
			}
			if !f.AppliesTo(profile) {
				return nil, fmt.Errorf("fault %q does not apply to profile %s (it applies to %s)", n, profile, strings.Join(f.Profiles, ", "))
			}
			set[n] = true
		}
	}
	return set, nil
}

// The faults. Each constant is the switch the handler consults.
var (
	FaultAcceptNoClientCert = declare(Fault{Name: "accept-no-client-cert",
		Description: "registers a client that presented no TLS client certificate", Trips: []string{"TLS-02"}})
	FaultAcceptUntrustedCert = declare(Fault{Name: "accept-untrusted-client-cert",
		Description: "accepts a client certificate from any CA; with no verified certificate it has no subject to hold the DN claim against",
		Trips:       []string{"TLS-03"}})
	FaultAcceptAlgNone = declare(Fault{Name: "accept-alg-none",
		Description: "accepts an unsigned (alg none) registration request without verifying it", Trips: []string{"JWS-01"}})
	FaultSkipSignature = declare(Fault{Name: "skip-signature-check",
		Description: "decodes the registration request but never verifies its signature",
		Trips:       []string{"JWS-05", "JWS-06", "JWS-07", "JWS-09"}})
	FaultSkipExp = declare(Fault{Name: "skip-exp-check",
		Description: "never checks the request's exp claim", Trips: []string{"CLM-01", "CLM-02"}})
	FaultJWKSFailOpen = declare(Fault{Name: "jwks-fail-open",
		Description: "when the TPP's JWKS cannot be fetched, skips signature verification and registers the client",
		Trips:       []string{"JWS-11/closed-port", "JWS-11/invalid-name", "JWS-11/blackhole", "JWS-11/not-found", "JWS-12"}})
	FaultJWKSError500 = declare(Fault{Name: "jwks-unreachable-500",
		Description: "answers 500 instead of 400 when the TPP's JWKS cannot be fetched",
		Trips:       []string{"JWS-11/closed-port", "JWS-11/invalid-name", "JWS-11/blackhole", "JWS-11/not-found", "JWS-12"}})
	FaultOmitClientID = declare(Fault{Name: "omit-client-id",
		Description: "leaves client_id out of the registration response", Trips: []string{"HP-01"}})
	FaultAnswer201 = declare(Fault{Name: "answer-201",
		Description: "answers 201 Created where Revolut documents 200", Profiles: []string{"revolut"}, Trips: []string{"HP-01"}})
	FaultEchoOtherRedirects = declare(Fault{Name: "echo-other-redirect-uris",
		Description: "returns redirect_uris other than the ones registered", Trips: []string{"HP-02"}})
	FaultEnumOutOfSet = declare(Fault{Name: "application-type-out-of-enum",
		Description: "returns an application_type outside the documented enum", Trips: []string{"HP-01", "SCH-02"}})
)

// Faults consulted by the envelope, header and SSA checks.
var (
	FaultWrongErrorFormat = declare(Fault{Name: "wrong-error-format",
		Description: "answers rejections in the other profile family's error body (RFC 7591 vs OBErrorResponse1)",
		Trips:       []string{"JWS-05", "CLM-01", "SCH-08"}})
	FaultJWKSNoTimeout = declare(Fault{Name: "jwks-no-timeout",
		Description: "fetches the TPP's JWKS with no timeout, so a hung JWKS server hangs the registration",
		Trips:       []string{"JWS-11/blackhole"}})
	FaultLegacyTLS = declare(Fault{Name: "legacy-tls",
		Description: "accepts TLS 1.0 and 1.1 handshakes", Trips: []string{"TLS-05"}})
	FaultCrashOnMalformed = declare(Fault{Name: "crash-on-malformed-jwt",
		Description: "answers 500 when the body is not a compact JWS (or is empty)", Trips: []string{"HTTP-04", "HTTP-05", "JWS-15"}})
	FaultAnyMediaType = declare(Fault{Name: "any-media-type",
		Description: "accepts any request Content-Type", Trips: []string{"HTTP-02/text-plain", "HTTP-03"}})
	FaultAcceptAnyAlg = declare(Fault{Name: "accept-any-alg",
		Description: "verifies the request with whatever JWS alg its header names (RS256, HS256 ...)",
		Trips:       []string{"JWS-03"}})
	FaultIgnoreCrit = declare(Fault{Name: "ignore-crit",
		Description: "ignores a crit header naming extensions it does not understand", Trips: []string{"JWS-14"}})
	FaultNoKidAccepted = declare(Fault{Name: "accept-missing-kid",
		Description: "accepts a request JWS whose header has no kid, without verifying it", Trips: []string{"JWS-08"}})
	FaultTrustEmbeddedKey = declare(Fault{Name: "trust-embedded-jwk",
		Description: "trusts a key embedded in the request's JWS header instead of the SSA's JWKS", Trips: []string{"JWS-10"}})
	FaultSkipSSASignature = declare(Fault{Name: "skip-ssa-signature",
		Description: "never verifies the software statement's signature", Trips: []string{"SSA-03", "SSA-04", "SSA-05"}})
)

// Faults that bend the registration response.
var (
	FaultTextPlain = declare(Fault{Name: "text-plain-response",
		Description: "answers a registration with Content-Type text/plain", Trips: []string{"HP-01", "SCH-01"}})
	FaultScopeShape = declare(Fault{Name: "scope-wrong-json-type",
		Description: "returns scope as an array where the profile documents a string, or the reverse", Trips: []string{"HP-01", "SCH-05"}})
	FaultModifySSA = declare(Fault{Name: "modify-ssa-in-response",
		Description: "returns a software_statement that differs from the one sent", Trips: []string{"HP-03"}})
	FaultIssueSecret = declare(Fault{Name: "issue-client-secret",
		Description: "issues a client_secret to a tls_client_auth client", Trips: []string{"SCH-07"}})
	FaultDropDN = declare(Fault{Name: "drop-dn-in-response",
		Description: "leaves the DN claim out of the registration response", Trips: []string{"HP-02", "SCH-06"}})
)

// Faults consulted by the claim rules.
var (
	FaultSkipSSATimes = declare(Fault{Name: "skip-ssa-time-checks",
		Description: "never checks the software statement's exp and iat", Trips: []string{"SSA-07", "SSA-08", "SSA-09"}})
	FaultIgnoreOrgStatus = declare(Fault{Name: "ignore-org-status",
		Description: "registers software of an organisation that is not Active", Trips: []string{"SSA-10"}})
	FaultSkipRequiredClaims = declare(Fault{Name: "skip-required-claims",
		Description: "registers a request that lacks required claims",
		// Not CLM-12/dn or CLM-12/software-statement: the DN is still demanded of tls_client_auth
		// and the statement is still needed for its key set; skip-dn-check and accept-missing-ssa
		// are the bugs that let those through.
		Trips: []string{"CLM-04", "CLM-12/iss", "CLM-12/iat", "CLM-12/exp", "CLM-12/aud", "CLM-12/redirect-uris",
			"CLM-12/token-endpoint-auth-method", "CLM-12/application-type", "CLM-12/id-token-signed-response-alg",
			"CLM-12/request-object-signing-alg"}})
	FaultSkipIat = declare(Fault{Name: "skip-iat-check",
		Description: "never checks the request's iat claim", Trips: []string{"CLM-03"}})
	FaultSkipAud = declare(Fault{Name: "skip-aud-check",
		Description: "never checks the request's aud claim", Trips: []string{"CLM-06", "CLM-07"}})
	// Revolut documents no iss pattern (CLM-08 only records what a Revolut bank does), so the
	// fault is measured where the pattern is a MUST.
	FaultSkipIss = declare(Fault{Name: "skip-iss-check",
		Description: "never checks the request's iss claim", Profiles: obieProfiles, Trips: []string{"CLM-08"}})
	FaultSkipJTI = declare(Fault{Name: "skip-jti-format",
		Description: "accepts a jti that is not a UUIDv4", Trips: []string{"CLM-10"}})
	FaultAcceptReplay = declare(Fault{Name: "accept-replayed-jti",
		Description: "accepts a request whose jti was already used", Trips: []string{"CLM-11"}})
	FaultSkipSoftwareID = declare(Fault{Name: "skip-software-id-check",
		Description: "accepts a software_id that differs from the SSA's", Trips: []string{"CLM-29"}})
	FaultSkipRedirectChecks = declare(Fault{Name: "skip-redirect-checks",
		Description: "accepts any redirect_uris value (http, localhost, fragments, wrong type)",
		Trips:       []string{"CLM-14", "CLM-15", "CLM-16", "CLM-17"}})
	FaultAcceptUnregisteredRedirect = declare(Fault{Name: "accept-unregistered-redirect",
		Description: "accepts a redirect URI that the SSA does not list", Trips: []string{"CLM-13"}})
	FaultAcceptAnyAuthMethod = declare(Fault{Name: "accept-any-auth-method",
		Description: "accepts any token_endpoint_auth_method and echoes it", Trips: []string{"CLM-18"}})
	FaultSkipDN = declare(Fault{Name: "skip-dn-check",
		Description: "registers tls_client_auth clients without a DN claim", Trips: []string{"CLM-19", "CLM-12/dn"}})
	FaultIgnoreDNMismatch = declare(Fault{Name: "ignore-dn-mismatch",
		Description: "accepts a DN claim that differs from the transport certificate's subject", Trips: []string{"TLS-04"}})
	FaultAcceptWeakAlgs = declare(Fault{Name: "accept-weak-algs",
		Description: "accepts RS256 or none for id_token and request object algs and echoes them", Trips: []string{"CLM-24"}})
	FaultAnyApplicationType = declare(Fault{Name: "accept-any-application-type",
		Description: "accepts and echoes any application_type", Trips: []string{"CLM-23"}})
	FaultSkipScope = declare(Fault{Name: "skip-scope-check",
		Description: "accepts any scope value and echoes it", Trips: []string{"CLM-25", "CLM-26", "CLM-27"}})
	FaultAnyGrantType = declare(Fault{Name: "accept-any-grant-type",
		Description: "accepts and echoes any grant type", Trips: []string{"CLM-21"}})
	FaultAnyResponseType = declare(Fault{Name: "accept-any-response-type",
		Description: "accepts any response_types", Profiles: obieProfiles, Trips: []string{"CLM-22"}})
)

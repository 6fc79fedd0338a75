// Package profile describes the contracts a DCR target can claim to follow: Revolut's
// documented API and Open Banking UK DCR 3.1, 3.2 and 3.3. A profile is data shared by the
// request builder, the reference bank and the judgement; none of them hard-codes a version.
package profile

import (
	"fmt"
	"sort"
	"strings"
)

// ErrorFormat names the shape of a rejection body.
type ErrorFormat string

const (
	// OBErrorResponse1 is Revolut's error body: {Code, Id, Message, Errors[{ErrorCode, Message}]}.
	OBErrorResponse1 ErrorFormat = "OBErrorResponse1"
	// RFC7591 is the OAuth DCR error body: {error, error_description}.
	RFC7591 ErrorFormat = "RFC7591"
)

// RFC 7591 section 3.2.2 error codes, as the OBIE swagger enumerates them.
const (
	ErrInvalidRedirectURI          = "invalid_redirect_uri"
	ErrInvalidClientMetadata       = "invalid_client_metadata"
	ErrInvalidSoftwareStatement    = "invalid_software_statement"
	ErrUnapprovedSoftwareStatement = "unapproved_software_statement"
)

// RFC7591Codes lists the four registration error codes.
var RFC7591Codes = []string{ErrInvalidRedirectURI, ErrInvalidClientMetadata, ErrInvalidSoftwareStatement, ErrUnapprovedSoftwareStatement}

// Profile is one target contract.
type Profile struct {
	// Name is the profile's identifier on the command line and in reports.
	Name string
	// Title is a human name with the source document.
	Title string
	// Spec is the OpenAPI document in spec/ that describes the profile's POST /register.
	Spec string
	// MediaType is the request Content-Type the profile documents.
	MediaType string
	// SuccessStatus is the status of a successful registration (Revolut 200, OBIE 201).
	SuccessStatus int
	// ErrorFormat is the shape of rejection bodies.
	ErrorFormat ErrorFormat
	// DNClaim is the claim that carries the transport certificate's subject DN.
	DNClaim string
	// ScopeArray is true where scope is a JSON array of strings (OBIE 3.1) rather than a
	// space-separated string.
	ScopeArray bool
	// ScopeRequiresOpenID is true where scope must contain openid (Revolut).
	ScopeRequiresOpenID bool
	// Scopes lists the scope values the profile knows.
	Scopes []string
	// RequestAlgs lists the JWS algorithms accepted for the registration request.
	RequestAlgs []string
	// ResponseAlgs lists the values accepted for id_token_signed_response_alg and
	// request_object_signing_alg.
	ResponseAlgs []string
	// AuthMethods lists token_endpoint_auth_method values the profile supports.
	AuthMethods []string
	// ApplicationTypes lists the application_type enum.
	ApplicationTypes []string
	// GrantTypes lists the grant_types enum.
	GrantTypes []string
	// ResponseTypes lists the response_types enum; empty where the profile does not use them.
	ResponseTypes []string
	// RequiredClaims lists the request claims the profile marks as required.
	RequiredClaims []string
	// RequireKid is true where the request JWS header must carry kid.
	RequireKid bool
	// RequireJTI is true where the request must carry a UUIDv4 jti.
	RequireJTI bool
	// IssPattern and AudPattern constrain iss and aud; empty means free-form.
	IssPattern, AudPattern string
	// SelfSignedSSA is true where an unsigned (alg none) SSA is accepted (Revolut's eIDAS path).
	SelfSignedSSA bool
	// JWKSClaim is the SSA claim naming the TPP's JWKS URL.
	JWKSClaim string
	// RedirectClaim is the SSA claim listing the allowed redirect URIs.
	RedirectClaim string
	// MaxRedirectURILen, MaxScopeLen and MaxDNLen are the documented length limits (0: none).
	MaxRedirectURILen, MaxScopeLen, MaxDNLen int
}

var registry = map[string]Profile{}

func register(p Profile) { registry[p.Name] = p }

// Default is the profile a run uses when none is named.
const Default = "revolut"

// Get returns the named profile, or an error listing the known ones.
func Get(name string) (Profile, error) {
	if name == "" {
		name = Default
	}
	p, ok := registry[name]
	if !ok {
		return Profile{}, fmt.Errorf("unknown profile %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return p, nil
}

// MustGet returns a profile known to exist; it is for package-level tables.
func MustGet(name string) Profile {
	p, err := Get(name)
	if err != nil {
		panic(err)
	}
	return p
}

// Names lists the known profiles, sorted.
func Names() []string {
	var out []string
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// RequiredScopes are the scope values every registration must request and be granted.
func (p Profile) RequiredScopes() []string {
	if p.ScopeRequiresOpenID {
		return []string{"openid"}
	}
	return nil
}

// EncodeScope renders scope values the way the profile carries them.
func (p Profile) EncodeScope(values []string) any {
	if p.ScopeArray {
		out := make([]any, len(values))
		for i, v := range values {
			out[i] = v
		}
		return out
	}
	return strings.Join(values, " ")
}

// DecodeScope reads a scope claim in either encoding; ok is false when it is neither a string
// nor an array of strings.
func DecodeScope(v any) (values []string, isArray, ok bool) {
	switch s := v.(type) {
	case string:
		return strings.Fields(s), false, true
	case []any:
		for _, x := range s {
			str, isStr := x.(string)
			if !isStr {
				return nil, true, false
			}
			values = append(values, str)
		}
		return values, true, true
	}
	return nil, false, false
}

func init() {
	register(Profile{
		Name:                "revolut",
		Title:               "Revolut Open Banking DCR (follows OBIE DCR v3.1)",
		Spec:                "revolut.yaml",
		MediaType:           "application/jwt",
		SuccessStatus:       200,
		ErrorFormat:         OBErrorResponse1,
		DNClaim:             "tls_client_auth_dn",
		ScopeRequiresOpenID: true,
		Scopes:              []string{"openid", "accounts", "payments", "fundsconfirmations"},
		RequestAlgs:         []string{"PS256"},
		ResponseAlgs:        []string{"PS256"},
		AuthMethods:         []string{"tls_client_auth"},
		ApplicationTypes:    []string{"web", "mobile"},
		GrantTypes:          []string{"client_credentials", "authorization_code", "refresh_token"},
		RequiredClaims: []string{"iss", "iat", "exp", "aud", "scope", "redirect_uris", "token_endpoint_auth_method",
			"application_type", "id_token_signed_response_alg", "request_object_signing_alg", "tls_client_auth_dn", "software_statement"},
		RequireKid:    true,
		AudPattern:    `^[0-9a-zA-Z]{1,18}$`,
		SelfSignedSSA: true,
		JWKSClaim:     "org_jwks_endpoint",
		RedirectClaim: "software_redirect_uris",
		// Revolut inherits OBIE's 256-character limit: it documents none of its own but
		// implements DCR v3.1.
		MaxRedirectURILen: 256,
	})
	ob := Profile{
		SuccessStatus:     201,
		ErrorFormat:       RFC7591,
		Scopes:            []string{"openid", "accounts", "payments", "fundsconfirmations"},
		RequestAlgs:       []string{"PS256", "ES256"},
		ResponseAlgs:      []string{"PS256", "ES256"},
		AuthMethods:       []string{"tls_client_auth", "private_key_jwt"},
		ApplicationTypes:  []string{"web", "mobile"},
		GrantTypes:        []string{"client_credentials", "authorization_code", "refresh_token"},
		ResponseTypes:     []string{"code", "code id_token"},
		RequireKid:        true,
		RequireJTI:        true,
		AudPattern:        `^[0-9a-zA-Z]{1,18}$`,
		JWKSClaim:         "software_jwks_endpoint",
		RedirectClaim:     "software_redirect_uris",
		MaxRedirectURILen: 256,
		MaxDNLen:          128,
	}
	required := []string{"iss", "iat", "exp", "aud", "jti", "redirect_uris", "token_endpoint_auth_method", "grant_types",
		"software_statement", "application_type", "id_token_signed_response_alg", "request_object_signing_alg"}

	p31 := ob
	p31.Name, p31.Title, p31.Spec = "obie-3.1", "Open Banking UK DCR v3.1", "obie-3.1.yaml"
	p31.MediaType, p31.DNClaim, p31.ScopeArray = "application/jwt", "tls_client_auth_dn", true
	p31.IssPattern = `^[0-9a-zA-Z]{1,18}$`
	p31.RequiredClaims = append(append([]string{}, required...), "tls_client_auth_dn")
	register(p31)

	p32 := ob
	p32.Name, p32.Title, p32.Spec = "obie-3.2", "Open Banking UK DCR v3.2", "obie-3.2.yaml"
	p32.MediaType, p32.DNClaim = "application/jose", "tls_client_auth_subject_dn"
	p32.IssPattern, p32.MaxScopeLen = `^[0-9a-zA-Z]{1,22}$`, 256
	p32.RequiredClaims = append(append([]string{}, required...), "scope", "tls_client_auth_subject_dn")
	register(p32)

	p33 := p32
	p33.Name, p33.Title, p33.Spec = "obie-3.3", "Open Banking UK DCR v3.3", "obie-3.3.yaml"
	p33.GrantTypes = append(append([]string{}, p32.GrantTypes...), "urn:openid:params:grant-type:ciba")
	register(p33)
}

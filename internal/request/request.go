// Package request builds the registration request a case sends: the software statement, the
// request JWT and the HTTP envelope. A case starts from the happy-path Draft of its profile and
// alters it; Build then signs and assembles it. Nothing here sends anything.
package request

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/uuid"
)

// SSAMode says how the software statement is obtained.
type SSAMode string

const (
	// SSASelfSigned mints an unsigned (alg none) SSA, Revolut's eIDAS path.
	SSASelfSigned SSAMode = "self-signed"
	// SSADirectory mints an SSA signed PS256 by a directory key the target trusts.
	SSADirectory SSAMode = "directory"
	// SSASupplied sends an SSA given in the config, unchanged.
	SSASupplied SSAMode = "supplied"
)

// Cert says which client certificate the call presents.
type Cert string

const (
	// CertTransport presents the TPP's transport certificate (the normal case).
	CertTransport Cert = "transport"
	// CertNone presents no client certificate.
	CertNone Cert = "none"
	// CertUntrusted presents a certificate from a CA the target does not trust.
	CertUntrusted Cert = "untrusted"
	// CertForged presents a self-signed certificate that copies the transport certificate's
	// subject: what anyone could make, so a bank that checks only the DN is not protected.
	CertForged Cert = "forged"
	// CertLegacyTLS presents the transport certificate over TLS 1.0 or 1.1 only.
	CertLegacyTLS Cert = "legacy-tls"
)

// Identity is the TPP as the run presents it: keys, URLs and the claim values from the config.
type Identity struct {
	Profile      profile.Profile
	Endpoint     string // registration endpoint URL
	Signing      pki.SigningKey
	Foreign      pki.SigningKey  // a key in no JWKS; zero if unavailable
	Directory    *pki.SigningKey // SSA signer for SSADirectory
	SSAMode      SSAMode
	SuppliedSSA  string
	JWKSURL      string
	Aud, Iss     string
	SoftwareID   string
	ClientName   string
	RedirectURIs []string // the SSA's redirect URIs; the request uses them all by default
	DN           string
	Scope        []string
	// Probes are the unreachable or broken JWKS URLs the edge cases point the SSA at.
	Probes Probes
	// TokenEndpoint is the bank's token endpoint, for the lifecycle cases.
	TokenEndpoint string
	// Session carries what lifecycle steps learn to the steps after them.
	Session *Session
}

// Probes are JWKS URLs that fail in known ways. Loopback ones only make sense to a target on
// this machine; Invalid (a name under .invalid) is safe to send anywhere.
type Probes struct {
	ClosedPort, Blackhole, NotFound, HTML, Invalid string
}

// Draft is one registration request before signing. Cases alter its fields.
type Draft struct {
	Method      string
	URL         string
	ContentType string // "" sends no Content-Type header
	Header      http.Header
	Cert        Cert

	// JWTHeader and Claims are the request JWT's header and claims.
	JWTHeader jose.Header
	Claims    jose.Claims
	// Alg and Key sign the request JWT. Alg "none" sends it unsigned.
	Alg string
	Key any

	// SSAHeader and SSAClaims are the software statement's, when the harness mints it.
	SSAHeader jose.Header
	SSAClaims jose.Claims
	SSAAlg    string
	SSAKey    any
	// SSA, when set, is sent as software_statement as is (supplied mode, or a case's raw value).
	SSA *string
	// OmitSSA leaves software_statement out of the claims.
	OmitSSA bool

	// AfterSign rewrites the signed token (tampering); AfterSSA rewrites the minted SSA.
	AfterSign func(token string) (string, error)
	AfterSSA  func(ssa string) (string, error)
	// Body, when set, is sent instead of the token (malformed bodies).
	Body []byte
}

// Prepared is a built request, ready for the client.
type Prepared struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	Cert   Cert
	// Token is the request JWT as sent ("" when the body was replaced); SSA the software statement.
	Token string
	SSA   string
}

// NewDraft returns the profile's happy-path request for the identity: every claim the profile
// requires, a fresh jti, and an SSA minted (or supplied) per the identity's mode.
func NewDraft(id *Identity) *Draft {
	p := id.Profile
	now := time.Now()
	claims := jose.Claims{
		"iss":                          id.Iss,
		"iat":                          now.Unix(),
		"exp":                          now.Add(5 * time.Minute).Unix(),
		"aud":                          id.Aud,
		"jti":                          NewJTI(),
		"scope":                        p.EncodeScope(id.Scope),
		"redirect_uris":                StringsToAny(id.RedirectURIs),
		"token_endpoint_auth_method":   "tls_client_auth",
		"application_type":             "web",
		"id_token_signed_response_alg": "PS256",
		"request_object_signing_alg":   "PS256",
		p.DNClaim:                      id.DN,
	}
	if len(p.ResponseTypes) > 0 {
		claims["grant_types"] = []any{"client_credentials", "authorization_code", "refresh_token"}
		claims["response_types"] = []any{"code id_token"}
		claims["software_id"] = id.SoftwareID
	}
	d := &Draft{
		Method:      http.MethodPost,
		URL:         id.Endpoint,
		ContentType: p.MediaType,
		Header:      http.Header{"Accept": {"application/json"}},
		Cert:        CertTransport,
		JWTHeader:   jose.Header{"alg": "PS256", "kid": id.Signing.Kid, "typ": "JWT"},
		Claims:      claims,
		Alg:         "PS256",
		Key:         id.Signing.Key,
	}
	switch id.SSAMode {
	case SSASupplied:
		ssa := id.SuppliedSSA
		d.SSA = &ssa
	case SSADirectory:
		d.SSAHeader = jose.Header{"alg": "PS256", "typ": "JWT"}
		if id.Directory != nil {
			d.SSAHeader["kid"] = id.Directory.Kid
			d.SSAKey = id.Directory.Key
		}
		d.SSAAlg = "PS256"
		d.SSAClaims = DirectoryClaims(id, now)
	default:
		d.SSAHeader = jose.Header{"alg": "none"}
		d.SSAAlg = "none"
		d.SSAClaims = SelfSignedClaims(id)
	}
	return d
}

// SelfSignedClaims are the claims of Revolut's self-signed SSA.
func SelfSignedClaims(id *Identity) jose.Claims {
	return jose.Claims{
		"org_jwks_endpoint":      id.JWKSURL,
		"org_name":               id.ClientName,
		"software_client_name":   id.ClientName,
		"software_redirect_uris": StringsToAny(id.RedirectURIs),
	}
}

// DirectoryClaims are the claims of an Open Banking Directory SSA for the identity.
func DirectoryClaims(id *Identity, now time.Time) jose.Claims {
	return jose.Claims{
		"iss":                    "OpenBanking Ltd",
		"iat":                    now.Unix(),
		"jti":                    NewJTI(),
		"software_id":            id.SoftwareID,
		"software_client_id":     id.SoftwareID,
		"software_client_name":   id.ClientName,
		"software_jwks_endpoint": id.JWKSURL,
		"software_redirect_uris": StringsToAny(id.RedirectURIs),
		"software_roles":         []any{"AISP", "PISP", "CBPII"},
		"org_id":                 "0015800001041RHAAY",
		"org_name":               id.ClientName,
		"org_status":             "Active",
		"org_jwks_endpoint":      id.JWKSURL,
	}
}

// Build signs the draft and assembles the HTTP request.
func (d *Draft) Build() (*Prepared, error) {
	p := &Prepared{Method: d.Method, URL: d.URL, Header: d.Header.Clone(), Cert: d.Cert}
	if p.Header == nil {
		p.Header = http.Header{}
	}
	if d.ContentType != "" {
		p.Header.Set("Content-Type", d.ContentType)
	}
	ssa, err := d.buildSSA()
	if err != nil {
		return nil, fmt.Errorf("software statement: %w", err)
	}
	p.SSA = ssa
	claims := jose.Claims{}
	for k, v := range d.Claims {
		claims[k] = v
	}
	if !d.OmitSSA {
		claims["software_statement"] = ssa
	}
	var token string
	if d.Alg == "none" {
		token, err = jose.Unsigned(d.JWTHeader, claims)
	} else {
		token, err = jose.Sign(d.Alg, d.Key, d.JWTHeader, claims)
	}
	if err != nil {
		return nil, fmt.Errorf("request JWT: %w", err)
	}
	if d.AfterSign != nil {
		if token, err = d.AfterSign(token); err != nil {
			return nil, fmt.Errorf("request JWT: %w", err)
		}
	}
	p.Token = token
	p.Body = []byte(token)
	if d.Body != nil {
		p.Body = d.Body
		p.Token = ""
	}
	return p, nil
}

func (d *Draft) buildSSA() (string, error) {
	if d.SSA != nil {
		return *d.SSA, nil
	}
	var ssa string
	var err error
	switch d.SSAAlg {
	case "none":
		ssa, err = jose.Unsigned(d.SSAHeader, d.SSAClaims)
	default:
		if d.SSAKey == nil {
			return "", errors.New("directory SSA mode needs a directory signing key")
		}
		ssa, err = jose.Sign(d.SSAAlg, d.SSAKey, d.SSAHeader, d.SSAClaims)
	}
	if err != nil {
		return "", err
	}
	if d.AfterSSA != nil {
		return d.AfterSSA(ssa)
	}
	return ssa, nil
}

// SetSSAClaim sets a claim of the minted SSA; it reports false where the SSA is supplied and
// cannot be changed.
func (d *Draft) SetSSAClaim(name string, v any) bool {
	if d.SSA != nil || d.SSAClaims == nil {
		return false
	}
	d.SSAClaims[name] = v
	return true
}

// NewJTI returns a random UUIDv4, the form OBIE requires for jti.
func NewJTI() string { return uuid.NewV4() }

// StringsToAny converts a list of strings to the []any form a decoded JSON claim takes, so a built
// claim compares equal to the same claim read back from a token.
func StringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

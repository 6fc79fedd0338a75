package catalogue

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/dcrconform/dcrconform/internal/judge"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/request"
)

// otherDN is a subject DN no transport certificate of the run carries.
const otherDN = "CN=dcrconform-other-tpp,OU=0015800001041RHAZZ,O=dcrconform Other TPP,C=GB"

func transportCases() []*Case {
	withCert := func(c request.Cert) Alter {
		return func(d *request.Draft, _ *request.Identity) error {
			d.Cert = c
			return nil
		}
	}
	return []*Case{
		{
			ID: "TLS-01", Title: "Discovery advertises the registration endpoint", Group: GroupTransport,
			Ref:    "OBIE DCR v3.1 Discovery (registration_endpoint in .well-known/openid-configuration)",
			Levels: All(SHOULD),
			Alter:  discoveryRequest,
			Expect: judge.DiscoveryAdvertises{},
		},
		{
			ID: "TLS-02", Title: "Registration without a client certificate is refused", Group: GroupTransport,
			Ref:    "OBIE DCR v3.1 Authentication (mutual TLS only); OIDF brazil-dcr-no-mtls",
			Levels: All(MUST),
			Alter:  withCert(request.CertNone),
			Expect: judge.Refused{},
		},
		{
			ID: "TLS-03", Title: "Registration with an untrusted client certificate is refused", Group: GroupTransport,
			Ref:    "OBIE DCR v3.1 Authentication (mutual TLS); OIDF brazil-dcr-bad-mtls",
			Levels: All(MUST),
			// The forged variant copies the transport certificate's subject, so a bank that
			// skips chain validation cannot be saved by its DN check: the DN claim matches.
			Variants: []Variant{
				{Name: "untrusted-ca", Title: "certificate from a CA the bank does not trust", Needs: []Capability{UntrustedCert},
					Alter: withCert(request.CertUntrusted)},
				{Name: "forged-subject", Title: "self-signed certificate with the transport certificate's subject",
					Alter: withCert(request.CertForged)},
			},
			Expect: judge.Refused{},
		},
		{
			ID: "TLS-04", Title: "DN claim that differs from the transport certificate is rejected", Group: GroupTransport,
			Ref:    "OB Directory SSA spec, request validation (TLS client is the TPP); OBIE DCR v3.1 tls_client_auth_dn",
			Levels: All(SHOULD),
			Alter: func(d *request.Draft, id *request.Identity) error {
				if strings.EqualFold(id.DN, otherDN) {
					return fmt.Errorf("the transport certificate's DN is the probe DN %q", otherDN)
				}
				d.Claims[id.Profile.DNClaim] = otherDN
				return nil
			},
			Expect: judge.Rejected{RFCCodes: []string{profile.ErrInvalidClientMetadata}},
			ExpectBy: map[string]judge.Expectation{
				"revolut": judge.Rejected{},
			},
		},
		{
			ID: "TLS-05", Title: "TLS 1.0 and 1.1 handshakes are refused", Group: GroupTransport,
			Ref:    "FAPI 1 Advanced 8.5 (TLS 1.2 or later); OBIE DCR v3.1 (FAPI TLS)",
			Levels: All(MUST),
			Alter:  withCert(request.CertLegacyTLS),
			Expect: judge.HandshakeRefused{What: "TLS 1.0/1.1"},
		},
	}
}

// discoveryRequest turns the draft into a GET of the OpenID discovery document next to the
// registration endpoint: https://host[/prefix]/.well-known/openid-configuration.
func discoveryRequest(d *request.Draft, id *request.Identity) error {
	u, err := url.Parse(id.Endpoint)
	if err != nil || u.Host == "" {
		return fmt.Errorf("registration endpoint %q is not an absolute URL", id.Endpoint)
	}
	prefix := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/register")
	u.Path = prefix + "/.well-known/openid-configuration"
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	d.Method = "GET"
	d.URL = u.String()
	d.ContentType = ""
	d.Body = []byte{}
	return nil
}

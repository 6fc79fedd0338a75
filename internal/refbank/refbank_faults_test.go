package refbank_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/jwkshost"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/refbank"
	"github.com/dcrconform/dcrconform/internal/request"
)

type sendFunc func(t *testing.T, e *bankEnv) (*request.Prepared, *result)
type checkFunc func(t *testing.T, e *bankEnv, prep *request.Prepared, r *result)

// faultCase shows one fault switch flips one behaviour: the same request gets the clean answer
// from a clean bank and the faulty answer from a bank with only that fault on.
type faultCase struct {
	fault    string
	profiles []string // nil: revolut and obie-3.2 (where the fault applies)
	opts     []envOption
	setup    func(e *bankEnv)
	send     sendFunc
	clean    checkFunc
	faulty   checkFunc
}

func alter(f func(d *request.Draft, e *bankEnv)) sendFunc {
	return func(t *testing.T, e *bankEnv) (*request.Prepared, *result) {
		return e.register(t, func(d *request.Draft) { f(d, e) })
	}
}

func happy(t *testing.T, e *bankEnv) (*request.Prepared, *result) { return e.register(t, nil) }

func garbage(t *testing.T, e *bankEnv) (*request.Prepared, *result) {
	return nil, e.raw(t, http.MethodPost, e.p.MediaType, []byte("not.a.jws!"))
}

func rejected(want rejection) checkFunc {
	return func(t *testing.T, e *bankEnv, _ *request.Prepared, r *result) {
		t.Helper()
		wantRejected(t, e.p.ErrorFormat, r, want)
	}
}

func succeeded(t *testing.T, e *bankEnv, _ *request.Prepared, r *result) {
	t.Helper()
	wantSuccess(t, e.p, r)
}

// succeededWith checks success and that the response member name holds want.
func succeededWith(name string, want any) checkFunc {
	return func(t *testing.T, e *bankEnv, prep *request.Prepared, r *result) {
		t.Helper()
		wantSuccess(t, e.p, r)
		if got := r.json[name]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: want %#v, got %#v", name, want, got)
		}
	}
}

func transportFailed(t *testing.T, _ *bankEnv, _ *request.Prepared, r *result) {
	t.Helper()
	if r.err == nil {
		t.Errorf("want a transport failure (no HTTP answer), got %v", r)
	}
}

func status(code int) checkFunc {
	return func(t *testing.T, _ *bankEnv, _ *request.Prepared, r *result) {
		t.Helper()
		if r.err != nil || r.status != code {
			t.Errorf("want status %d, got %v", code, r)
		}
	}
}

func faultCases() []faultCase {
	now := time.Now()
	expired := alter(func(d *request.Draft, _ *bankEnv) {
		d.Claims["iat"], d.Claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	})
	obie := []string{"obie-3.2"}
	return []faultCase{
		// Transport.
		{fault: refbank.FaultAcceptNoClientCert,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.Cert = request.CertNone }),
			clean: transportFailed, faulty: succeeded},
		// The DN claim stays the transport certificate's: a bank that verifies no certificate
		// has no subject to hold it against, so the untrusted one gets through regardless.
		{fault: refbank.FaultAcceptUntrustedCert,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.Cert = request.CertUntrusted }),
			clean: transportFailed, faulty: succeeded},
		{fault: refbank.FaultLegacyTLS,
			setup: func(e *bankEnv) {
				e.clients["legacy"] = newClient(&tls.Config{RootCAs: keys.CAPool(), MinVersion: tls.VersionTLS10,
					MaxVersion: tls.VersionTLS11, Certificates: []tls.Certificate{keys.Transport.TLSCertificate()}})
			},
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.Cert = "legacy" }),
			clean: transportFailed, faulty: succeeded},
		{fault: refbank.FaultAnyMediaType,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.ContentType = "text/plain" }),
			clean: rejected(rejection{status: http.StatusUnsupportedMediaType}), faulty: succeeded},
		{fault: refbank.FaultCrashOnMalformed, send: garbage,
			clean: rejected(rejection{ob: "UK.OBIE.Signature.Malformed"}), faulty: status(http.StatusInternalServerError)},

		// The request JWS and the key set.
		{fault: refbank.FaultAcceptAlgNone,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.Alg, d.JWTHeader["alg"] = "none", "none" }),
			clean: rejected(rejection{ob: obSignatureInvalid, msg: "none"}), faulty: succeeded},
		{fault: refbank.FaultAcceptAnyAlg,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.Alg, d.JWTHeader["alg"] = "RS256", "RS256" }),
			clean: rejected(rejection{ob: obSignatureInvalid, msg: "RS256"}), faulty: succeeded},
		{fault: refbank.FaultSkipSignature,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.AfterSign = jose.TamperSignature }),
			clean: rejected(rejection{ob: obSignatureInvalid, msg: "signature"}), faulty: succeeded},
		{fault: refbank.FaultIgnoreCrit,
			send: alter(func(d *request.Draft, _ *bankEnv) {
				d.JWTHeader["crit"] = []string{"urn:example:unknown"}
				d.JWTHeader["urn:example:unknown"] = true
			}),
			clean: rejected(rejection{ob: obSignatureInvalid, msg: "crit"}), faulty: succeeded},
		{fault: refbank.FaultNoKidAccepted,
			send:  alter(func(d *request.Draft, _ *bankEnv) { delete(d.JWTHeader, "kid") }),
			clean: rejected(rejection{ob: obSignatureMissing, msg: "kid"}), faulty: succeeded},
		{fault: refbank.FaultTrustEmbeddedKey, send: sendEmbeddedJWK,
			clean: rejected(rejection{ob: obSignatureInvalid, msg: "kid"}), faulty: succeeded},
		{fault: refbank.FaultJWKSFailOpen,
			send:   alter(func(d *request.Draft, e *bankEnv) { setJWKSURL(d, e.p, host.ClosedURL()) }),
			clean:  rejected(rejection{ob: obFieldInvalid, msg: "Failed to fetch public key from " + host.ClosedURL()}),
			faulty: succeeded},
		{fault: refbank.FaultJWKSError500,
			send:   alter(func(d *request.Draft, e *bankEnv) { setJWKSURL(d, e.p, jwkshost.InvalidURL()) }),
			clean:  rejected(rejection{ob: obFieldInvalid, msg: "Failed to fetch public key from " + jwkshost.InvalidURL()}),
			faulty: status(http.StatusInternalServerError)},
		{fault: refbank.FaultJWKSNoTimeout, opts: []envOption{withJWKSTimeout(shortJWKSTimeout)},
			// The client gives up long after the clean bank's 300ms fetch timeout; the faulty
			// bank waits on the blackhole for ever, so the client sees no answer at all.
			setup: func(e *bankEnv) {
				c := e.clients[request.CertTransport]
				c.Timeout = 3 * time.Second
			},
			send:  alter(func(d *request.Draft, e *bankEnv) { setJWKSURL(d, e.p, host.BlackholeURL()) }),
			clean: rejected(rejection{ob: obFieldInvalid, msg: "timed out"}), faulty: transportFailed},

		// The software statement.
		{fault: refbank.FaultSkipSSASignature,
			send:  alter(func(d *request.Draft, e *bankEnv) { signSSA(d, e, keys.Foreign) }),
			clean: rejected(rejection{rfc: badSSA, ob: obSignatureInvalid}), faulty: succeeded},
		{fault: refbank.FaultSkipSSATimes,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.SetSSAClaim("exp", now.Add(-time.Hour).Unix()) }),
			clean: rejected(rejection{rfc: badSSA, msg: "expired"}), faulty: succeeded},
		{fault: refbank.FaultIgnoreOrgStatus,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.SetSSAClaim("org_status", "Revoked") }),
			clean: rejected(rejection{rfc: unapproved}), faulty: succeeded},

		// Claims.
		{fault: refbank.FaultSkipExp, send: expired,
			clean: rejected(rejection{rfc: badMeta, msg: "expired"}), faulty: succeeded},
		{fault: refbank.FaultSkipIat,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.Claims["iat"] = now.Add(time.Hour).Unix() }),
			clean: rejected(rejection{rfc: badMeta, msg: "iat"}), faulty: succeeded},
		{fault: refbank.FaultSkipAud,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.Claims["aud"] = "https://otherbank.example" }),
			clean: rejected(rejection{rfc: badMeta, msg: "aud"}), faulty: succeeded},
		{fault: refbank.FaultSkipIss, profiles: obie,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.Claims["iss"] = "someOtherSoftware" }),
			clean: rejected(rejection{rfc: badMeta, msg: "iss"}), faulty: succeeded},
		{fault: refbank.FaultSkipJTI, profiles: obie,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.Claims["jti"] = "not-a-uuid" }),
			clean: rejected(rejection{rfc: badMeta, msg: "UUID"}), faulty: succeeded},
		{fault: refbank.FaultAcceptReplay, send: replay,
			clean: rejected(rejection{rfc: badMeta, msg: "jti"}), faulty: succeeded},
		{fault: refbank.FaultSkipSoftwareID, profiles: obie,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.Claims["software_id"] = "someOtherSoftware" }),
			clean: rejected(rejection{rfc: badMeta, msg: "software_id"}), faulty: succeeded},
		{fault: refbank.FaultSkipRequiredClaims,
			send:  alter(func(d *request.Draft, _ *bankEnv) { delete(d.Claims, "application_type") }),
			clean: rejected(rejection{rfc: badMeta, ob: obFieldMissing, msg: "application_type"}), faulty: succeeded},
		{fault: refbank.FaultSkipRedirectChecks,
			send: alter(func(d *request.Draft, e *bankEnv) {
				d.Claims["redirect_uris"] = []any{"http://localhost/cb#frag"}
				d.SetSSAClaim(e.p.RedirectClaim, []any{"http://localhost/cb#frag"})
			}),
			clean: rejected(rejection{rfc: badRedirect}), faulty: succeeded},
		{fault: refbank.FaultAcceptUnregisteredRedirect,
			send: alter(func(d *request.Draft, _ *bankEnv) {
				d.Claims["redirect_uris"] = []any{"https://tpp.dcrconform.example/elsewhere"}
			}),
			clean: rejected(rejection{rfc: badRedirect}), faulty: succeeded},
		{fault: refbank.FaultAcceptAnyAuthMethod,
			send: alter(func(d *request.Draft, _ *bankEnv) {
				d.Claims["token_endpoint_auth_method"] = "private_key_jwt"
			}),
			clean:  rejected(rejection{rfc: badMeta, msg: "token_endpoint_auth_method"}),
			faulty: succeededWith("token_endpoint_auth_method", "private_key_jwt")},
		{fault: refbank.FaultSkipDN,
			send:  alter(func(d *request.Draft, e *bankEnv) { delete(d.Claims, e.p.DNClaim) }),
			clean: rejected(rejection{rfc: badMeta, ob: obFieldMissing, msg: "_dn"}), faulty: succeeded},
		{fault: refbank.FaultIgnoreDNMismatch,
			send: alter(func(d *request.Draft, e *bankEnv) {
				d.Claims[e.p.DNClaim] = "CN=someone-else,O=Other Ltd,C=GB"
			}),
			clean: rejected(rejection{rfc: badMeta, msg: "transport certificate"}), faulty: succeeded},
		{fault: refbank.FaultAcceptWeakAlgs,
			send: alter(func(d *request.Draft, _ *bankEnv) {
				d.Claims["id_token_signed_response_alg"] = "RS256"
			}),
			clean:  rejected(rejection{rfc: badMeta, msg: "id_token_signed_response_alg"}),
			faulty: succeededWith("id_token_signed_response_alg", "RS256")},
		{fault: refbank.FaultAnyApplicationType,
			send:   alter(func(d *request.Draft, _ *bankEnv) { d.Claims["application_type"] = "desktop" }),
			clean:  rejected(rejection{rfc: badMeta, msg: "application_type"}),
			faulty: succeededWith("application_type", "desktop")},
		{fault: refbank.FaultSkipScope,
			send: alter(func(d *request.Draft, e *bankEnv) {
				d.Claims["scope"] = e.p.EncodeScope([]string{"openid", "admin"})
			}),
			clean: rejected(rejection{rfc: badMeta, msg: "admin"}), faulty: succeeded},
		{fault: refbank.FaultAnyGrantType,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.Claims["grant_types"] = []any{"password"} }),
			clean: rejected(rejection{rfc: badMeta, msg: "password"}), faulty: succeededWith("grant_types", []any{"password"})},
		{fault: refbank.FaultAnyResponseType, profiles: obie,
			send:  alter(func(d *request.Draft, _ *bankEnv) { d.Claims["response_types"] = []any{"token"} }),
			clean: rejected(rejection{rfc: badMeta, msg: "token"}), faulty: succeeded},

		// Error answers.
		{fault: refbank.FaultWrongErrorFormat, send: expired,
			clean: rejected(rejection{msg: "expired"}),
			faulty: func(t *testing.T, e *bankEnv, _ *request.Prepared, r *result) {
				wantRejected(t, otherFormat(e.p.ErrorFormat), r, rejection{msg: "expired"})
			}},

		// The registration response.
		{fault: refbank.FaultOmitClientID, send: happy,
			clean: func(t *testing.T, e *bankEnv, _ *request.Prepared, r *result) {
				wantSuccess(t, e.p, r)
				if id, _ := r.json["client_id"].(string); id == "" {
					t.Errorf("clean bank omitted client_id")
				}
			},
			faulty: func(t *testing.T, e *bankEnv, _ *request.Prepared, r *result) {
				wantSuccess(t, e.p, r)
				if _, ok := r.json["client_id"]; ok {
					t.Errorf("faulty bank still returned client_id")
				}
			}},
		{fault: refbank.FaultAnswer201, profiles: []string{"revolut"}, send: happy,
			clean: status(http.StatusOK), faulty: status(http.StatusCreated)},
		{fault: refbank.FaultEchoOtherRedirects, send: happy,
			clean:  echoes("redirect_uris", true),
			faulty: echoes("redirect_uris", false)},
		{fault: refbank.FaultEnumOutOfSet, send: happy,
			clean:  succeededWith("application_type", "web"),
			faulty: succeededWith("application_type", "desktop")},
		{fault: refbank.FaultDropDN, send: happy,
			clean: func(t *testing.T, e *bankEnv, p *request.Prepared, r *result) { echoes(e.p.DNClaim, true)(t, e, p, r) },
			faulty: func(t *testing.T, e *bankEnv, p *request.Prepared, r *result) {
				wantSuccess(t, e.p, r)
				if _, ok := r.json[e.p.DNClaim]; ok {
					t.Errorf("faulty bank still returned %s", e.p.DNClaim)
				}
			}},
		{fault: refbank.FaultScopeShape, send: happy,
			clean: echoes("scope", true),
			faulty: func(t *testing.T, e *bankEnv, p *request.Prepared, r *result) {
				wantSuccess(t, e.p, r)
				_, isArray, ok := profile.DecodeScope(r.json["scope"])
				if !ok || isArray == e.p.ScopeArray {
					t.Errorf("scope kept the profile's JSON type: %#v", r.json["scope"])
				}
			}},
		{fault: refbank.FaultModifySSA, send: happy,
			clean: func(t *testing.T, e *bankEnv, p *request.Prepared, r *result) {
				wantSuccess(t, e.p, r)
				if r.json["software_statement"] != p.SSA {
					t.Errorf("clean bank changed the software statement")
				}
			},
			faulty: func(t *testing.T, e *bankEnv, p *request.Prepared, r *result) {
				wantSuccess(t, e.p, r)
				if got, _ := r.json["software_statement"].(string); got == "" || got == p.SSA {
					t.Errorf("faulty bank returned the software statement unchanged (or none): %q", got)
				}
			}},
		{fault: refbank.FaultIssueSecret, send: happy,
			clean: func(t *testing.T, e *bankEnv, _ *request.Prepared, r *result) {
				wantSuccess(t, e.p, r)
				if _, ok := r.json["client_secret"]; ok {
					t.Errorf("clean bank issued a client_secret")
				}
			},
			faulty: func(t *testing.T, e *bankEnv, _ *request.Prepared, r *result) {
				wantSuccess(t, e.p, r)
				if s, _ := r.json["client_secret"].(string); s == "" {
					t.Errorf("faulty bank issued no client_secret")
				}
			}},
		{fault: refbank.FaultTextPlain, send: happy,
			clean: succeeded,
			faulty: func(t *testing.T, e *bankEnv, _ *request.Prepared, r *result) {
				if r.err != nil || r.status != e.p.SuccessStatus {
					t.Fatalf("want %d, got %v", e.p.SuccessStatus, r)
				}
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("Content-Type: want text/plain, got %q", ct)
				}
			}},
	}
}

// echoes checks success and whether the response's member equals the one sent.
func echoes(name string, want bool) checkFunc {
	return func(t *testing.T, e *bankEnv, p *request.Prepared, r *result) {
		t.Helper()
		wantSuccess(t, e.p, r)
		_, sent, err := jose.Decode(p.Token)
		if err != nil {
			t.Fatal(err)
		}
		if got := reflect.DeepEqual(r.json[name], sent[name]); got != want {
			t.Errorf("%s echoed=%v, want %v (sent %#v, got %#v)", name, got, want, sent[name], r.json[name])
		}
	}
}

// replay sends one signed request twice and returns the answer to the second.
func replay(t *testing.T, e *bankEnv) (*request.Prepared, *result) {
	prep := build(t, e.draft())
	wantSuccess(t, e.p, e.send(t, prep))
	return prep, e.send(t, prep)
}

// sendEmbeddedJWK signs the request with a key published nowhere and embeds that key in the
// JWS header (jwk), as an attacker would. jose.Sign cannot set jwk from a plain map, so the
// token is assembled and PS256-signed here.
func sendEmbeddedJWK(t *testing.T, e *bankEnv) (*request.Prepared, *result) {
	prep := build(t, e.draft())
	_, claims, err := jose.Decode(prep.Token)
	if err != nil {
		t.Fatal(err)
	}
	pub := keys.Foreign.Key.PublicKey
	header := map[string]any{"alg": "PS256", "typ": "JWT", "kid": keys.Foreign.Kid, "jwk": map[string]any{
		"kty": "RSA", "kid": keys.Foreign.Kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}
	hb, _ := json.Marshal(header)
	pb, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(pb)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPSS(rand.Reader, keys.Foreign.Key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	if err != nil {
		t.Fatal(err)
	}
	prep.Token = jose.Assemble(hb, pb, sig)
	prep.Body = []byte(prep.Token)
	return prep, e.send(t, prep)
}

// TestFaultsFlipBehaviour sends each fault's probe to a clean bank and to a bank with only that
// fault on, and checks both answers: the fault must change exactly the behaviour it names.
func TestFaultsFlipBehaviour(t *testing.T) {
	covered := map[string]bool{}
	all := append(append(append(append(faultCases(), claimFaultCases(t)...), httpFaultCases()...), manageFaultCases()...), responseFaultCases()...)
	for _, fc := range all {
		f, ok := refbank.LookupFault(fc.fault)
		if !ok {
			t.Errorf("fault %q is not declared", fc.fault)
			continue
		}
		profiles := fc.profiles
		if profiles == nil {
			profiles = []string{"revolut", "obie-3.2"}
		}
		for _, name := range profiles {
			if !f.AppliesTo(name) {
				continue
			}
			covered[fc.fault] = true
			t.Run(fc.fault+"/"+name, func(t *testing.T) {
				t.Parallel()
				for _, on := range []bool{false, true} {
					opts := append([]envOption(nil), fc.opts...)
					check, label := fc.clean, "clean bank"
					if on {
						opts = append(opts, withFaults(fc.fault))
						check, label = fc.faulty, "bank with "+fc.fault
					}
					t.Run(label, func(t *testing.T) {
						e := newEnv(t, name, opts...)
						if fc.setup != nil {
							fc.setup(e)
						}
						prep, r := fc.send(t, e)
						check(t, e, prep, r)
					})
				}
			})
		}
	}
	var missing []string
	for _, f := range refbank.Faults() {
		if !covered[f.Name] {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("faults without a unit test: %s", strings.Join(missing, ", "))
	}
}

func TestParseFaults(t *testing.T) {
	good := []struct {
		names   []string
		profile string
		want    []string
	}{
		{nil, "revolut", nil},
		{[]string{"", " , ,"}, "obie-3.2", nil},
		{[]string{"accept-alg-none"}, "revolut", []string{"accept-alg-none"}},
		{[]string{" accept-alg-none , skip-exp-check", "accept-alg-none"}, "obie-3.2", []string{"accept-alg-none", "skip-exp-check"}},
		{[]string{"answer-201"}, "revolut", []string{"answer-201"}},
		{[]string{"accept-any-response-type"}, "obie-3.1", []string{"accept-any-response-type"}},
	}
	for _, g := range good {
		set, err := refbank.ParseFaults(g.names, g.profile)
		if err != nil {
			t.Errorf("ParseFaults(%q, %s): %v", g.names, g.profile, err)
			continue
		}
		var got []string
		for n, on := range set {
			if on {
				got = append(got, n)
			}
		}
		if len(got) != len(g.want) {
			t.Errorf("ParseFaults(%q, %s) = %v, want %v", g.names, g.profile, set, g.want)
			continue
		}
		for _, n := range g.want {
			if !set[n] {
				t.Errorf("ParseFaults(%q, %s) = %v, want %v", g.names, g.profile, set, g.want)
			}
		}
	}
	bad := []struct {
		names   []string
		profile string
		mention string
	}{
		{[]string{"no-such-fault"}, "revolut", "no-such-fault"},
		{[]string{"accept-alg-none,no-such-fault"}, "revolut", "no-such-fault"},
		{[]string{"Accept-Alg-None"}, "revolut", "Accept-Alg-None"},
		{[]string{"answer-201"}, "obie-3.2", "answer-201"},
		{[]string{"skip-exp-check", "answer-201"}, "obie-3.1", "answer-201"},
		{[]string{"accept-any-response-type"}, "revolut", "accept-any-response-type"},
	}
	for _, b := range bad {
		set, err := refbank.ParseFaults(b.names, b.profile)
		if err == nil {
			t.Errorf("ParseFaults(%q, %s) accepted: %v", b.names, b.profile, set)
			continue
		}
		if !strings.Contains(err.Error(), b.mention) {
			t.Errorf("ParseFaults(%q, %s) error %q does not name %q", b.names, b.profile, err, b.mention)
		}
		if set != nil {
			t.Errorf("ParseFaults(%q, %s) returned a set with its error: %v", b.names, b.profile, set)
		}
	}
}

func TestFaultDeclarations(t *testing.T) {
	all := refbank.Faults()
	if len(all) == 0 {
		t.Fatal("no faults declared")
	}
	known := map[string]bool{}
	for _, n := range profile.Names() {
		known[n] = true
	}
	seen := map[string]bool{}
	for i, f := range all {
		if f.Name == "" || strings.TrimSpace(f.Name) != f.Name || strings.ContainsAny(f.Name, ", ") {
			t.Errorf("fault %d has a bad name %q", i, f.Name)
		}
		if seen[f.Name] {
			t.Errorf("fault %q declared twice", f.Name)
		}
		seen[f.Name] = true
		if i > 0 && all[i-1].Name >= f.Name {
			t.Errorf("Faults() not sorted: %q before %q", all[i-1].Name, f.Name)
		}
		if strings.TrimSpace(f.Description) == "" {
			t.Errorf("fault %q has no description", f.Name)
		}
		if len(f.Trips) == 0 {
			t.Errorf("fault %q trips no case", f.Name)
		}
		for _, c := range f.Trips {
			if strings.TrimSpace(c) == "" {
				t.Errorf("fault %q has an empty Trips entry", f.Name)
			}
		}
		for _, p := range f.Profiles {
			if !known[p] {
				t.Errorf("fault %q names unknown profile %q", f.Name, p)
			}
		}
		applies := 0
		for n := range known {
			if f.AppliesTo(n) {
				applies++
			}
		}
		if applies == 0 {
			t.Errorf("fault %q applies to no profile", f.Name)
		}
		if got, ok := refbank.LookupFault(f.Name); !ok || got.Name != f.Name {
			t.Errorf("LookupFault(%q) = %v, %v", f.Name, got, ok)
		}
		if _, err := refbank.ParseFaults([]string{f.Name}, firstApplicable(f)); err != nil {
			t.Errorf("ParseFaults refuses declared fault %q: %v", f.Name, err)
		}
	}
	if _, ok := refbank.LookupFault("no-such-fault"); ok {
		t.Error("LookupFault found an undeclared fault")
	}
}

func firstApplicable(f refbank.Fault) string {
	for _, n := range profile.Names() {
		if f.AppliesTo(n) {
			return n
		}
	}
	return ""
}

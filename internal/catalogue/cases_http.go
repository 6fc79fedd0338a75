package catalogue

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/judge"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/request"
)

// envelopeCodes are the RFC codes an envelope problem (media type, size) may carry: none of the
// four registration codes is about the envelope, so OAuth's invalid_request is allowed too.
var envelopeCodes = append(append([]string{}, profile.RFC7591Codes...), "invalid_request")

// Sizes of the oversized probes. The body stays near 1 MiB (not the 10 MiB the research note
// also lists): enough to pass any sane limit, small enough for a quick run.
const (
	paddingMembers = 200
	paddingLength  = 4000
	longValue      = 10000
	nestingDepth   = 2000
)

func httpCases() []*Case {
	mediaType := func(mt string) Alter {
		return func(d *request.Draft, _ *request.Identity) error {
			d.ContentType = mt
			return nil
		}
	}
	body := func(b string) Alter {
		return func(d *request.Draft, _ *request.Identity) error {
			d.Body = []byte(b)
			return nil
		}
	}
	method := func(m string, keepBody bool) Alter {
		return func(d *request.Draft, _ *request.Identity) error {
			d.Method = m
			if !keepBody {
				d.Body, d.ContentType = []byte{}, ""
			}
			return nil
		}
	}
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	return []*Case{
		{
			ID: "HTTP-01", Title: "Plain JSON registration (RFC 7591 style) is rejected", Group: GroupHTTP,
			Ref:    "OBIE DCR swagger 3.1.0 (application/jwt) and 3.2/3.3 (application/jose): the request is a signed JWT",
			Levels: All(SHOULD),
			// The JSON carries the very claims, SSA included, that the happy path would sign.
			Alter: func(d *request.Draft, _ *request.Identity) error {
				d.ContentType = "application/json"
				d.AfterSign = func(token string) (string, error) {
					_, claims, err := jose.Decode(token)
					if err != nil {
						return "", err
					}
					b, err := json.Marshal(claims)
					return string(b), err
				}
				return nil
			},
			Expect: judge.Rejected{Statuses: []int{400, 415}, RFCCodes: envelopeCodes},
		},
		{
			ID: "HTTP-02", Title: "Which request media types are accepted", Group: GroupHTTP,
			Ref:    "OBIE DCR swagger 3.1.0 (application/jwt), 3.2/3.3 (application/jose); Revolut guides (application/jwt) and OpenAPI (text/plain)",
			Levels: All(INFO),
			Variants: []Variant{
				{Name: "application-jwt", Title: "application/jwt", Alter: mediaType("application/jwt")},
				{Name: "application-jose", Title: "application/jose", Alter: mediaType("application/jose")},
				{Name: "text-plain", Title: "text/plain", Alter: mediaType("text/plain")},
			},
			Expect: judge.Observe{},
		},
		{
			ID: "HTTP-03", Title: "Request without a Content-Type is rejected", Group: GroupHTTP,
			Ref:    "OBIE DCR swagger request media type; RFC 9110 15.5.16 (415)",
			Levels: All(SHOULD),
			Alter:  mediaType(""),
			Expect: judge.Rejected{Statuses: []int{400, 415}, RFCCodes: envelopeCodes},
		},
		{
			ID: "HTTP-04", Title: "Empty body is rejected with 400", Group: GroupHTTP,
			Ref:    "OBIE DCR v3.1 (request body is a signed JWT; errors per RFC 7591 3.2.2)",
			Levels: All(MUST),
			Alter:  body(""),
			Expect: judge.Rejected{},
		},
		{
			ID: "HTTP-05", Title: "Malformed JWT is rejected with 400, never 5xx", Group: GroupHTTP,
			Ref:    "OBIE DCR v3.1 error structure (RFC 7591 3.2.2); RFC 7515 7.1 (compact serialisation)",
			Levels: All(MUST),
			Variants: []Variant{
				{Name: "one-segment", Title: "a single base64url segment", Alter: body(seg(`{"alg":"PS256"}`))},
				{Name: "two-segments", Title: "header and payload, no signature", Alter: body(seg(`{"alg":"PS256","typ":"JWT"}`) + "." + seg(`{"iss":"x"}`))},
				{Name: "bad-base64url", Title: "segments that are not base64url", Alter: body("eyJ!!!.@@@@.####")},
				{Name: "bad-json", Title: "header that is not JSON", Alter: body(seg(`{"alg":"PS256",`) + "." + seg(`{"iss":"x"}`) + "." + seg("sig"))},
			},
			Expect: judge.Rejected{},
		},
		{
			// A signed request padded with many members of moderate size: every value is sane,
			// only the whole is too large, so a bank without a body limit would register it.
			ID: "HTTP-06", Title: "Oversized body (about 1 MiB) is rejected promptly", Group: GroupHTTP,
			Ref:    "RFC 9110 15.5.14 (413 Content Too Large); robustness",
			Levels: All(SHOULD),
			Alter: func(d *request.Draft, _ *request.Identity) error {
				pad := strings.Repeat("a", paddingLength)
				for i := 0; i < paddingMembers; i++ {
					d.Claims[fmt.Sprintf("x_dcrconform_padding_%03d", i)] = pad
				}
				return nil
			},
			Expect: judge.RejectedOrCut{Rejected: judge.Rejected{Statuses: []int{413, 400}, RFCCodes: envelopeCodes}},
		},
		{
			ID: "HTTP-07", Title: "Oversized claim values are rejected", Group: GroupHTTP,
			Ref:    "OBIE DCR v3.1 data dictionary length limits; robustness",
			Levels: All(SHOULD),
			Variants: []Variant{
				{Name: "long-value", Title: "a 10,000-character client_name", Alter: func(d *request.Draft, _ *request.Identity) error {
					d.Claims["client_name"] = strings.Repeat("n", longValue)
					return nil
				}},
				{Name: "deep-nesting", Title: "a member nested 2,000 arrays deep", Alter: func(d *request.Draft, _ *request.Identity) error {
					d.Claims["x_dcrconform_nested"] = json.RawMessage(strings.Repeat("[", nestingDepth) + strings.Repeat("]", nestingDepth))
					return nil
				}},
			},
			Expect: judge.Rejected{},
		},
		{
			ID: "HTTP-08", Title: "Other methods on the registration endpoint get 405", Group: GroupHTTP,
			Ref:    "OBIE DCR v3.1 endpoints (POST /register; GET/PUT/DELETE only on /register/{ClientId}); RFC 9110 15.5.6",
			Levels: All(SHOULD),
			Variants: []Variant{
				{Name: "get", Title: "GET /register", Alter: method(http.MethodGet, false)},
				{Name: "put", Title: "PUT /register with a registration JWT", Alter: method(http.MethodPut, true)},
				{Name: "delete", Title: "DELETE /register", Alter: method(http.MethodDelete, false)},
			},
			Expect: judge.AnswersStatus{Statuses: []int{http.StatusMethodNotAllowed}},
		},
		{
			// Revolut's OpenAPI puts a bearer requirement on POST /register while its guides
			// say mutual TLS only; a random token shows which one the bank enforces.
			ID: "HTTP-09", Title: "A stray bearer token on POST /register", Group: GroupHTTP,
			Ref:    "Revolut Applications OpenAPI (AccessToken on POST /register) vs guides (mTLS only)",
			Levels: All(INFO),
			Alter: func(d *request.Draft, _ *request.Identity) error {
				d.Header.Set("Authorization", "Bearer "+request.NewJTI())
				return nil
			},
			Expect: judge.Observe{},
		},
	}
}

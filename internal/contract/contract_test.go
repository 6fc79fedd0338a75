package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/spec"
)

// revolutExample is the 200 example of Revolut's "Get a client ID" page.
const revolutExample = `{
    "iss": "example.com",
    "iat": 1591352490,
    "exp": 1899796254,
    "application_type": "web",
    "client_id": "<your client_id>",
    "token_endpoint_auth_method": "tls_client_auth",
    "tls_client_auth_dn": "<your transport certificte DN>",
    "software_statement": "<your software statement>",
    "id_token_signed_response_alg": "PS256",
    "request_object_signing_alg": "PS256",
    "redirect_uris": [
        "https://example.com/my_callback_url"
    ],
    "org_jwks_endpoint": "https://example.com/jwks",
    "grant_types": [],
    "scope": "openid accounts payments"
}`

// revolutError is the 400 "Unreachable JWKS" example of Revolut's OpenAPI.
const revolutError = `{
  "Code": "400 Bad Request",
  "Message": "Invalid request parameters",
  "Id": "126S23QGPZ8HG",
  "Errors": [{"ErrorCode": "UK.OBIE.Field.Invalid", "Message": "Failed to fetch public key from https://example.com/myjwks.json"}]
}`

// secret stands for a client secret or other sensitive value that must never reach a report.
const secret = "s3cr3t-VALUE"

// obieBase returns a valid OBIE registration response for the version's DN claim and scope
// encoding.
func obieBase(dnClaim string, scope any) map[string]any {
	return map[string]any{
		"client_id":                    "3fa85f64-5717-4562-b3fc-2c963f66afa6",
		"redirect_uris":                []any{"https://tpp.example/cb"},
		"token_endpoint_auth_method":   "tls_client_auth",
		"grant_types":                  []any{"client_credentials", "authorization_code", "refresh_token"},
		"response_types":               []any{"code id_token"},
		"software_id":                  "abcDEF123",
		"software_statement":           "eyJhbGciOiJQUzI1NiJ9.e30.c2ln",
		"application_type":             "web",
		"id_token_signed_response_alg": "PS256",
		"request_object_signing_alg":   "PS256",
		dnClaim:                        "CN=tpp,O=Example,C=GB",
		"scope":                        scope,
		// SSA claims come back flattened; additional properties are allowed.
		"software_client_name": "Example TPP",
	}
}

func ob31() map[string]any {
	return obieBase("tls_client_auth_dn", []any{"openid", "accounts"})
}

func ob32() map[string]any {
	m := obieBase("tls_client_auth_subject_dn", "openid accounts")
	m["client_id_issued_at"] = 1700000000
	m["client_secret_expires_at"] = 0
	return m
}

// with returns a copy of m with the given changes; a nil value deletes the key.
func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
		} else {
			out[k] = kv[i+1]
		}
	}
	return out
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustLoad(t testing.TB, name string) *Validator {
	t.Helper()
	v, err := Load(name)
	if err != nil {
		t.Fatalf("Load(%q): %v", name, err)
	}
	return v
}

var jsonCT = http.Header{"Content-Type": {"application/json"}}

func strs(fs []Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.String()
	}
	return out
}

func TestEveryDocumentLoadsAndValidates(t *testing.T) {
	names := spec.Names()
	if len(names) != 4 {
		t.Fatalf("spec.Names() = %v, want four documents", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			data, err := spec.Document(name)
			if err != nil {
				t.Fatal(err)
			}
			loader := openapi3.NewLoader()
			doc, err := loader.LoadFromData(data)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			// Multi-error mode reports every problem at once; examples are validated too.
			if err := doc.Validate(context.Background(), openapi3.EnableMultiError(), openapi3.EnableExamplesValidation()); err != nil {
				t.Fatalf("doc.Validate: %v", err)
			}
			if doc.OpenAPI != "3.0.3" {
				t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
			}
			if doc.Info == nil || doc.Info.Title == "" || doc.Info.Version == "" {
				t.Errorf("info.title and info.version must name the source")
			}
			if len(doc.Servers) != 1 || doc.Servers[0].URL != "https://target.invalid" {
				t.Errorf("servers = %v, want [https://target.invalid]", doc.Servers)
			}
			op := doc.Paths.Value("/register").Post
			if op.OperationID != "registerClient" {
				t.Errorf("operationId = %q, want registerClient", op.OperationID)
			}
			if op.Security != nil || doc.Security != nil || (doc.Components != nil && len(doc.Components.SecuritySchemes) > 0) {
				t.Errorf("POST /register must carry no security scheme (mTLS only)")
			}
			// Every body has a component schema.
			refs := []string{op.RequestBody.Value.Content[mustLoad(t, name).RequestMediaType()].Schema.Ref}
			for code, rr := range op.Responses.Map() {
				mt := rr.Value.Content.Get("application/json")
				if mt == nil {
					t.Errorf("response %s has no application/json body", code)
					continue
				}
				refs = append(refs, mt.Schema.Ref)
			}
			for _, ref := range refs {
				if !strings.HasPrefix(ref, "#/components/schemas/") {
					t.Errorf("body schema %q is not a component reference", ref)
				}
			}

			v := mustLoad(t, name)
			if again := mustLoad(t, name); again != v {
				t.Errorf("Load(%q) is not cached", name)
			}
		})
	}
}

func TestLoadUnknown(t *testing.T) {
	_, err := Load("nope.yaml")
	if err == nil {
		t.Fatal("Load(nope.yaml) succeeded")
	}
	if !strings.Contains(err.Error(), "revolut.yaml") || !strings.Contains(err.Error(), "obie-3.3.yaml") {
		t.Errorf("error %q does not list the known documents", err)
	}
}

// TestProfilesMatchDocuments cross-checks the profile data with the documents it names.
func TestProfilesMatchDocuments(t *testing.T) {
	for _, name := range profile.Names() {
		p := profile.MustGet(name)
		t.Run(name, func(t *testing.T) {
			v := mustLoad(t, p.Spec)
			if got := v.RequestMediaType(); got != p.MediaType {
				t.Errorf("RequestMediaType() = %q, profile says %q", got, p.MediaType)
			}
			if !v.Documented(p.SuccessStatus) {
				t.Errorf("success status %d is not documented", p.SuccessStatus)
			}
			if !v.Documented(http.StatusBadRequest) {
				t.Errorf("400 is not documented")
			}
			for _, s := range []int{http.StatusOK, http.StatusCreated} {
				if s != p.SuccessStatus && v.Documented(s) {
					t.Errorf("status %d is documented, but the profile's success status is %d", s, p.SuccessStatus)
				}
			}
			for _, s := range []int{204, 401, 403, 405, 413, 415, 418, 500} {
				if v.Documented(s) {
					t.Errorf("status %d unexpectedly documented", s)
				}
			}
		})
	}
}

func TestValidateResponse(t *testing.T) {
	textCT := http.Header{"Content-Type": {"text/plain"}}
	tests := []struct {
		name   string
		spec   string
		status int
		header http.Header
		body   any // string or map, marshalled
		// want lists the exact findings (as Finding.String()), in order; nil means valid.
		want []string
	}{
		// Revolut.
		{name: "revolut seed example", spec: "revolut.yaml", status: 200, body: revolutExample},
		{name: "revolut empty object (every field optional)", spec: "revolut.yaml", status: 200, body: `{}`},
		{name: "revolut extra property allowed", spec: "revolut.yaml", status: 200, body: `{"client_id":"x","org_name":"ACME"}`},
		{name: "revolut charset parameter", spec: "revolut.yaml", status: 200,
			header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, body: revolutExample},
		{name: "revolut application_type desktop", spec: "revolut.yaml", status: 200,
			body: `{"application_type":"desktop"}`,
			want: []string{`/application_type: value is not one of the allowed values ["web","mobile"]`}},
		{name: "revolut scope as array", spec: "revolut.yaml", status: 200,
			body: `{"scope":["openid","accounts"]}`,
			want: []string{`/scope: value must be a string`}},
		{name: "revolut iat as string", spec: "revolut.yaml", status: 200,
			body: `{"iat":"1591352490"}`,
			want: []string{`/iat: value must be an integer`}},
		{name: "revolut iat fractional", spec: "revolut.yaml", status: 200,
			body: `{"iat":1591352490.5}`,
			want: []string{`/iat: value must be an integer`}},
		{name: "revolut auth method and algs", spec: "revolut.yaml", status: 200,
			body: `{"token_endpoint_auth_method":"private_key_jwt","id_token_signed_response_alg":"RS256","request_object_signing_alg":"none"}`,
			want: []string{
				`/id_token_signed_response_alg: value is not one of the allowed values ["PS256"]`,
				`/request_object_signing_alg: value is not one of the allowed values ["PS256"]`,
				`/token_endpoint_auth_method: value is not one of the allowed values ["tls_client_auth"]`,
			}},
		{name: "revolut multiple violations all reported", spec: "revolut.yaml", status: 200,
			body: `{"application_type":"desktop","iat":"x","exp":true,"scope":["openid"],"redirect_uris":"https://a","grant_types":[1,"client_credentials",2],"client_id":7}`,
			want: []string{
				`/application_type: value is not one of the allowed values ["web","mobile"]`,
				`/client_id: value must be a string`,
				`/exp: value must be an integer`,
				`/grant_types/0: value must be a string`,
				`/grant_types/2: value must be a string`,
				`/iat: value must be an integer`,
				`/redirect_uris: value must be an array`,
				`/scope: value must be a string`,
			}},
		{name: "revolut body is an array", spec: "revolut.yaml", status: 200, body: `[]`,
			want: []string{`body: value must be an object`}},
		{name: "revolut body not JSON", spec: "revolut.yaml", status: 200, body: `<html>oops</html>`,
			want: []string{`body cannot be decoded as Content-Type "application/json"`}},
		{name: "revolut body empty", spec: "revolut.yaml", status: 200, body: ``,
			want: []string{`body cannot be decoded as Content-Type "application/json"`}},
		{name: "revolut body truncated JSON", spec: "revolut.yaml", status: 200, body: `{"client_id":`,
			want: []string{`body cannot be decoded as Content-Type "application/json"`}},
		{name: "revolut undocumented 418", spec: "revolut.yaml", status: 418, body: `{}`,
			want: []string{`status 418 is not documented`}},
		{name: "revolut 201 is not its success status", spec: "revolut.yaml", status: 201, body: revolutExample,
			want: []string{`status 201 is not documented`}},
		{name: "revolut text/plain on 200", spec: "revolut.yaml", status: 200, header: textCT, body: revolutExample,
			want: []string{`Content-Type "text/plain" is not documented for status 200`}},
		{name: "revolut missing Content-Type", spec: "revolut.yaml", status: 200, header: http.Header{}, body: revolutExample,
			want: []string{`Content-Type is missing for status 200`}},
		{name: "revolut lower-case header key", spec: "revolut.yaml", status: 200,
			header: http.Header{"content-type": {"application/json"}}, body: revolutExample},
		{name: "revolut nil header", spec: "revolut.yaml", status: 200, header: nil, body: revolutExample,
			want: []string{`Content-Type is missing for status 200`}},
		{name: "revolut 400 OBErrorResponse1 valid", spec: "revolut.yaml", status: 400, body: revolutError},
		{name: "revolut 400 with Path and Url, no Id", spec: "revolut.yaml", status: 400,
			body: `{"Code":"400 Bad Request","Message":"m","Errors":[{"ErrorCode":"UK.OBIE.Field.Invalid","Message":"m","Path":"$.a","Url":"https://x"}]}`},
		{name: "revolut 400 RFC 7591 body instead", spec: "revolut.yaml", status: 400,
			body: `{"error":"invalid_client_metadata","error_description":"bad"}`,
			want: []string{
				`/Code: property "Code" is missing`,
				`/Errors: property "Errors" is missing`,
				`/Message: property "Message" is missing`,
			}},
		{name: "revolut 400 empty Errors", spec: "revolut.yaml", status: 400,
			body: `{"Code":"400 Bad Request","Message":"m","Errors":[]}`,
			want: []string{`/Errors: minimum number of items is 1`}},
		{name: "revolut 400 bad error item and lengths", spec: "revolut.yaml", status: 400,
			body: fmt.Sprintf(`{"Code":%q,"Id":"","Message":"m","Errors":[{"Message":"m"},{"ErrorCode":%q,"Message":""}]}`,
				strings.Repeat("C", 41), strings.Repeat("E", 129)),
			want: []string{
				`/Code: maximum string length is 40`,
				`/Errors/0/ErrorCode: property "ErrorCode" is missing`,
				`/Errors/1/ErrorCode: maximum string length is 128`,
				`/Errors/1/Message: minimum string length is 1`,
				`/Id: minimum string length is 1`,
			}},
		{name: "revolut 400 Message too long", spec: "revolut.yaml", status: 400,
			body: fmt.Sprintf(`{"Code":"c","Message":%q,"Errors":[{"ErrorCode":"e","Message":"m"}]}`, strings.Repeat("m", 501)),
			want: []string{`/Message: maximum string length is 500`}},

		// OBIE 3.1.
		{name: "obie-3.1 201 scope array", spec: "obie-3.1.yaml", status: 201, body: ob31()},
		{name: "obie-3.1 201 scope string", spec: "obie-3.1.yaml", status: 201,
			body: with(ob31(), "scope", "openid accounts"),
			want: []string{`/scope: value must be an array`}},
		{name: "obie-3.1 scope item too long", spec: "obie-3.1.yaml", status: 201,
			body: with(ob31(), "scope", []any{"openid", strings.Repeat("s", 33)}),
			want: []string{`/scope/1: maximum string length is 32`}},
		{name: "obie-3.1 client_id missing", spec: "obie-3.1.yaml", status: 201,
			body: with(ob31(), "client_id", nil),
			want: []string{`/client_id: property "client_id" is missing`}},
		{name: "obie-3.1 client_id too long", spec: "obie-3.1.yaml", status: 201,
			body: with(ob31(), "client_id", strings.Repeat("c", 37)),
			want: []string{`/client_id: maximum string length is 36`}},
		{name: "obie-3.1 DN optional", spec: "obie-3.1.yaml", status: 201,
			body: with(ob31(), "tls_client_auth_dn", nil, "token_endpoint_auth_method", "private_key_jwt")},
		{name: "obie-3.1 enums", spec: "obie-3.1.yaml", status: 201,
			body: with(ob31(), "token_endpoint_auth_method", "client_secret_basic", "application_type", "native",
				"grant_types", []any{"client_credentials", "implicit"}, "response_types", []any{"token"},
				"id_token_signed_response_alg", "HS256"),
			want: []string{
				`/application_type: value is not one of the allowed values ["web","mobile"]`,
				`/grant_types/1: value is not one of the allowed values ["client_credentials","authorization_code","refresh_token"]`,
				`/id_token_signed_response_alg: value is not one of the allowed values ["RS256","PS256","ES256"]`,
				`/response_types/0: value is not one of the allowed values ["code","code id_token"]`,
				`/token_endpoint_auth_method: value is not one of the allowed values ["private_key_jwt","tls_client_auth"]`,
			}},
		{name: "obie-3.1 empty grant_types", spec: "obie-3.1.yaml", status: 201,
			body: with(ob31(), "grant_types", []any{}),
			want: []string{`/grant_types: minimum number of items is 1`}},
		{name: "obie-3.1 redirect too long", spec: "obie-3.1.yaml", status: 201,
			body: with(ob31(), "redirect_uris", []any{"https://tpp.example/" + strings.Repeat("a", 240)}),
			want: []string{`/redirect_uris/0: maximum string length is 256`}},
		{name: "obie-3.1 DN too long", spec: "obie-3.1.yaml", status: 201,
			body: with(ob31(), "tls_client_auth_dn", "CN="+strings.Repeat("x", 126)),
			want: []string{`/tls_client_auth_dn: maximum string length is 128`}},
		{name: "obie-3.1 int32 overflow", spec: "obie-3.1.yaml", status: 201,
			body: with(ob31(), "client_id_issued_at", 1<<33),
			want: []string{`/client_id_issued_at: value does not match the format "int32"`}},
		{name: "obie-3.1 200 undocumented", spec: "obie-3.1.yaml", status: 200, body: ob31(),
			want: []string{`status 200 is not documented`}},
		{name: "obie-3.1 400 valid", spec: "obie-3.1.yaml", status: 400,
			body: `{"error":"invalid_software_statement","error_description":"SSA signature invalid"}`},
		{name: "obie-3.1 400 OBErrorResponse1 instead", spec: "obie-3.1.yaml", status: 400, body: revolutError,
			want: []string{`/error: property "error" is missing`}},

		// OBIE 3.2.
		{name: "obie-3.2 201 valid", spec: "obie-3.2.yaml", status: 201, body: ob32()},
		{name: "obie-3.2 scope array", spec: "obie-3.2.yaml", status: 201,
			body: with(ob32(), "scope", []any{"openid"}),
			want: []string{`/scope: value must be a string`}},
		{name: "obie-3.2 scope missing", spec: "obie-3.2.yaml", status: 201,
			body: with(ob32(), "scope", nil),
			want: []string{`/scope: property "scope" is missing`}},
		{name: "obie-3.2 scope too long", spec: "obie-3.2.yaml", status: 201,
			body: with(ob32(), "scope", strings.Repeat("openid ", 37)),
			want: []string{`/scope: maximum string length is 256`}},
		{name: "obie-3.2 v3.2 auth methods", spec: "obie-3.2.yaml", status: 201,
			body: with(ob32(), "token_endpoint_auth_method", "client_secret_jwt", "tls_client_auth_subject_dn", nil)},
		{name: "obie-3.2 DN too long", spec: "obie-3.2.yaml", status: 201,
			body: with(ob32(), "tls_client_auth_subject_dn", strings.Repeat("x", 129)),
			want: []string{`/tls_client_auth_subject_dn: maximum string length is 128`}},
		{name: "obie-3.2 software_id pattern", spec: "obie-3.2.yaml", status: 201,
			body: with(ob32(), "software_id", "not base62!"),
			want: []string{`/software_id: string doesn't match the regular expression "^[0-9a-zA-Z]{1,22}$"`}},
		{name: "obie-3.2 issued_at as string", spec: "obie-3.2.yaml", status: 201,
			body: with(ob32(), "client_id_issued_at", "1700000000"),
			want: []string{`/client_id_issued_at: value must be an integer`}},
		{name: "obie-3.2 negative secret expiry", spec: "obie-3.2.yaml", status: 201,
			body: with(ob32(), "client_secret_expires_at", -1),
			want: []string{`/client_secret_expires_at: number must be at least 0`}},
		{name: "obie-3.2 CIBA grant not in 3.2", spec: "obie-3.2.yaml", status: 201,
			body: with(ob32(), "grant_types", []any{"urn:openid:params:grant-type:ciba"}),
			want: []string{`/grant_types/0: value is not one of the allowed values ["client_credentials","authorization_code","refresh_token"]`}},
		{name: "obie-3.2 400 invalid_client_metadata", spec: "obie-3.2.yaml", status: 400,
			body: `{"error":"invalid_client_metadata"}`},
		{name: "obie-3.2 400 bogus code", spec: "obie-3.2.yaml", status: 400,
			body: `{"error":"bogus"}`,
			want: []string{`/error: value is not one of the allowed values ["invalid_redirect_uri","invalid_client_metadata","invalid_software_statement","unapproved_software_statement"]`}},
		{name: "obie-3.2 400 description too long", spec: "obie-3.2.yaml", status: 400,
			body: fmt.Sprintf(`{"error":"invalid_redirect_uri","error_description":%q}`, strings.Repeat("d", 501)),
			want: []string{`/error_description: maximum string length is 500`}},
		{name: "obie-3.2 400 text/plain", spec: "obie-3.2.yaml", status: 400, header: textCT, body: `invalid_client_metadata`,
			want: []string{`Content-Type "text/plain" is not documented for status 400`}},

		// OBIE 3.3.
		{name: "obie-3.3 201 valid", spec: "obie-3.3.yaml", status: 201, body: ob32()},
		{name: "obie-3.3 CIBA client", spec: "obie-3.3.yaml", status: 201,
			body: with(ob32(), "grant_types", []any{"urn:openid:params:grant-type:ciba"},
				"backchannel_token_delivery_mode", "ping",
				"backchannel_client_notification_endpoint", "https://tpp.example/ciba",
				"backchannel_authentication_request_signing_alg", "PS256",
				"backchannel_user_code_parameter_supported", false)},
		{name: "obie-3.3 CIBA enums", spec: "obie-3.3.yaml", status: 201,
			body: with(ob32(), "backchannel_token_delivery_mode", "smoke-signal",
				"backchannel_authentication_request_signing_alg", "RS256",
				"backchannel_user_code_parameter_supported", "false"),
			want: []string{
				`/backchannel_authentication_request_signing_alg: value is not one of the allowed values ["ES256","PS256"]`,
				`/backchannel_token_delivery_mode: value is not one of the allowed values ["poll","ping","push"]`,
				`/backchannel_user_code_parameter_supported: value must be a boolean`,
			}},
		{name: "obie-3.3 400 valid", spec: "obie-3.3.yaml", status: 400, body: `{"error":"unapproved_software_statement"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := mustLoad(t, tc.spec)
			var body []byte
			switch b := tc.body.(type) {
			case string:
				body = []byte(b)
			default:
				body = mustJSON(t, b)
			}
			header := tc.header
			if header == nil && !strings.Contains(tc.name, "nil header") {
				header = jsonCT
			}
			got := strs(v.ValidateResponse(tc.status, header, body))
			if len(got) == 0 {
				got = nil
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

func TestFindingFields(t *testing.T) {
	v := mustLoad(t, "revolut.yaml")
	got := v.ValidateResponse(200, jsonCT, []byte(`{"application_type":"desktop"}`))
	want := []Finding{{Pointer: "/application_type", Rule: `value is not one of the allowed values ["web","mobile"]`}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
	got = v.ValidateResponse(418, jsonCT, nil)
	want = []Finding{{Pointer: "", Rule: "status 418 is not documented"}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

func TestFindingString(t *testing.T) {
	tests := []struct {
		f    Finding
		want string
	}{
		{Finding{Pointer: "/application_type", Rule: "value is not one of the allowed values [\"web\",\"mobile\"]"}, `/application_type: value is not one of the allowed values ["web","mobile"]`},
		{Finding{Rule: "status 418 is not documented"}, "status 418 is not documented"},
		{Finding{Pointer: "/Errors/0/ErrorCode", Rule: `property "ErrorCode" is missing`}, `/Errors/0/ErrorCode: property "ErrorCode" is missing`},
	}
	for _, tc := range tests {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestPointerEscaping(t *testing.T) {
	if got := jsonPointer([]string{"a/b", "c~d", "0"}); got != "/a~1b/c~0d/0" {
		t.Errorf("jsonPointer = %q", got)
	}
	if got := jsonPointer(nil); got != "" {
		t.Errorf("jsonPointer(nil) = %q", got)
	}
}

// TestNoValueEchoed puts a secret into wrongly typed, wrongly sized or undecodable places and
// checks that no finding repeats it.
func TestNoValueEchoed(t *testing.T) {
	long := secret + strings.Repeat("x", 600)
	cases := []struct {
		spec   string
		status int
		body   string
	}{
		{"revolut.yaml", 200, fmt.Sprintf(`{"iat":%q,"exp":%q,"client_id":[%q],"scope":[%q],"application_type":%q,"redirect_uris":%q,"grant_types":{"k":%q},"token_endpoint_auth_method":%q}`,
			secret, secret, secret, secret, secret, secret, secret, secret)},
		{"revolut.yaml", 200, fmt.Sprintf(`{"client_id":%q`, secret)},
		{"revolut.yaml", 200, secret},
		{"revolut.yaml", 200, fmt.Sprintf(`[%q]`, secret)},
		{"revolut.yaml", 200, fmt.Sprintf(`%q`, secret)},
		{"revolut.yaml", 400, fmt.Sprintf(`{"Code":%q,"Message":%q,"Errors":[{"ErrorCode":%q,"Message":%q}],"Id":%q}`, long, long, long, long, long)},
		{"obie-3.1.yaml", 201, fmt.Sprintf(`{"client_id":%q,"client_secret":%q,"client_id_issued_at":%q,"scope":%q,"software_statement":7,"tls_client_auth_dn":%q}`,
			long, long, secret, secret, long)},
		{"obie-3.2.yaml", 201, fmt.Sprintf(`{"client_secret":%q,"client_secret_expires_at":%q,"software_id":%q,"scope":[%q]}`, long, secret, secret, secret)},
		{"obie-3.2.yaml", 400, fmt.Sprintf(`{"error":%q,"error_description":%q}`, secret, long)},
		{"obie-3.3.yaml", 201, fmt.Sprintf(`{"backchannel_token_delivery_mode":%q,"backchannel_user_code_parameter_supported":%q}`, secret, secret)},
	}
	for _, tc := range cases {
		v := mustLoad(t, tc.spec)
		findings := v.ValidateResponse(tc.status, jsonCT, []byte(tc.body))
		if len(findings) == 0 {
			t.Errorf("%s %d %.60s: no findings", tc.spec, tc.status, tc.body)
		}
		for _, f := range findings {
			for _, s := range []string{f.String(), f.Pointer, f.Rule, fmt.Sprintf("%#v", f)} {
				if strings.Contains(strings.ToLower(s), strings.ToLower("s3cr3t")) {
					t.Errorf("%s: finding %q echoes the secret", tc.spec, s)
				}
			}
		}
	}
}

// TestSchemaErrorTextHasNoValue checks the defence in depth: even kin-openapi's own error text
// (if anyone prints it) carries no value, thanks to the custom schema error message.
func TestSchemaErrorTextHasNoValue(t *testing.T) {
	v := mustLoad(t, "revolut.yaml")
	req, _ := http.NewRequest(http.MethodPost, "https://target.invalid/register", http.NoBody)
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: v.route, Options: v.options},
		Status:                 200,
		Header:                 jsonCT,
		Options:                v.options,
	}
	in.SetBodyBytes([]byte(fmt.Sprintf(`{"iat":%q,"application_type":%q}`, secret, secret)))
	err := openapi3filter.ValidateResponse(context.Background(), in)
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("kin-openapi error text echoes the value: %q", err.Error())
	}
}

func TestDeterministicOrder(t *testing.T) {
	v := mustLoad(t, "revolut.yaml")
	items := make([]string, 12)
	for i := range items {
		items[i] = "1"
	}
	body := []byte(`{"redirect_uris":[` + strings.Join(items, ",") + `],"scope":1,"iat":"x","application_type":"desktop","exp":"y"}`)
	first := strs(v.ValidateResponse(200, jsonCT, body))
	want := []string{
		`/application_type: value is not one of the allowed values ["web","mobile"]`,
		`/exp: value must be an integer`,
		`/iat: value must be an integer`,
	}
	for i := range items {
		want = append(want, fmt.Sprintf("/redirect_uris/%d: value must be a string", i))
	}
	want = append(want, `/scope: value must be a string`)
	if !slices.Equal(first, want) {
		t.Fatalf("findings:\n got  %q\n want %q", first, want)
	}
	for range 20 {
		if again := strs(v.ValidateResponse(200, jsonCT, body)); !slices.Equal(again, first) {
			t.Fatalf("order changed:\n %q\n %q", first, again)
		}
	}
}

func TestNormalise(t *testing.T) {
	in := []Finding{
		{Pointer: "/b", Rule: "r"},
		{Pointer: "/a/10", Rule: "r"},
		{Pointer: "", Rule: "status"},
		{Pointer: "/a/2", Rule: "r"},
		{Pointer: "/a/2", Rule: "r"},
		{Pointer: "/a", Rule: "z"},
		{Pointer: "/a", Rule: "b"},
	}
	got := normalise(in)
	want := []Finding{
		{Pointer: "", Rule: "status"},
		{Pointer: "/a", Rule: "b"},
		{Pointer: "/a", Rule: "z"},
		{Pointer: "/a/2", Rule: "r"},
		{Pointer: "/a/10", Rule: "r"},
		{Pointer: "/b", Rule: "r"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("normalise:\n got  %v\n want %v", got, want)
	}
	if normalise(nil) != nil {
		t.Errorf("normalise(nil) != nil")
	}
}

// TestValidResponsesReturnNil pins the "nil means valid" contract.
func TestValidResponsesReturnNil(t *testing.T) {
	v := mustLoad(t, "revolut.yaml")
	if got := v.ValidateResponse(200, jsonCT, []byte(revolutExample)); got != nil {
		t.Errorf("got %v, want nil", got)
	}
}

// TestHostileBodies must not panic and must produce a finding for every malformed input.
func TestHostileBodies(t *testing.T) {
	bodies := [][]byte{
		nil,
		{0xff, 0xfe, 0x00},
		[]byte(strings.Repeat("[", 10000)),
		[]byte(`{"a":` + strings.Repeat(`{"a":`, 2000) + `1` + strings.Repeat(`}`, 2001)),
		[]byte(`{"iat": 1e400}`),
		[]byte(`{"iat": 12345678901234567890123}`),
		[]byte(`{"client_id":"a"}{"client_id":"b"}`),
		bytes.Repeat([]byte(" "), 100),
	}
	for _, name := range spec.Names() {
		v := mustLoad(t, name)
		for _, status := range []int{200, 201, 400} {
			if !v.Documented(status) {
				continue
			}
			for _, b := range bodies {
				_ = v.ValidateResponse(status, jsonCT, b) // must not panic
			}
			if got := v.ValidateResponse(status, jsonCT, []byte("{")); len(got) == 0 {
				t.Errorf("%s %d: truncated JSON gave no finding", name, status)
			}
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := spec.Names()[i%4]
			v, err := Load(name)
			if err != nil {
				errs <- err.Error()
				return
			}
			status := 201
			if name == "revolut.yaml" {
				status = 200
			}
			for range 20 {
				got := v.ValidateResponse(status, jsonCT, []byte(`{"application_type":"desktop"}`))
				if len(got) == 0 || !slices.ContainsFunc(got, func(f Finding) bool { return f.Pointer == "/application_type" }) {
					errs <- fmt.Sprintf("%s: unexpected findings %v", name, got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestRequestSideDecoders checks that loading a validator registers decoders for the DCR
// request media types, so request validation against the same route works.
func TestRequestSideDecoders(t *testing.T) {
	for _, name := range spec.Names() {
		v := mustLoad(t, name)
		mt := v.RequestMediaType()
		if openapi3filter.RegisteredBodyDecoder(mt) == nil {
			t.Fatalf("%s: no body decoder for %q", name, mt)
		}
		req, _ := http.NewRequest(http.MethodPost, "https://bank.example/register", strings.NewReader("eyJhbGciOiJQUzI1NiJ9.e30.c2ln"))
		req.Header.Set("Content-Type", mt)
		err := openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
			Request: req, Route: v.route, Options: v.options,
		})
		if err != nil {
			t.Errorf("%s: ValidateRequest: %v", name, err)
		}
	}
}

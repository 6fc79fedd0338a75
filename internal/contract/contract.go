// Package contract checks a recorded POST /register response against the OpenAPI document of
// the profile under test (spec/*.yaml), with kin-openapi's response validation.
//
// Findings name the JSON pointer and the rule that failed, never the offending value:
// registration responses carry client secrets and software statements, and findings end up in
// reports.
package contract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/dcrconform/dcrconform/spec"
)

// registerPath is the one operation the harness validates.
const registerPath = "/register"

// maxEchoedHeader bounds how much of a response Content-Type a finding repeats.
const maxEchoedHeader = 100

// Validator validates POST /register responses against one profile's OpenAPI document. It is
// safe for concurrent use.
type Validator struct {
	name             string
	route            *routers.Route
	requestMediaType string
	options          *openapi3filter.Options
	// client is the schema of a registered client: the JSON body of the success response.
	client *openapi3.Schema
}

// Finding is one contract violation, phrased without echoing response values (responses may
// carry secrets).
type Finding struct {
	// Pointer is a JSON pointer into the body, e.g. "/application_type"; it is "" for
	// status-level and header-level problems and for problems with the body as a whole.
	Pointer string
	// Rule is the rule that failed, e.g. `value is not one of the allowed values ["web","mobile"]`,
	// `property "client_id" is missing`, `status 418 is not documented` or
	// `Content-Type "text/plain" is not documented for status 200`.
	Rule string
}

// String renders the finding as "pointer: rule", or just the rule when there is no pointer.
func (f Finding) String() string {
	if f.Pointer == "" {
		return f.Rule
	}
	return f.Pointer + ": " + f.Rule
}

type cacheEntry struct {
	once sync.Once
	v    *Validator
	err  error
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*cacheEntry{}

	decodersOnce sync.Once
)

// registerDecoders teaches kin-openapi's global body-decoder registry the DCR request media
// types, so that request validation against the same documents does not fail with
// "unsupported content type". A decoder registered by someone else is left alone.
func registerDecoders() {
	decodersOnce.Do(func() {
		for _, mt := range []string{"application/jwt", "application/jose"} {
			if openapi3filter.RegisteredBodyDecoder(mt) == nil {
				openapi3filter.RegisterBodyDecoder(mt, openapi3filter.PlainBodyDecoder)
			}
		}
	})
}

// Load parses and validates the embedded OpenAPI document for a profile's spec file name (e.g.
// "revolut.yaml"), caching per name (safe for concurrent use).
func Load(specName string) (*Validator, error) {
	registerDecoders()
	cacheMu.Lock()
	e, ok := cache[specName]
	if !ok {
		e = &cacheEntry{}
		cache[specName] = e
	}
	cacheMu.Unlock()
	e.once.Do(func() { e.v, e.err = load(specName) })
	return e.v, e.err
}

func load(specName string) (*Validator, error) {
	data, err := spec.Document(specName)
	if err != nil {
		return nil, fmt.Errorf("contract: %w", err)
	}
	ctx := context.Background()
	loader := openapi3.NewLoader()
	loader.Context = ctx
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("contract: parse %s: %w", specName, err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("contract: %s is not a valid OpenAPI document: %w", specName, err)
	}
	var item *openapi3.PathItem
	if doc.Paths != nil {
		item = doc.Paths.Value(registerPath)
	}
	if item == nil || item.Post == nil {
		return nil, fmt.Errorf("contract: %s does not describe POST %s", specName, registerPath)
	}
	op := item.Post
	if op.Responses == nil || op.Responses.Len() == 0 {
		return nil, fmt.Errorf("contract: %s documents no responses for POST %s", specName, registerPath)
	}

	var requestMediaType string
	if rb := op.RequestBody; rb != nil && rb.Value != nil && len(rb.Value.Content) > 0 {
		types := make([]string, 0, len(rb.Value.Content))
		for mt := range rb.Value.Content {
			types = append(types, mt)
		}
		sort.Strings(types)
		requestMediaType = types[0]
	}

	opts := &openapi3filter.Options{
		MultiError:            true,
		IncludeResponseStatus: true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	}
	// Defence in depth: should anything render a SchemaError with Error(), it gets the same
	// value-free text as a Finding instead of kin-openapi's schema and value dump.
	opts.WithCustomSchemaErrorFunc(func(se *openapi3.SchemaError) string {
		return schemaFinding(se).String()
	})

	var client *openapi3.Schema
	for code, ref := range op.Responses.Map() {
		if len(code) == 3 && code[0] == '2' && ref.Value != nil {
			if mt := ref.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
				client = mt.Schema.Value
			}
		}
	}
	return &Validator{
		client: client,
		name:   specName,
		route: &routers.Route{
			Spec:      doc,
			Path:      registerPath,
			PathItem:  item,
			Method:    http.MethodPost,
			Operation: op,
		},
		requestMediaType: requestMediaType,
		options:          opts,
	}, nil
}

// ValidateClient validates a registered client's metadata (a GET /register/{ClientId} body)
// against the schema of the registration response, which is what the profiles document GET to
// return. It returns all findings; nil means valid.
func (v *Validator) ValidateClient(body []byte) (findings []Finding) {
	if v.client == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			findings = []Finding{{Rule: "response could not be validated: the validator failed on this response"}}
		}
	}()
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return []Finding{{Rule: "body is not JSON"}}
	}
	err := v.client.VisitJSON(value, openapi3.MultiErrors())
	if err == nil {
		return nil
	}
	c := collector{status: http.StatusOK, contentType: "application/json"}
	c.walk(err)
	return normalise(c.out)
}

// Documented reports whether the operation documents this status code.
func (v *Validator) Documented(status int) bool {
	responses := v.route.Operation.Responses
	return responses.Status(status) != nil || responses.Default() != nil
}

// RequestMediaType returns the request media type the document declares for POST /register.
func (v *Validator) RequestMediaType() string {
	return v.requestMediaType
}

// ValidateResponse validates status, Content-Type and body of a POST /register response and
// returns ALL findings (MultiError flattened); nil/empty means valid.
func (v *Validator) ValidateResponse(status int, header http.Header, body []byte) (findings []Finding) {
	// Recorded headers may come with non-canonical keys (e.g. "content-type" from an HTTP/2
	// capture or a JSON record); kin-openapi looks them up canonically.
	canonical := make(http.Header, len(header))
	for k, vs := range header {
		ck := http.CanonicalHeaderKey(k)
		canonical[ck] = append(canonical[ck], vs...)
	}
	header = canonical
	// kin-openapi is a sub-v1 library that has had panics on odd inputs; a response a bank
	// sends must never crash the harness.
	defer func() {
		if r := recover(); r != nil {
			findings = []Finding{{Rule: "response could not be validated: the validator failed on this response"}}
		}
	}()

	req, err := http.NewRequest(http.MethodPost, "https://target.invalid"+registerPath, http.NoBody)
	if err != nil {
		return []Finding{{Rule: "response could not be validated: " + err.Error()}}
	}
	if v.requestMediaType != "" {
		req.Header.Set("Content-Type", v.requestMediaType)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req,
			Route:   v.route,
			Options: v.options,
		},
		Status:  status,
		Header:  header,
		Options: v.options,
	}
	in.SetBodyBytes(body)

	err = openapi3filter.ValidateResponse(context.Background(), in)
	if err == nil {
		return nil
	}
	c := collector{status: status, contentType: header.Get("Content-Type")}
	c.walk(err)
	return normalise(c.out)
}

// collector turns kin-openapi's error tree into findings.
type collector struct {
	status      int
	contentType string
	out         []Finding
}

func (c *collector) add(f Finding) { c.out = append(c.out, f) }

func (c *collector) walk(err error) {
	switch e := err.(type) {
	case nil:
		return
	case openapi3.MultiError:
		for _, inner := range e {
			c.walk(inner)
		}
	case *openapi3filter.ResponseError:
		c.responseError(e)
	case *openapi3.SchemaError:
		c.schemaError(e)
	default:
		// Wrapped errors: follow the chain to something we know how to phrase.
		var re *openapi3filter.ResponseError
		var se *openapi3.SchemaError
		var me openapi3.MultiError
		switch {
		case errors.As(err, &me):
			c.walk(me)
		case errors.As(err, &re):
			c.responseError(re)
		case errors.As(err, &se):
			c.schemaError(se)
		default:
			// Never err.Error(): it may quote the body.
			c.add(Finding{Rule: fmt.Sprintf("response failed validation (%T)", err)})
		}
	}
}

func (c *collector) responseError(e *openapi3filter.ResponseError) {
	reason := e.Reason
	switch {
	case reason == "status is not supported":
		c.add(Finding{Rule: fmt.Sprintf("status %d is not documented", c.status)})
	case strings.HasPrefix(reason, "response header Content-Type has unexpected value"):
		if strings.TrimSpace(c.contentType) == "" {
			c.add(Finding{Rule: fmt.Sprintf("Content-Type is missing for status %d", c.status)})
		} else {
			c.add(Finding{Rule: fmt.Sprintf("Content-Type %q is not documented for status %d", clip(c.contentType), c.status)})
		}
	case reason == "failed to decode response body":
		// The decoder's message (e.g. encoding/json's "invalid character 'x' ...") quotes the body.
		c.add(Finding{Rule: fmt.Sprintf("body cannot be decoded as Content-Type %q", clip(c.contentType))})
	case e.Err != nil:
		before := len(c.out)
		c.walk(e.Err)
		if len(c.out) == before {
			c.add(Finding{Rule: reason})
		}
	default:
		// kin-openapi's own reasons without a cause name the spec, not the response body.
		c.add(Finding{Rule: reason})
	}
}

func (c *collector) schemaError(se *openapi3.SchemaError) {
	// allOf failures wrap the failures of the subschemas, which carry the useful pointers.
	if se.SchemaField == "allOf" && se.Origin != nil {
		before := len(c.out)
		c.walkOrigin(se.Origin)
		if len(c.out) > before {
			return
		}
	}
	c.add(schemaFinding(se))
}

// walkOrigin descends through the wrappers kin-openapi puts around nested schema errors.
func (c *collector) walkOrigin(err error) {
	switch e := err.(type) {
	case nil:
	case openapi3.MultiError:
		c.walk(e)
	case *openapi3.SchemaError:
		c.schemaError(e)
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			c.walkOrigin(inner)
		}
	case interface{ Unwrap() error }:
		c.walkOrigin(e.Unwrap())
	}
}

// schemaFinding phrases one schema error from its path and rule, never from its value.
func schemaFinding(se *openapi3.SchemaError) Finding {
	var rule string
	switch {
	case se.SchemaField == "format":
		// Format validators may quote the value (a time.Parse error does), so name the format only.
		format := ""
		if se.Schema != nil {
			format = se.Schema.Format
		}
		rule = fmt.Sprintf("value does not match the format %q", format)
	case se.Reason != "":
		rule = se.Reason
	default:
		rule = fmt.Sprintf("value does not satisfy %q", se.SchemaField)
	}
	pointer := jsonPointer(se.JSONPointer())
	if pointer == "" {
		rule = "body: " + rule
	}
	return Finding{Pointer: pointer, Rule: rule}
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// jsonPointer renders path segments as an RFC 6901 JSON pointer.
func jsonPointer(path []string) string {
	var b strings.Builder
	for _, seg := range path {
		b.WriteByte('/')
		b.WriteString(pointerEscaper.Replace(seg))
	}
	return b.String()
}

// clip bounds an echoed header value so a hostile response cannot flood a report.
func clip(s string) string {
	if len(s) <= maxEchoedHeader {
		return s
	}
	return s[:maxEchoedHeader] + "..."
}

// normalise sorts findings deterministically (status and header findings first, then by
// pointer, array indexes numerically) and drops duplicates.
func normalise(in []Finding) []Finding {
	if len(in) == 0 {
		return nil
	}
	sort.SliceStable(in, func(i, j int) bool {
		if c := comparePointers(in[i].Pointer, in[j].Pointer); c != 0 {
			return c < 0
		}
		return in[i].Rule < in[j].Rule
	})
	out := in[:1]
	for _, f := range in[1:] {
		if f != out[len(out)-1] {
			out = append(out, f)
		}
	}
	return out
}

func comparePointers(a, b string) int {
	if a == b {
		return 0
	}
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] == bs[i] {
			continue
		}
		ai, aerr := strconv.Atoi(as[i])
		bi, berr := strconv.Atoi(bs[i])
		if aerr == nil && berr == nil {
			if ai < bi {
				return -1
			}
			return 1
		}
		return strings.Compare(as[i], bs[i])
	}
	return len(as) - len(bs)
}

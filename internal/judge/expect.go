package judge

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/printable"
	"github.com/dcrconform/dcrconform/internal/profile"
)

// Success expects the target to register the client: the profile's success status, then each
// body check. It is what the happy path and the cases that judge its response expect.
type Success struct {
	Checks []BodyCheck
}

// BodyCheck is one assertion about a successful registration response.
type BodyCheck struct {
	// Name identifies the check in results.
	Name string
	// Says describes what is expected, for docs and listings.
	Says string
	// Fn makes the check. sent holds the request claims as recorded.
	Fn func(c *Context, sent client.RecordedRequest, body map[string]any, j *Judgement)
}

// Judge implements Expectation.
func (e Success) Judge(c *Context) Judgement {
	var j Judgement
	ex := c.Last()
	if transport(&j, ex, fmt.Sprintf("%d registration", c.Profile.SuccessStatus)) {
		return j
	}
	j.Observation = fmt.Sprintf("registered: %d", ex.Response.Status)
	if !status(&j, ex, c.Profile.SuccessStatus) {
		j.Observation = observeRejection(c, ex)
		if ex.Response.Status >= 200 && ex.Response.Status < 300 {
			j.Observation = fmt.Sprintf("registered with status %d", ex.Response.Status)
		} else {
			return j
		}
	}
	b := body(ex)
	for _, chk := range e.Checks {
		chk.Fn(c, ex.Request, b, &j)
	}
	return j
}

// Describe implements Expectation.
func (e Success) Describe(p profile.Profile) string {
	parts := []string{fmt.Sprintf("%d registration", p.SuccessStatus)}
	for _, c := range e.Checks {
		parts = append(parts, c.Says)
	}
	return strings.Join(parts, "; ")
}

// Rejected expects the target to refuse the request with an error in the profile's format.
type Rejected struct {
	// Statuses are the acceptable statuses (default 400).
	Statuses []int
	// ErrorCode, when set, must appear among an OBErrorResponse1 body's Errors[].ErrorCode. Set it
	// only where the profile documents the code; other codes are recorded, never invented.
	ErrorCode string
	// RFCCodes are the acceptable RFC 7591 codes (default: any of the four).
	RFCCodes []string
	// MentionsJWKSURL requires the error message to name the JWKS URL the SSA carried.
	MentionsJWKSURL bool
	// NoAnswerFails marks a case that probes a wait of the bank's own (a JWKS that never
	// answers): no answer within the harness's request timeout then means the bank hung on it,
	// which is the failure the case exists to find, not an inconclusive exchange. The preflight
	// has shown the bank answers a valid request, so the wait is the probe's.
	NoAnswerFails bool
}

// Judge implements Expectation.
func (e Rejected) Judge(c *Context) Judgement {
	var j Judgement
	ex := c.Last()
	if e.NoAnswerFails && ex.Response == nil && ex.Failure == client.Timeout {
		j.add("answer", false, statusList(e.statuses())+" within the bank's own fetch timeout", "no answer within the request timeout: the bank hung")
		j.Observation = "no response: " + ex.Error
		return j
	}
	if transport(&j, ex, statusList(e.statuses())) {
		return j
	}
	j.Observation = observeRejection(c, ex)
	rejectionUnproven(&j, c, ex)
	if !status(&j, ex, e.statuses()...) {
		noClientRegistered(&j, ex)
		return j
	}
	jsonType(&j, ex)
	if c.Contract.Documented(ex.Response.Status) {
		schema(&j, c, ex)
	} else {
		errorShape(&j, c.Profile, body(ex))
	}
	e.codes(&j, c, ex)
	return j
}

// statuses returns the acceptable statuses, 400 when none are named.
func (e Rejected) statuses() []int {
	if len(e.Statuses) == 0 {
		return []int{http.StatusBadRequest}
	}
	return e.Statuses
}

func (e Rejected) codes(j *Judgement, c *Context, ex *client.Exchange) {
	b := body(ex)
	codes, messages := errorCodes(c.Profile, b)
	if c.Profile.ErrorFormat == profile.RFC7591 {
		allowed := e.RFCCodes
		if len(allowed) == 0 {
			allowed = profile.RFC7591Codes
		}
		got := "none"
		if len(codes) > 0 {
			got = codes[0]
		}
		j.add("error code", len(codes) > 0 && contains(allowed, codes[0]), strings.Join(allowed, " or "), got)
	} else if e.ErrorCode != "" {
		j.add("ErrorCode", contains(codes, e.ErrorCode), e.ErrorCode, strings.Join(orNone(codes), ", "))
	}
	if e.MentionsJWKSURL {
		url, _ := ex.Request.SSAClaims[c.Profile.JWKSClaim].(string)
		found := false
		for _, m := range messages {
			found = found || (url != "" && strings.Contains(m, url))
		}
		j.add("error message", found, "names the JWKS URL it failed to fetch", map[bool]string{true: "names it", false: "does not name it"}[found])
	}
}

// Describe implements Expectation.
func (e Rejected) Describe(p profile.Profile) string {
	s := "rejected with " + statusList(e.statuses())
	if p.ErrorFormat == profile.RFC7591 {
		codes := e.RFCCodes
		if len(codes) == 0 {
			return s + " and an RFC 7591 error"
		}
		return s + " and error " + strings.Join(codes, " or ")
	}
	s += " and an OBErrorResponse1 body"
	if e.ErrorCode != "" {
		s += " with ErrorCode " + e.ErrorCode
	}
	if e.MentionsJWKSURL {
		s += " naming the JWKS URL"
	}
	if e.NoAnswerFails {
		s += ", before the harness's request timeout"
	}
	return s
}

// errorShape checks an error body by hand where the contract does not document the status.
func errorShape(j *Judgement, p profile.Profile, b map[string]any) {
	ok := false
	if b != nil {
		if p.ErrorFormat == profile.RFC7591 {
			_, ok = b["error"].(string)
		} else {
			errs, isList := b["Errors"].([]any)
			_, hasCode := b["Code"].(string)
			ok = isList && len(errs) > 0 && hasCode
		}
	}
	j.add("error body", ok, string(p.ErrorFormat)+" body", map[bool]string{true: "present", false: "absent or malformed"}[ok])
}

// errorCodes extracts error codes and messages from an error body of the profile's format.
func errorCodes(p profile.Profile, b map[string]any) (codes, messages []string) {
	if b == nil {
		return nil, nil
	}
	if p.ErrorFormat == profile.RFC7591 {
		if c, ok := b["error"].(string); ok {
			codes = append(codes, c)
		}
		if d, ok := b["error_description"].(string); ok {
			messages = append(messages, d)
		}
		return codes, messages
	}
	if m, ok := b["Message"].(string); ok {
		messages = append(messages, m)
	}
	errs, _ := b["Errors"].([]any)
	for _, e := range errs {
		em, _ := e.(map[string]any)
		if c, ok := em["ErrorCode"].(string); ok {
			codes = append(codes, c)
		}
		if m, ok := em["Message"].(string); ok {
			messages = append(messages, m)
		}
	}
	return codes, messages
}

// observeRejection phrases what the target did with a request, for the record.
func observeRejection(c *Context, ex *client.Exchange) string {
	if ex.Response == nil {
		return "no response: " + ex.Error
	}
	codes, _ := errorCodes(c.Profile, body(ex))
	if len(codes) == 0 {
		return fmt.Sprintf("answered %d", ex.Response.Status)
	}
	return fmt.Sprintf("answered %d %s", ex.Response.Status, printable.String(strings.Join(codes, ","), AnswerCap))
}

// AnswerCap is how many characters of the target's error description Answer keeps.
const AnswerCap = 200

// Answer says what the target answered, in its own words, for FAIL lines, JUnit messages and
// the HTML report: the status, the error codes, and the first AnswerCap characters of the
// description, with control characters made visible. A call without a response is described
// by its failure.
func Answer(p profile.Profile, ex *client.Exchange) string {
	if ex == nil {
		return "nothing was sent"
	}
	if ex.Response == nil {
		return printable.String(noResponse(ex), 2*AnswerCap)
	}
	s := fmt.Sprint(ex.Response.Status)
	b := body(ex)
	codes, messages := errorCodes(p, b)
	if len(codes) == 0 && len(messages) == 0 && b != nil {
		// Not the profile's registration error format: an OAuth error from a token or
		// management endpoint, or a bank that answers in the other format. Its words still count.
		other := p
		if p.ErrorFormat == profile.RFC7591 {
			other.ErrorFormat = profile.OBErrorResponse1
		} else {
			other.ErrorFormat = profile.RFC7591
		}
		codes, messages = errorCodes(other, b)
	}
	if b == nil {
		// Not the profile's error format: an HTML page from a gateway, plain text. Its start
		// still says more than the status alone.
		codes, messages = nil, nil
		if t := strings.TrimSpace(string(ex.Response.Body)); t != "" {
			messages = []string{t}
		}
	}
	if len(codes) > 0 {
		s += " " + printable.String(strings.Join(codes, ","), AnswerCap)
	}
	if len(messages) > 0 {
		s += `: "` + printable.String(strings.Join(messages, "; "), AnswerCap) + `"`
	}
	if id, ok := b["client_id"].(string); ok && id != "" {
		s += " (with a client_id)"
	}
	if ex.Error != "" {
		s += " [" + printable.String(ex.Error, AnswerCap) + "]"
	}
	return s
}

// Observe records what the target does and asserts nothing: the expectation of INFO cases.
type Observe struct{}

// Judge implements Expectation.
func (Observe) Judge(c *Context) Judgement {
	ex := c.Last()
	return Judgement{Observation: observeRejection(c, ex)}
}

// Describe implements Expectation.
func (Observe) Describe(profile.Profile) string { return "recorded, not asserted" }

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func orNone(s []string) []string {
	if len(s) == 0 {
		return []string{"none"}
	}
	return s
}

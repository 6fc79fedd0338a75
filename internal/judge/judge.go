// Package judge weighs a recorded exchange against what a case expects: status, media type, the
// profile's OpenAPI contract, error codes and echoed metadata. It never builds or sends requests.
package judge

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/contract"
	"github.com/dcrconform/dcrconform/internal/printable"
	"github.com/dcrconform/dcrconform/internal/profile"
)

// Check is one assertion made about an exchange.
type Check struct {
	// Name says what was checked, e.g. "status", "schema /application_type".
	Name string `json:"name"`
	// OK is the check's result.
	OK bool `json:"ok"`
	// Expected and Actual are short phrases; Actual never carries secret values.
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
}

func (c Check) String() string {
	mark := "ok"
	if !c.OK {
		mark = "FAILED"
	}
	return fmt.Sprintf("%s %s: expected %s, got %s", mark, c.Name, c.Expected, c.Actual)
}

// Judgement is the result of weighing one or more exchanges.
type Judgement struct {
	Checks []Check `json:"checks"`
	// Observation records what the target did, e.g. "rejected: 400 UK.OBIE.Field.Invalid".
	Observation string `json:"observation"`
	// Inconclusive, when set, says why the exchange proved nothing either way (our own failure,
	// the target not answering, a rejection while the valid control request is refused too).
	// It overrides the checks: such a case neither passes nor fails.
	Inconclusive string `json:"inconclusive,omitempty"`
}

// OK reports whether every check passed.
func (j Judgement) OK() bool {
	for _, c := range j.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// Failed returns the checks that failed.
func (j Judgement) Failed() []Check {
	var out []Check
	for _, c := range j.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// CheckValueCap is how many characters of a check's expected and actual phrases are kept: they
// quote what the target sent (error codes, member values), and a reason built from them must
// stay one readable line whatever the target sends.
const CheckValueCap = 300

func (j *Judgement) add(name string, ok bool, expected, actual string) {
	j.Checks = append(j.Checks, Check{Name: printable.String(name, CheckValueCap), OK: ok,
		Expected: printable.String(expected, CheckValueCap), Actual: printable.String(actual, CheckValueCap)})
}

// Context is what an expectation may look at.
type Context struct {
	Profile  profile.Profile
	Contract *contract.Validator
	// Exchanges are the calls the case made, in order; most cases make one.
	Exchanges []*client.Exchange
	// Control is the run's control registration (a valid request); nil when none was made, as
	// in a judgement of recorded exchanges alone.
	Control *Control
}

// Control is what the target did with the run's control registration: the happy-path request,
// sent before any case. A rejection proves something only while the valid request is accepted:
// a bank that refuses everything (or a setup that gets everything refused) "rejects" every
// invalid request too.
type Control struct {
	// Accepted is true when the target registered the valid request: a 2xx with a client_id.
	Accepted bool
	// Answer is what the target answered, in its own words (see Answer).
	Answer string
	// Exchange is the control registration itself, for cases that compare with it.
	Exchange *client.Exchange
}

// rejectionUnproven marks a refusal as inconclusive when the control registration was not
// accepted. A 2xx is still judged: registering an invalid request is a finding whatever the
// control did.
func rejectionUnproven(j *Judgement, c *Context, ex *client.Exchange) {
	if c.Control == nil || c.Control.Accepted {
		return
	}
	if ex.Response != nil && ex.Response.Status >= 200 && ex.Response.Status < 300 {
		return
	}
	j.Inconclusive = "the control registration (a valid request) was not accepted (" + c.Control.Answer +
		"), so this refusal proves nothing"
}

// Last returns the case's final exchange.
func (c *Context) Last() *client.Exchange { return c.Exchanges[len(c.Exchanges)-1] }

// Expectation is what a case expects of the target. Implementations are plain data plus a
// Judge method, so the catalogue can describe them and docs can print them.
type Expectation interface {
	// Judge weighs the context's exchanges.
	Judge(c *Context) Judgement
	// Describe says in one line what is expected under the profile.
	Describe(p profile.Profile) string
}

// transport handles a call that got no HTTP response at all. A failure on our side or no
// answer from the target proves nothing (inconclusive); a target that answered with something
// other than HTTP (a reset after the handshake, garbage, a TLS alert) failed to answer as
// expected.
func transport(j *Judgement, ex *client.Exchange, expected string) bool {
	if ex.Response != nil {
		return false
	}
	j.Observation = "no response: " + ex.Error
	if unproven(ex) {
		j.Inconclusive = noResponse(ex)
		return true
	}
	j.add("response", false, expected, noResponse(ex))
	return true
}

// answered is the prelude every expectation shares: a call without a response is judged by
// transport (and the judgement is then complete: false); one with a response has its
// observation recorded (true).
func answered(j *Judgement, c *Context, ex *client.Exchange, expected string) bool {
	if transport(j, ex, expected) {
		return false
	}
	j.Observation = observeRejection(c, ex)
	return true
}

// unproven reports whether a call without a response says nothing about the target.
func unproven(ex *client.Exchange) bool {
	return ex.Failure == "" || ex.Failure.HarnessSide() || ex.Failure.NoAnswer()
}

// noResponse phrases a call without a response: the kind in words, then the error.
func noResponse(ex *client.Exchange) string {
	return "no HTTP response: " + ex.Failure.Describe() + " (" + printable.String(ex.Error, AnswerCap) + ")"
}

// status checks the status code against the allowed ones.
func status(j *Judgement, ex *client.Exchange, allowed ...int) bool {
	got := ex.Response.Status
	ok := false
	for _, a := range allowed {
		ok = ok || got == a
	}
	j.add("status", ok, statusList(allowed), fmt.Sprint(got))
	return ok
}

// statusList phrases acceptable statuses the way checks and descriptions print them: "400 or 415".
func statusList(statuses []int) string {
	want := make([]string, len(statuses))
	for i, s := range statuses {
		want[i] = fmt.Sprint(s)
	}
	return strings.Join(want, " or ")
}

// noClientRegistered checks that an answer meant to turn the request away issued no client_id.
// A body that is not a JSON object holds no client to find (a gateway's HTML page, an empty
// 405), so nothing is recorded for it.
func noClientRegistered(j *Judgement, ex *client.Exchange) {
	b := body(ex)
	if b == nil {
		return
	}
	_, registered := b["client_id"]
	j.add("no client registered", !registered, "no client_id", map[bool]string{true: "a client_id was issued", false: "none"}[registered])
}

// jsonType checks that the response says it is JSON.
func jsonType(j *Judgement, ex *client.Exchange) {
	ct := ex.Response.ContentType()
	j.add("content-type", ct == "application/json", "application/json", quoteOrNone(ct))
}

// schema validates the response against the profile's contract, one check per finding.
func schema(j *Judgement, c *Context, ex *client.Exchange) {
	if !c.Contract.Documented(ex.Response.Status) {
		j.add("schema", false, fmt.Sprintf("a status documented by %s", c.Profile.Spec), fmt.Sprintf("undocumented status %d", ex.Response.Status))
		return
	}
	findings := c.Contract.ValidateResponse(ex.Response.Status, ex.Response.Header, ex.Response.Body)
	if len(findings) == 0 {
		j.add("schema", true, "body valid against "+c.Profile.Spec, "valid")
		return
	}
	for _, f := range findings {
		name := "schema"
		if f.Pointer != "" {
			name += " " + f.Pointer
		}
		j.add(name, false, "valid against "+c.Profile.Spec, f.Rule)
	}
}

// body decodes the response as a JSON object; nil when it is not one.
func body(ex *client.Exchange) map[string]any {
	var m map[string]any
	if ex.Response == nil || json.Unmarshal(ex.Response.Body, &m) != nil {
		return nil
	}
	return m
}

func quoteOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return fmt.Sprintf("%q", s)
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

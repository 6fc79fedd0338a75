package judge

import (
	"fmt"
	"net/url"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/profile"
)

// refusedAtTLS reports whether the target refused the TLS handshake after the harness had
// verified the target's certificate: an alert, or the connection closed during the handshake.
// Our own verification failure is never a refusal, nor is a completed handshake followed by
// garbage or a reset.
func refusedAtTLS(ex *client.Exchange) bool {
	return ex.Response == nil && (ex.Failure == client.TLSAlert || ex.Failure == client.HandshakeReset)
}

// Refused expects the target to turn a caller away: a refused TLS handshake or a 4xx answer
// (401 and 403 as the specs phrase it; gateways such as nginx answer 400 for a missing
// certificate), with no client registered. A certificate problem may be refused by a gateway
// before any application code runs, so no body format is required.
type Refused struct{}

// Judge implements Expectation.
func (Refused) Judge(c *Context) Judgement {
	var j Judgement
	ex := c.Last()
	switch {
	case refusedAtTLS(ex):
		j.add("refusal", true, "TLS handshake refused or a 4xx answer", "refused at TLS: "+ex.Failure.Describe())
		j.Observation = "refused at TLS (" + ex.Error + ")"
		return j
	case ex.Response == nil && unproven(ex):
		j.Observation = "no response: " + ex.Error
		j.Inconclusive = noResponse(ex)
		return j
	case ex.Response == nil:
		j.add("refusal", false, "TLS handshake refused or a 4xx answer", "the handshake completed, then "+noResponse(ex))
		j.Observation = "no response: " + ex.Error
		return j
	}
	j.Observation = observeRejection(c, ex)
	st := ex.Response.Status
	rejectionUnproven(&j, c, ex)
	j.add("status", st >= 400 && st < 500, "a 4xx status", fmt.Sprint(st))
	noClientRegistered(&j, ex)
	return j
}

// Describe implements Expectation.
func (Refused) Describe(profile.Profile) string {
	return "TLS handshake refused, or a 4xx answer (401/403) with no client registered"
}

// HandshakeRefused expects the TLS handshake itself to fail: any HTTP answer means the target
// spoke a protocol version or cipher it must not.
type HandshakeRefused struct {
	// What names what was offered, for the record (e.g. "TLS 1.0/1.1").
	What string
}

// Judge implements Expectation.
func (e HandshakeRefused) Judge(c *Context) Judgement {
	var j Judgement
	ex := c.Last()
	switch {
	case ex.Response != nil:
		j.add("handshake", false, "refused", fmt.Sprintf("completed over %s; answered %d", e.What, ex.Response.Status))
		j.Observation = fmt.Sprintf("accepted %s: answered %d", e.What, ex.Response.Status)
	case refusedAtTLS(ex):
		j.add("handshake", true, "refused", "refused: "+ex.Failure.Describe())
		j.Observation = "refused " + e.What + " (" + ex.Error + ")"
	case ex.TLSVersion != "":
		j.add("handshake", false, "refused", "completed over "+ex.TLSVersion+", then "+noResponse(ex))
		j.Observation = "accepted " + ex.TLSVersion
	default:
		// Our client could not offer the versions, or the target did not answer: nothing tested.
		j.Observation = "no response: " + ex.Error
		j.Inconclusive = noResponse(ex)
	}
	return j
}

// Describe implements Expectation.
func (e HandshakeRefused) Describe(profile.Profile) string {
	return "TLS handshake over " + e.What + " refused"
}

// AnswersStatus expects one of the statuses and no registration; the body is not judged, since
// a gateway often answers these statuses before the application sees the request.
type AnswersStatus struct {
	Statuses []int
}

// Judge implements Expectation.
func (e AnswersStatus) Judge(c *Context) Judgement {
	j := StatusOnly(e).Judge(c)
	if ex := c.Last(); ex.Response != nil {
		rejectionUnproven(&j, c, ex)
		noClientRegistered(&j, ex)
	}
	return j
}

// Describe implements Expectation.
func (e AnswersStatus) Describe(profile.Profile) string {
	return "answers " + statusList(e.Statuses) + " and registers nothing"
}

// DiscoveryAdvertises expects an OpenID discovery document that names the registration
// endpoint and advertises what the profile's registration uses: tls_client_auth and PS256.
type DiscoveryAdvertises struct{}

// Judge implements Expectation.
func (DiscoveryAdvertises) Judge(c *Context) Judgement {
	var j Judgement
	ex := c.Last()
	if transport(&j, ex, "200 discovery document") {
		return j
	}
	j.Observation = fmt.Sprintf("answered %d", ex.Response.Status)
	if !status(&j, ex, 200) {
		return j
	}
	jsonType(&j, ex)
	b := body(ex)
	reg, _ := b["registration_endpoint"].(string)
	u, err := url.Parse(reg)
	okURL := reg != "" && err == nil && u.Scheme == "https" && u.Host != ""
	actual := "absent"
	switch {
	case okURL:
		actual = "an https URL"
		if sent, err := url.Parse(ex.Request.URL); err == nil && sent.Host == u.Host {
			j.Observation = "registration_endpoint on the same host"
		} else {
			j.Observation = "registration_endpoint on another host"
		}
	case reg != "":
		actual = "not an absolute https URL"
	}
	j.add("registration_endpoint", okURL, "an absolute https URL", actual)
	listHas(&j, b, "token_endpoint_auth_methods_supported", "tls_client_auth")
	listHas(&j, b, "request_object_signing_alg_values_supported", "PS256")
	return j
}

// Describe implements Expectation.
func (DiscoveryAdvertises) Describe(profile.Profile) string {
	return "200 JSON discovery document with an https registration_endpoint, tls_client_auth and PS256 advertised"
}

func listHas(j *Judgement, b map[string]any, member, want string) {
	arr, isList := b[member].([]any)
	found := false
	for _, v := range arr {
		found = found || v == want
	}
	actual := "absent"
	switch {
	case found:
		actual = "listed"
	case isList:
		actual = "not listed"
	case b[member] != nil:
		actual = "not an array"
	}
	j.add(member, found, "lists "+want, actual)
}

// DistinctClients expects every exchange to register a client, each with its own client_id.
type DistinctClients struct{}

// Judge implements Expectation.
func (DistinctClients) Judge(c *Context) Judgement {
	var j Judgement
	// One registration is trivially distinct from itself: a case that forgot Sends would pass
	// without testing anything.
	if len(c.Exchanges) < 2 {
		j.add("sends", false, "the request sent at least twice", fmt.Sprintf("%d send", len(c.Exchanges)))
		return j
	}
	seen := map[string]int{}
	for i, ex := range c.Exchanges {
		if transport(&j, ex, fmt.Sprintf("%d registration", c.Profile.SuccessStatus)) {
			return j
		}
		if !status(&j, ex, c.Profile.SuccessStatus) {
			j.Observation = fmt.Sprintf("registration %d: %s", i+1, observeRejection(c, ex))
			return j
		}
		id, _ := body(ex)["client_id"].(string)
		if id == "" {
			j.add("client_id", false, "a client_id per registration", fmt.Sprintf("none in registration %d", i+1))
			return j
		}
		seen[id]++
	}
	ok := len(seen) == len(c.Exchanges)
	j.add("client_id", ok, "a different client_id per registration", fmt.Sprintf("%d distinct of %d", len(seen), len(c.Exchanges)))
	j.Observation = fmt.Sprintf("%d registrations, %d distinct client_ids", len(c.Exchanges), len(seen))
	return j
}

// Describe implements Expectation.
func (DistinctClients) Describe(p profile.Profile) string {
	return fmt.Sprintf("every request answered %d, each with its own client_id", p.SuccessStatus)
}

// RejectedOrCut expects what Rejected does, or the connection cut while the request was still
// being sent: many servers (Go's among them) enforce a body limit by answering early and
// closing, and the client may see the reset before the answer.
type RejectedOrCut struct {
	Rejected
}

// Judge implements Expectation.
func (e RejectedOrCut) Judge(c *Context) Judgement {
	ex := c.Last()
	// Under TLS 1.3 a reset before any HTTP byte is classed as a handshake reset (the client
	// cannot tell the two apart); the preflight has shown the transport certificate is accepted,
	// so here it is the upload being cut.
	if ex.Response == nil && (ex.Failure == client.Reset || ex.Failure == client.HandshakeReset) {
		var j Judgement
		j.add("rejection", true, "a rejection or the upload cut off", "connection closed during the upload")
		j.Observation = "connection closed during the upload"
		rejectionUnproven(&j, c, ex)
		return j
	}
	return e.Rejected.Judge(c)
}

// Describe implements Expectation.
func (e RejectedOrCut) Describe(p profile.Profile) string {
	return e.Rejected.Describe(p) + ", or the connection closed during the upload"
}

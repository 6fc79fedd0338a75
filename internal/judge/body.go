package judge

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/profile"
)

// JSONBody checks the success response's Content-Type.
var JSONBody = BodyCheck{Name: "content-type", Says: "application/json body",
	Fn: func(c *Context, _ client.RecordedRequest, _ map[string]any, j *Judgement) { jsonType(j, c.Last()) }}

// SchemaValid validates the success response against the profile's OpenAPI document.
var SchemaValid = BodyCheck{Name: "schema", Says: "body valid against the profile's OpenAPI document",
	Fn: func(c *Context, _ client.RecordedRequest, _ map[string]any, j *Judgement) { schema(j, c, c.Last()) }}

// ClientID checks that a client_id of 1 to 36 characters was issued (OBIE's limit).
var ClientID = BodyCheck{Name: "client_id", Says: "client_id issued (1-36 characters)",
	Fn: func(_ *Context, _ client.RecordedRequest, b map[string]any, j *Judgement) {
		id, ok := b["client_id"].(string)
		actual := "absent"
		switch {
		case ok:
			actual = fmt.Sprintf("%d characters", len(id))
		case b != nil && b["client_id"] != nil:
			actual = "not a string"
		}
		j.add("client_id", ok && len(id) >= 1 && len(id) <= 36, "a string of 1-36 characters", actual)
	}}

// Echoes checks that the named request claims come back equal in the response. The DN claim is
// named by the profile, so "dn" stands for it; scope is compared as a set of values.
func Echoes(claims ...string) BodyCheck {
	return BodyCheck{Name: "echo", Says: "echoes " + strings.Join(claims, ", "),
		Fn: func(c *Context, sent client.RecordedRequest, b map[string]any, j *Judgement) {
			for _, name := range claims {
				if name == "dn" {
					name = c.Profile.DNClaim
				}
				want, sentIt := sent.JWTClaims[name]
				if !sentIt {
					continue
				}
				got, present := b[name]
				ok := present && sameValue(name, want, got)
				actual := "equal"
				switch {
				case !present:
					actual = "absent"
				case !ok:
					actual = "a different value"
				}
				j.add("echo "+name, ok, "the value sent", actual)
			}
		}}
}

func sameValue(name string, want, got any) bool {
	if name == "scope" {
		w, _, okW := profile.DecodeScope(want)
		g, _, okG := profile.DecodeScope(got)
		return okW && okG && sameSet(w, g)
	}
	return reflect.DeepEqual(normalise(want), normalise(got))
}

func normalise(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
		if seen[x] < 0 {
			return false
		}
	}
	return true
}

// SSAUnchanged checks that software_statement comes back byte-equal (RFC 7591 3.2.1).
var SSAUnchanged = BodyCheck{Name: "software_statement", Says: "software_statement returned unmodified",
	Fn: func(_ *Context, sent client.RecordedRequest, b map[string]any, j *Judgement) {
		want, _ := sent.JWTClaims["software_statement"].(string)
		got, present := b["software_statement"].(string)
		actual := "identical"
		switch {
		case !present:
			actual = "absent"
		case got != want:
			actual = "modified"
		}
		j.add("software_statement", present && got == want, "the SSA sent, byte for byte", actual)
	}}

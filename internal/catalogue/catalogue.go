// Package catalogue holds the conformance cases as data: an ID, a title, a spec reference, a
// level per profile, the capabilities a case needs, how it alters the happy-path request and what
// it expects. Ginkgo specs, the CLI listing and docs/CASES.md are all generated from it.
package catalogue

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/judge"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/request"
)

// Level is a requirement level (RFC 2119), plus INFO for cases that only record.
type Level string

const (
	// MUST cases fail the run when they fail.
	MUST Level = "MUST"
	// SHOULD cases warn; they fail the run only under --strict.
	SHOULD Level = "SHOULD"
	// MAY cases report what the target does.
	MAY Level = "MAY"
	// INFO cases record an observation and never fail.
	INFO Level = "INFO"
)

// Capability is something a case needs of the run, as Gateway API's supported features.
type Capability string

const (
	// MintSSA: the harness mints the software statement, so a case can change its claims.
	MintSSA Capability = "mint-ssa"
	// LoopbackTarget: the target runs on this machine, so loopback probe addresses mean the same
	// to it as to the harness. Never send a loopback probe to a remote bank.
	LoopbackTarget Capability = "loopback-target"
	// UntrustedCert: a client certificate the target does not trust is available.
	UntrustedCert Capability = "untrusted-cert"
	// ECSigningKey: the TPP's key set has an EC P-256 key beside the RSA one, for ES256.
	ECSigningKey Capability = "ec-signing-key"
	// TokenEndpoint, ManageGet, ManagePut and ManageDelete: the target offers the token
	// endpoint and GET, PUT and DELETE /register/{ClientId} (optional in OBIE). A target that
	// declares one absent makes its cases not applicable, never skipped MUST cases.
	TokenEndpoint Capability = "token-endpoint"
	ManageGet     Capability = "manage-get"
	ManagePut     Capability = "manage-put"
	ManageDelete  Capability = "manage-delete"
	// NoManageDelete: the target declares it does not offer DELETE, so a DELETE must get 405.
	NoManageDelete Capability = "no-manage-delete"
)

// Optional reports whether a capability is an operation the target may lawfully not offer, so
// that lacking it makes a case not applicable rather than skipped.
func (c Capability) Optional() bool {
	switch c {
	case TokenEndpoint, ManageGet, ManagePut, ManageDelete, NoManageDelete:
		return true
	}
	return false
}

// Groups, in report order.
const (
	GroupTransport = "transport"
	GroupHappy     = "happy-path"
	GroupSchema    = "schema"
	GroupJWS       = "request-jws"
	GroupClaims    = "claims"
	GroupSSA       = "ssa"
	GroupHTTP      = "http"
	GroupManage    = "management"
)

// Groups lists the groups in report order; Validate refuses any other.
var Groups = []string{GroupTransport, GroupHappy, GroupSchema, GroupJWS, GroupClaims, GroupSSA, GroupHTTP, GroupManage}

// Alter changes the happy-path draft into the case's request.
type Alter func(d *request.Draft, id *request.Identity) error

// Call is one request of a case that makes several different ones (a lifecycle step: get a
// token, then use it): how to build it, and what to keep from its exchange for the calls and
// steps after it.
type Call struct {
	Alter   Alter
	Capture func(s *request.Session, ex *client.Exchange)
}

// Case is one conformance case.
type Case struct {
	ID    string
	Title string
	Group string
	// Ref is the spec reference: document and section.
	Ref string
	// Levels holds the level per profile name; a profile absent here does not apply.
	Levels map[string]Level
	// Needs lists the capabilities the case requires.
	Needs []Capability
	// Share names an exchange several cases judge together; the run makes it once.
	Share string
	// Alter builds the case's request from the happy path; nil sends the happy path.
	Alter Alter
	// Sends is how many times the built request is sent, unchanged (replay cases send it twice);
	// 0 means once. The expectation sees every exchange and usually judges the last.
	Sends int
	// Calls, when set, are the case's requests in order, each built after the one before was
	// answered; Alter and Sends are then unused.
	Calls []Call
	// Chain names a sequence of cases that must never run at the same time (they change one
	// client on the target): the schedule runs them one after another, in catalogue order.
	Chain string
	// After names the case this one continues (a lifecycle step that needs the client an
	// earlier step registered). The engine runs it only once that case has finished, in any
	// schedule, and judges it inconclusive unless that case passed; selecting it selects the
	// case it continues too.
	After string
	// Expect is what the case expects; ExpectBy overrides it per profile.
	Expect   judge.Expectation
	ExpectBy map[string]judge.Expectation
	// Variants run the case several ways; each is reported as ID/variant.
	Variants []Variant
}

// Variant is one way of running a case.
type Variant struct {
	Name  string
	Title string
	Needs []Capability
	Alter Alter
}

// Item is one runnable unit: a case, or one variant of it.
type Item struct {
	Case    *Case
	Variant *Variant
	// ID is the case ID or ID/variant; Title likewise.
	ID, Title string
	Profile   profile.Profile
	Level     Level
}

// Needs returns the capabilities of the case and the variant.
func (it Item) Needs() []Capability {
	out := append([]Capability{}, it.Case.Needs...)
	if it.Variant != nil {
		out = append(out, it.Variant.Needs...)
	}
	return out
}

// Alter returns the item's request alteration: the variant's, else the case's.
func (it Item) Alter() Alter {
	if it.Variant != nil && it.Variant.Alter != nil {
		return it.Variant.Alter
	}
	return it.Case.Alter
}

// Expectation returns what the item expects under its profile.
func (it Item) Expectation() judge.Expectation {
	if e, ok := it.Case.ExpectBy[it.Profile.Name]; ok {
		return e
	}
	return it.Case.Expect
}

// Share returns the shared-exchange key, empty when the item makes its own call.
func (it Item) Share() string {
	if it.Variant != nil {
		return ""
	}
	return it.Case.Share
}

// Labels are the Ginkgo labels of the item: id, level, group and profile as KEY:VALUE sets.
func (it Item) Labels() []string {
	return []string{"id:" + it.Case.ID, "level:" + string(it.Level), "group:" + it.Case.Group, "profile:" + it.Profile.Name}
}

// Catalogue is the ordered, validated set of cases.
type Catalogue struct {
	Cases []*Case
}

var idPattern = regexp.MustCompile(`^[A-Z]+-[0-9]{2}$`)
var variantPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Validate checks the records: IDs well-formed and unique, titles and refs present, levels
// known, expectations set. A malformed catalogue must abort a run before any call is made.
func (c *Catalogue) Validate() error {
	seen := map[string]bool{}
	seenBefore := map[string]bool{}
	byID := map[string]*Case{}
	for _, k := range c.Cases {
		byID[k.ID] = k
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for _, k := range c.Cases {
		if !idPattern.MatchString(k.ID) {
			bad("case %q: ID must look like ABC-01", k.ID)
		}
		if seen[k.ID] {
			bad("case %s: duplicate ID", k.ID)
		}
		seen[k.ID] = true
		if strings.TrimSpace(k.Title) == "" || strings.TrimSpace(k.Ref) == "" || k.Group == "" {
			bad("case %s: title, ref and group are required", k.ID)
		}
		if k.Group != "" && !slices.Contains(Groups, k.Group) {
			bad("case %s: unknown group %q", k.ID, k.Group)
		}
		for p := range k.ExpectBy {
			if _, ok := k.Levels[p]; !ok {
				bad("case %s: an expectation for %s, where it has no level", k.ID, p)
			}
		}
		if len(k.Calls) > 0 && (k.Alter != nil || k.Sends > 1 || k.Share != "") {
			bad("case %s: a case with calls has no Alter, Sends or Share of its own", k.ID)
		}
		if len(k.Levels) == 0 {
			bad("case %s: applies to no profile", k.ID)
		}
		for p, l := range k.Levels {
			if _, err := profile.Get(p); err != nil {
				bad("case %s: %v", k.ID, err)
			}
			switch l {
			case MUST, SHOULD, MAY, INFO:
			default:
				bad("case %s: unknown level %q for %s", k.ID, l, p)
			}
			if k.Expect == nil && k.ExpectBy[p] == nil {
				bad("case %s: no expectation for %s", k.ID, p)
			}
		}
		vs := map[string]bool{}
		for _, v := range k.Variants {
			if !variantPattern.MatchString(v.Name) || vs[v.Name] {
				bad("case %s: variant %q is malformed or duplicated", k.ID, v.Name)
			}
			vs[v.Name] = true
		}
		if k.Share != "" && k.Sends > 1 {
			bad("case %s: a shared exchange is sent once", k.ID)
		}
		if k.Share != "" && len(k.Variants) > 0 {
			bad("case %s: a shared exchange cannot have variants", k.ID)
		}
		if k.After != "" {
			prev := byID[k.After]
			switch {
			case prev == nil || !seenBefore[k.After]:
				bad("case %s: After %q names no earlier case", k.ID, k.After)
			default:
				for p := range k.Levels {
					if _, ok := prev.Levels[p]; !ok {
						bad("case %s: continues %s, which does not apply to %s", k.ID, k.After, p)
					}
				}
			}
		}
		seenBefore[k.ID] = true
	}
	if len(problems) > 0 {
		return fmt.Errorf("catalogue is malformed:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// Items expands the cases that apply to the profile into runnable items, in catalogue order.
func (c *Catalogue) Items(p profile.Profile) []Item {
	var out []Item
	for _, k := range c.Cases {
		lvl, ok := k.Levels[p.Name]
		if !ok {
			continue
		}
		if len(k.Variants) == 0 {
			out = append(out, Item{Case: k, ID: k.ID, Title: k.Title, Profile: p, Level: lvl})
			continue
		}
		for i := range k.Variants {
			v := &k.Variants[i]
			title := k.Title
			if v.Title != "" {
				title += " (" + v.Title + ")"
			}
			out = append(out, Item{Case: k, Variant: v, ID: k.ID + "/" + v.Name, Title: title, Profile: p, Level: lvl})
		}
	}
	return out
}

// Select keeps the items whose ID matches one of the patterns (shell globs over the ID,
// e.g. "JWS-*" or "JWS-11/blackhole"; a bare case ID also selects its variants).
func Select(items []Item, patterns []string) ([]Item, error) {
	if len(patterns) == 0 {
		return items, nil
	}
	var res []*regexp.Regexp
	for _, p := range patterns {
		for _, part := range strings.Split(p, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			// Case-insensitive: `--cases 'jws-*'` means what `JWS-*` means.
			expr := "(?i)^" + strings.ReplaceAll(strings.ReplaceAll(regexp.QuoteMeta(part), `\*`, ".*"), `\?`, ".") + "(/.*)?$"
			re, err := regexp.Compile(expr)
			if err != nil {
				return nil, fmt.Errorf("case pattern %q: %w", part, err)
			}
			res = append(res, re)
		}
	}
	byID := map[string]*Case{}
	for _, it := range items {
		byID[it.Case.ID] = it.Case
	}
	// A step selected alone brings every item of the steps it continues: it has nothing to
	// continue from otherwise.
	direct, needed := map[string]bool{}, map[string]bool{}
	for _, it := range items {
		if !matchesAny(res, it.ID) {
			continue
		}
		direct[it.ID] = true
		for k := byID[it.Case.After]; k != nil && !needed[k.ID]; k = byID[k.After] {
			needed[k.ID] = true
		}
	}
	if len(direct) == 0 {
		return nil, fmt.Errorf("case selection %q matches no case", strings.Join(patterns, ","))
	}
	var out []Item
	for _, it := range items {
		if direct[it.ID] || needed[it.Case.ID] {
			out = append(out, it)
		}
	}
	return out, nil
}

func matchesAny(res []*regexp.Regexp, id string) bool {
	for _, re := range res {
		if re.MatchString(id) {
			return true
		}
	}
	return false
}

// All sets one level for every profile.
func All(l Level) map[string]Level {
	m := map[string]Level{}
	for _, n := range profile.Names() {
		m[n] = l
	}
	return m
}

// Per sets levels by profile: pairs of profile name and level; "obie" stands for all three OBIE
// versions.
func Per(pairs ...any) map[string]Level {
	m := map[string]Level{}
	for i := 0; i+1 < len(pairs); i += 2 {
		name, lvl := pairs[i].(string), pairs[i+1].(Level)
		if name == "obie" {
			for _, n := range profile.Names() {
				if strings.HasPrefix(n, "obie-") {
					m[n] = lvl
				}
			}
			continue
		}
		m[name] = lvl
	}
	return m
}

// IDs lists the case IDs, sorted.
func (c *Catalogue) IDs() []string {
	var out []string
	for _, k := range c.Cases {
		out = append(out, k.ID)
	}
	sort.Strings(out)
	return out
}

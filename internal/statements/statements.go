// Package statements is the inventory of what the documents say about POST /register: every
// normative or descriptive statement of Revolut's two DCR pages (the seeds) and the OBIE DCR
// v3.1 data dictionary's request and response fields, each with the checks that cover it, or the
// reason none can. It turns "every documented statement is a check" into data a test holds: a
// statement with neither a check nor a reason, or a check naming a case, body check or schema
// rule that does not exist, fails the build. docs/STATEMENTS.md is generated from it.
package statements

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/judge"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/spec"
)

// Source says where a statement is written: a document and the section in it.
type Source struct {
	// File is the document, relative to the shared research directory (seeds/..., docs/...).
	File string
	// Section is the heading or table row the words are under.
	Section string
}

// Check is one check that covers a statement: a case (ID or ID/variant), a body check the case
// makes on its response, or a rule of a profile's OpenAPI document. A body check is always named
// with the case that makes it, since a body check runs only inside a case.
type Check struct {
	// Case is a case ID ("SCH-11") or one variant of it ("CLM-24/id-token-rs256").
	Case string
	// Body is the exported name of a judge.BodyCheck the case makes, e.g. "EpochSeconds". A
	// check built by a function is named with the claims it is given: "Echoes(iss, iat)".
	Body string
	// Spec and Pointer name a schema rule: an OpenAPI document of spec/ and a JSON pointer into
	// it. Every success response is validated against its profile's document by HP-01's schema
	// check, and every rejection against the error schema, so a rule is a check in force.
	Spec, Pointer string
}

// String renders the check the way docs/STATEMENTS.md shows it.
func (c Check) String() string {
	var parts []string
	if c.Case != "" {
		parts = append(parts, c.Case)
	}
	if c.Body != "" {
		parts = append(parts, c.Body)
	}
	if c.Spec != "" {
		parts = append(parts, c.Spec+"#"+c.Pointer)
	}
	return strings.Join(parts, " ")
}

// Statement is one thing a document says about the request, the response or the errors.
type Statement struct {
	// ID is stable: REV-REG-012, OBIE31-DD-007. IDs are never reused for other words.
	ID     string
	Source Source
	// Words quote the document or paraphrase it closely.
	Words string
	// Checks cover the statement; Uncovered says why none can, and is empty when Checks is not.
	Checks    []Check
	Uncovered string
}

// Known is what checks may name: the catalogue's cases and the body checks each makes, the
// judge's exported body checks, and the embedded OpenAPI documents.
type Known struct {
	// Items are the case IDs and ID/variant IDs of the catalogue, under any profile.
	Items map[string]bool
	// CaseChecks holds, per case ID, the body checks its expectations make (under any profile).
	CaseChecks map[string][]judge.BodyCheck
	// BodyChecks maps each exported judge.BodyCheck name (a variable, or a function returning
	// one) to the Name its checks carry.
	BodyChecks map[string]string
	// Specs holds each OpenAPI document of spec/, decoded.
	Specs map[string]any
}

// KnownFrom collects what checks may name from the catalogue and the embedded OpenAPI documents;
// bodyChecks are the judge's exported body checks (see Known.BodyChecks).
func KnownFrom(cat *catalogue.Catalogue, bodyChecks map[string]string) (Known, error) {
	k := Known{Items: map[string]bool{}, CaseChecks: map[string][]judge.BodyCheck{}, BodyChecks: bodyChecks, Specs: map[string]any{}}
	for _, c := range cat.Cases {
		k.Items[c.ID] = true
		for _, v := range c.Variants {
			k.Items[c.ID+"/"+v.Name] = true
		}
		for p := range c.Levels {
			it := catalogue.Item{Case: c, Profile: profile.MustGet(p)}
			if s, ok := it.Expectation().(judge.Success); ok {
				k.CaseChecks[c.ID] = append(k.CaseChecks[c.ID], s.Checks...)
			}
		}
	}
	for _, name := range spec.Names() {
		data, err := spec.Document(name)
		if err != nil {
			return Known{}, err
		}
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return Known{}, fmt.Errorf("%s: %w", name, err)
		}
		k.Specs[name] = doc
	}
	return k, nil
}

var idPattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z]+)+-[0-9]{3}$`)

// bodyCall splits "Echoes(iss, iat)" into the name and its arguments.
var bodyCall = regexp.MustCompile(`^([A-Z][A-Za-z0-9]*)(?:\(([^()]*)\))?$`)

// Validate checks an inventory against what its checks may name. It returns one problem per
// line: a malformed or duplicate ID, a statement without words or source, one with neither a
// check nor a reason (or both), and a check naming a case, body check or schema rule that does
// not exist, or a body check its case does not make.
func Validate(inv []Statement, k Known) []string {
	var problems []string
	bad := func(id, format string, args ...any) {
		problems = append(problems, id+": "+fmt.Sprintf(format, args...))
	}
	seen := map[string]bool{}
	for _, s := range inv {
		if !idPattern.MatchString(s.ID) {
			bad(s.ID, "ID must look like REV-REG-001")
		}
		if seen[s.ID] {
			bad(s.ID, "duplicate ID")
		}
		seen[s.ID] = true
		if strings.TrimSpace(s.Words) == "" || s.Source.File == "" || s.Source.Section == "" {
			bad(s.ID, "words, source file and section are required")
		}
		switch {
		case len(s.Checks) == 0 && strings.TrimSpace(s.Uncovered) == "":
			bad(s.ID, "neither a check nor a reason why it is uncovered")
		case len(s.Checks) > 0 && s.Uncovered != "":
			bad(s.ID, "has checks and a reason for being uncovered; keep one")
		}
		for _, c := range s.Checks {
			for _, p := range checkProblems(c, k) {
				bad(s.ID, "check %q: %s", c.String(), p)
			}
		}
	}
	return problems
}

func checkProblems(c Check, k Known) []string {
	var out []string
	if c.Case == "" && c.Body == "" && c.Spec == "" {
		return []string{"names nothing"}
	}
	if c.Case != "" && !k.Items[c.Case] {
		out = append(out, "no such case or variant in the catalogue")
	}
	if c.Body != "" {
		out = append(out, bodyProblems(c, k)...)
	}
	if c.Spec != "" || c.Pointer != "" {
		doc, ok := k.Specs[c.Spec]
		switch {
		case !ok:
			out = append(out, "no such OpenAPI document in spec/")
		case !resolves(doc, c.Pointer):
			out = append(out, "the JSON pointer resolves to nothing in "+c.Spec)
		}
	}
	return out
}

func bodyProblems(c Check, k Known) []string {
	m := bodyCall.FindStringSubmatch(c.Body)
	if m == nil {
		return []string{"a body check is named Name or Name(arg, ...)"}
	}
	name, args := m[1], splitArgs(m[2])
	checkName, ok := k.BodyChecks[name]
	if !ok {
		return []string{"judge exports no BodyCheck " + name}
	}
	if c.Case == "" {
		return []string{"a body check runs inside a case: name the case that makes it"}
	}
	caseID, _, _ := strings.Cut(c.Case, "/")
	var says []string
	for _, bc := range k.CaseChecks[caseID] {
		if bc.Name == checkName {
			says = append(says, bc.Says)
		}
	}
	if len(says) == 0 {
		return []string{caseID + " does not make the body check " + name}
	}
	var out []string
	for _, a := range args {
		found := false
		for _, s := range says {
			found = found || slices.Contains(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }), a)
		}
		if !found {
			out = append(out, fmt.Sprintf("%s's %s is not given %s", caseID, name, a))
		}
	}
	return out
}

func splitArgs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// resolves reports whether an RFC 6901 JSON pointer names a value in a decoded YAML document.
func resolves(doc any, pointer string) bool {
	if pointer == "" || pointer[0] != '/' {
		return false
	}
	cur := doc
	for _, tok := range strings.Split(pointer[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[tok]
			if !ok {
				return false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return false
			}
			cur = v[i]
		default:
			return false
		}
	}
	return true
}

// Count is how many statements of one source are covered by a check and how many carry a
// reason instead.
type Count struct {
	File               string
	Covered, Uncovered int
}

// Counts tallies the inventory per source file, in the order the files first appear.
func Counts(inv []Statement) []Count {
	var out []Count
	at := map[string]int{}
	for _, s := range inv {
		i, ok := at[s.Source.File]
		if !ok {
			i = len(out)
			at[s.Source.File] = i
			out = append(out, Count{File: s.Source.File})
		}
		if len(s.Checks) > 0 {
			out[i].Covered++
		} else {
			out[i].Uncovered++
		}
	}
	return out
}

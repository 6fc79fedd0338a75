package catalogue

import (
	"fmt"
	"strings"

	"github.com/dcrconform/dcrconform/internal/profile"
)

// Omission is a case of the spec catalogue that dcrconform does not run, with the reason.
type Omission struct {
	ID     string
	Title  string
	Reason string
}

// Omitted lists the spec catalogue's cases that are not exercised, so docs/CASES.md says why
// rather than leaving a silent gap.
var Omitted = []Omission{
	{"JWS-13", "JWKS weak transport (http, TLS < 1.2)", "the loopback JWKS host serves TLS 1.2+ only, so a lax bank cannot be told from a strict one over loopback"},
	{"SSA-11", "JWKS URL off the directory host", "the embedded directory is a signing key with no keystore host, so an off-directory URL cannot be told from the harness's own"},
}

// Markdown renders the catalogue as docs/CASES.md. It is generated, never edited by hand; a test
// fails when the committed file is stale.
func (c *Catalogue) Markdown() string {
	var b strings.Builder
	names := profile.Names()
	b.WriteString("# dcrconform conformance cases\n\n")
	b.WriteString("Generated from `internal/catalogue` by `make docs` (`dcrconform list --markdown`); do not edit.\n\n")
	b.WriteString("Levels: MUST fails the run; SHOULD warns (fails under `--strict`); MAY reports what the target does; ")
	b.WriteString("INFO records an observation and never fails; `-` means the case does not apply to the profile.\n\n")
	variants := 0
	for _, k := range c.Cases {
		variants += len(k.Variants)
	}
	fmt.Fprintf(&b, "%d cases (%d variants).\n\n", len(c.Cases), variants)
	fmt.Fprintf(&b, "| ID | Title | %s | Spec reference |\n|---|---|%s---|\n", strings.Join(names, " | "), strings.Repeat("---|", len(names)))
	for _, k := range c.Cases {
		var lv []string
		for _, n := range names {
			l := string(k.Levels[n])
			if l == "" {
				l = "-"
			}
			lv = append(lv, l)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", k.ID, md(k.Title), strings.Join(lv, " | "), md(k.Ref))
	}
	b.WriteString("\n## Cases in detail\n")
	for _, k := range c.Cases {
		fmt.Fprintf(&b, "\n### %s: %s\n\n", k.ID, md(k.Title))
		fmt.Fprintf(&b, "- Group: %s\n- Reference: %s\n", k.Group, md(k.Ref))
		if len(k.Needs) > 0 {
			var needs []string
			for _, n := range k.Needs {
				needs = append(needs, string(n))
			}
			fmt.Fprintf(&b, "- Needs: %s\n", strings.Join(needs, ", "))
		}
		if k.Share != "" {
			fmt.Fprintf(&b, "- Judges the shared `%s` exchange\n", k.Share)
		}
		for _, v := range k.Variants {
			t := v.Title
			if t == "" {
				t = v.Name
			}
			fmt.Fprintf(&b, "- Variant `%s/%s`: %s\n", k.ID, v.Name, md(t))
		}
		for _, n := range names {
			if _, ok := k.Levels[n]; !ok {
				continue
			}
			it := Item{Case: k, Profile: profile.MustGet(n)}
			fmt.Fprintf(&b, "- %s (%s): %s\n", n, k.Levels[n], md(it.Expectation().Describe(it.Profile)))
		}
	}
	if len(Omitted) > 0 {
		b.WriteString("\n## Not exercised\n\n| ID | Title | Why |\n|---|---|---|\n")
		for _, o := range Omitted {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", o.ID, md(o.Title), md(o.Reason))
		}
	}
	return b.String()
}

func md(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

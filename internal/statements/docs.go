package statements

import (
	"fmt"
	"strings"
)

// Markdown renders the inventory as docs/STATEMENTS.md: per source, each statement with its
// words and the checks that cover it, or the reason it is uncovered. It is generated, never
// edited by hand; a test fails when the committed file is stale.
func Markdown(inv []Statement) string {
	var b strings.Builder
	b.WriteString("# What the documents say, and what checks it\n\n")
	b.WriteString("Generated from `internal/statements` by `make docs` (`go run ./internal/statements/gendoc`); do not edit.\n\n")
	b.WriteString("Every statement of Revolut's two DCR pages and every request and response field of the OBIE DCR v3.1 ")
	b.WriteString("data dictionary, with the checks that cover it: a case (`ID` or `ID/variant`), a body check the case ")
	b.WriteString("makes on the response (`internal/judge`), or a schema rule (`spec/<file>#<JSON pointer>`, enforced on ")
	b.WriteString("every success response by HP-01's schema check and on every rejection by its error schema). A statement ")
	b.WriteString("no check can cover says why. Source files are under the shared research directory.\n\n")
	b.WriteString("| Source | Statements | Covered | Uncovered |\n|---|---|---|---|\n")
	total := Count{}
	for _, c := range Counts(inv) {
		fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", c.File, c.Covered+c.Uncovered, c.Covered, c.Uncovered)
		total.Covered += c.Covered
		total.Uncovered += c.Uncovered
	}
	fmt.Fprintf(&b, "| all | %d | %d | %d |\n", total.Covered+total.Uncovered, total.Covered, total.Uncovered)
	file := ""
	for _, s := range inv {
		if s.Source.File != file {
			file = s.Source.File
			fmt.Fprintf(&b, "\n## %s\n\n| ID | Section | Statement | Checked by |\n|---|---|---|---|\n", file)
		}
		var checks []string
		for _, c := range s.Checks {
			checks = append(checks, "`"+c.String()+"`")
		}
		covered := strings.Join(checks, "<br>")
		if len(checks) == 0 {
			covered = "uncovered: " + s.Uncovered
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", s.ID, cell(s.Source.Section), cell(s.Words), cell(covered))
	}
	return b.String()
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

package main

import (
	"encoding/json"
	"fmt"
	"github.com/spf13/cobra"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/profile"
)

// listedCase is one row of `dcrconform list --json`.
type listedCase struct {
	ID       string            `json:"id"`
	Title    string            `json:"title"`
	Group    string            `json:"group"`
	Ref      string            `json:"spec_ref"`
	Levels   map[string]string `json:"levels"`
	Needs    []string          `json:"needs,omitempty"`
	Variants []string          `json:"variants,omitempty"`
	Expected map[string]string `json:"expected"`
}

func newListCmd(stdout, stderr io.Writer, code *int) *cobra.Command {
	var asJSON, asMarkdown bool
	var only string
	c := &cobra.Command{
		Use:   "list",
		Short: "List the catalogue: ID, level per profile, title, spec reference",
		Example: `  dcrconform list
  dcrconform list --profile obie-3.2 --json
  dcrconform list --markdown > docs/CASES.md`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			*code = cmdList(only, asJSON, asMarkdown, stdout, stderr)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the catalogue as JSON")
	c.Flags().BoolVar(&asMarkdown, "markdown", false, "print docs/CASES.md")
	profileFlag(c.Flags(), &only, "")
	return c
}

func cmdList(only string, asJSON, asMarkdown bool, stdout, stderr io.Writer) int {
	cat := catalogue.Default()
	if err := cat.Validate(); err != nil {
		return fail(stderr, "%v", err)
	}
	if asMarkdown {
		fmt.Fprint(stdout, cat.Markdown())
		return 0
	}
	profiles := profile.Names()
	if only != "" {
		if _, err := profile.Get(only); err != nil {
			return fail(stderr, "%v", err)
		}
		profiles = []string{only}
	}
	var rows []listedCase
	for _, k := range cat.Cases {
		row := listedCase{ID: k.ID, Title: k.Title, Group: k.Group, Ref: k.Ref, Levels: map[string]string{}, Expected: map[string]string{}}
		for _, p := range profiles {
			if l, ok := k.Levels[p]; ok {
				row.Levels[p] = string(l)
				it := catalogue.Item{Case: k, Profile: profile.MustGet(p)}
				row.Expected[p] = it.Expectation().Describe(it.Profile)
			}
		}
		if len(row.Levels) == 0 {
			continue
		}
		for _, n := range k.Needs {
			row.Needs = append(row.Needs, string(n))
		}
		for _, v := range k.Variants {
			row.Variants = append(row.Variants, k.ID+"/"+v.Name)
		}
		rows = append(rows, row)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return fail(stderr, "%v", err)
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\t%s\tTITLE\tSPEC REF\n", strings.ToUpper(strings.Join(profiles, "\t")))
	for _, r := range rows {
		var lv []string
		for _, p := range profiles {
			l := r.Levels[p]
			if l == "" {
				l = "-"
			}
			lv = append(lv, l)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, strings.Join(lv, "\t"), r.Title, r.Ref)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d cases\n", len(rows))
	return 0
}

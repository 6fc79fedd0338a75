package catalogue

import (
	"os"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/judge"
	"github.com/dcrconform/dcrconform/internal/profile"
)

func TestDefaultCatalogueIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRejectsMalformedRecords(t *testing.T) {
	good := func() *Case {
		return &Case{ID: "HP-99", Title: "t", Group: GroupHappy, Ref: "r", Levels: All(MUST), Expect: Default().Cases[0].Expect}
	}
	// The control: were good() itself invalid, every mutation below would be refused for the
	// wrong reason and the test would prove nothing.
	if err := (&Catalogue{Cases: []*Case{good()}}).Validate(); err != nil {
		t.Fatalf("Validate refused the unmodified record: %v", err)
	}
	for name, mutate := range map[string]func(c *Catalogue){
		"duplicate ID":  func(c *Catalogue) { c.Cases = append(c.Cases, good()) },
		"bad ID":        func(c *Catalogue) { c.Cases[0].ID = "hp-1" },
		"no title":      func(c *Catalogue) { c.Cases[0].Title = " " },
		"no levels":     func(c *Catalogue) { c.Cases[0].Levels = nil },
		"bad level":     func(c *Catalogue) { c.Cases[0].Levels = map[string]Level{"revolut": "MAYBE"} },
		"bad profile":   func(c *Catalogue) { c.Cases[0].Levels = map[string]Level{"nope": MUST} },
		"no expect":     func(c *Catalogue) { c.Cases[0].Expect = nil },
		"bad variant":   func(c *Catalogue) { c.Cases[0].Variants = []Variant{{Name: "Bad Name"}} },
		"shared+repeat": func(c *Catalogue) { c.Cases[0].Share, c.Cases[0].Sends = "x", 2 },
		"unknown group": func(c *Catalogue) { c.Cases[0].Group = "happy" },
		"no group":      func(c *Catalogue) { c.Cases[0].Group = "" },
		"expectation for a profile without a level": func(c *Catalogue) {
			c.Cases[0].Levels = Per("revolut", MUST)
			c.Cases[0].ExpectBy = map[string]judge.Expectation{"obie-3.2": judge.Rejected{}}
		},
		"After naming a later case": func(c *Catalogue) {
			c.Cases[0].After = "HP-98"
			later := good()
			later.ID = "HP-98"
			c.Cases = append(c.Cases, later)
		},
	} {
		c := &Catalogue{Cases: []*Case{good()}}
		mutate(c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted a malformed catalogue", name)
		}
	}
}

// TestEachGroupFunctionBuildsOneGroup holds the catalogue's layout: each group's cases come from
// one function in one file (cases_<group>.go), so a new case has one obvious place to go and a
// group's cases can be read side by side.
func TestEachGroupFunctionBuildsOneGroup(t *testing.T) {
	byGroup := map[string][]*Case{
		GroupTransport: transportCases(), GroupHappy: happyCases(), GroupSchema: schemaCases(), GroupJWS: jwsCases(),
		GroupClaims: claimCases(), GroupSSA: ssaCases(), GroupHTTP: httpCases(), GroupManage: manageCases(),
	}
	if len(byGroup) != len(Groups) {
		t.Fatalf("%d group functions for %d groups", len(byGroup), len(Groups))
	}
	total := 0
	for group, cases := range byGroup {
		total += len(cases)
		for _, k := range cases {
			if k.Group != group {
				t.Errorf("%s is built with the %s cases but belongs to group %s", k.ID, group, k.Group)
			}
		}
	}
	if n := len(Default().Cases); n != total {
		t.Errorf("Default() has %d cases, the group functions %d", n, total)
	}
}

func TestSelect(t *testing.T) {
	items := Default().Items(profile.MustGet("revolut"))
	got, err := Select(items, []string{"JWS-11"})
	if err != nil || len(got) < 3 {
		t.Fatalf("JWS-11 selects its variants: %v %v", len(got), err)
	}
	got, err = Select(items, []string{"JWS-11/blackhole"})
	if err != nil || len(got) != 1 || got[0].ID != "JWS-11/blackhole" {
		t.Fatalf("exact variant: %v %v", got, err)
	}
	got, err = Select(items, []string{"HP-*"})
	if err != nil || len(got) == 0 {
		t.Fatalf("glob: %v", err)
	}
	for _, it := range got {
		if !strings.HasPrefix(it.ID, "HP-") {
			t.Errorf("HP-* selected %s", it.ID)
		}
	}
	if _, err := Select(items, []string{"NOPE-*"}); err == nil {
		t.Error("a selection matching nothing must be an error")
	}
}

func TestLabelsHaveNoForbiddenCharacters(t *testing.T) {
	for _, p := range profile.Names() {
		for _, it := range Default().Items(profile.MustGet(p)) {
			for _, l := range it.Labels() {
				if strings.ContainsAny(l, "&|!,()/") {
					t.Errorf("%s: label %q has a character Ginkgo forbids", it.ID, l)
				}
			}
		}
	}
}

// TestCasesDocIsCurrent fails when docs/CASES.md no longer matches the catalogue.
func TestCasesDocIsCurrent(t *testing.T) {
	want := Default().Markdown()
	got, err := os.ReadFile("../../docs/CASES.md")
	if err != nil {
		t.Fatalf("docs/CASES.md: %v (run make docs)", err)
	}
	if string(got) != want {
		t.Fatal("docs/CASES.md is stale: run `make docs`")
	}
}

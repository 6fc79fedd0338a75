package catalogue

import (
	"os"
	"strings"
	"testing"

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
	} {
		c := &Catalogue{Cases: []*Case{good()}}
		mutate(c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted a malformed catalogue", name)
		}
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

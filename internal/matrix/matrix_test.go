package matrix

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/engine"
	"github.com/dcrconform/dcrconform/internal/refbank"
)

// TestFaultMatrix is the harness's detection power, in `make test`: every declared fault is
// caught by every case it names in every profile it applies to, and the clean reference bank
// passes the whole catalogue three times in a row per profile (a conformance tool that cries wolf
// cannot gate a release). Each fault meets only the cases it names; `dcrconform matrix` runs
// the full cross-product, which also shows the cases a fault fails without naming them.
func TestFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault matrix starts a bank per fault and profile")
	}
	res, err := Run(context.Background(), catalogue.Default(), Options{NamedOnly: true, CleanRuns: 3})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	res.Print(&b)
	t.Log("\n" + b.String())
	for p, fails := range res.CleanFailures {
		t.Errorf("clean reference bank (%s) did not pass: %v", p, fails)
	}
	for _, c := range res.Cells {
		if len(c.Missed) > 0 {
			t.Errorf("fault %s (%s) was missed by %v", c.Fault, c.Profile, c.Missed)
		}
	}
	if len(res.Unnamed) > 0 {
		t.Errorf("faults naming cases that are not in the catalogue: %v", res.Unnamed)
	}
	if len(res.Uncovered) > 0 {
		t.Errorf("MUST/SHOULD cases that no fault names: %v", res.Uncovered)
	}
	if d, n := res.Score(); d != n || n == 0 {
		t.Errorf("detected %d/%d", d, n)
	}
}

// TestEveryCaseNamedByAFault is the static half of the matrix: every MUST and SHOULD case (each
// variant, per profile) is named by a fault that applies to the profile, and every fault's
// Trips entries name cases that exist. TestFaultMatrix then proves each named case detects its
// fault, so together they show every MUST and SHOULD case can fail.
func TestEveryCaseNamedByAFault(t *testing.T) {
	uncovered, unnamed := Coverage(catalogue.Default(), nil, refbank.Faults())
	if len(uncovered) > 0 {
		t.Errorf("MUST/SHOULD cases that no fault names: %v", uncovered)
	}
	if len(unnamed) > 0 {
		t.Errorf("faults naming cases that are not in the catalogue: %v", unnamed)
	}
}

// TestJudgeCell pins how Trips entries are read: a case ID names every variant, so one variant
// that does not detect the fault is a miss; an ID/variant names that variant alone; and what a
// fault fails without naming it is stray.
func TestJudgeCell(t *testing.T) {
	out := func(id string, l catalogue.Level, v engine.Verdict, obs string) engine.Outcome {
		return engine.Outcome{ID: id, Level: l, Verdict: v, Observation: obs}
	}
	clean := map[string]engine.Outcome{
		"A-01/x": out("A-01/x", catalogue.MUST, engine.Pass, ""),
		"A-01/y": out("A-01/y", catalogue.MUST, engine.Pass, ""),
		"B-01":   out("B-01", catalogue.MAY, engine.Pass, "rejected"),
		"C-01":   out("C-01", catalogue.MUST, engine.Pass, ""),
		"D-01":   out("D-01", catalogue.MAY, engine.Pass, "rejected"),
	}
	faulty := map[string]engine.Outcome{
		"A-01/x": out("A-01/x", catalogue.MUST, engine.Fail, ""),
		"A-01/y": out("A-01/y", catalogue.MUST, engine.Pass, ""),
		"B-01":   out("B-01", catalogue.MAY, engine.Observed, "registered"),
		"C-01":   out("C-01", catalogue.MUST, engine.Warn, ""),
		"D-01":   out("D-01", catalogue.MAY, engine.Inconclusive, "no response"),
	}
	cases := []struct {
		trips          []string
		caught, missed []string
		stray          []string
	}{
		{[]string{"A-01"}, []string{"A-01/x"}, []string{"A-01/y"}, []string{"B-01", "C-01"}},
		{[]string{"A-01/x", "B-01"}, []string{"A-01/x", "B-01"}, nil, []string{"C-01"}},
		{[]string{"A-01/x", "A-01"}, []string{"A-01/x"}, []string{"A-01/y"}, []string{"B-01", "C-01"}},
		{[]string{"D-01", "C-01"}, []string{"C-01"}, []string{"D-01"}, []string{"A-01/x", "B-01"}},
	}
	for _, tc := range cases {
		c := judgeCell(refbank.Fault{Name: "f", Trips: tc.trips}, clean, faulty)
		if !reflect.DeepEqual(c.Caught, tc.caught) || !reflect.DeepEqual(c.Missed, tc.missed) {
			t.Errorf("trips %v: caught %v missed %v, want %v and %v", tc.trips, c.Caught, c.Missed, tc.caught, tc.missed)
		}
		if !reflect.DeepEqual(c.Stray, tc.stray) {
			t.Errorf("trips %v: stray %v, want %v", tc.trips, c.Stray, tc.stray)
		}
	}
}

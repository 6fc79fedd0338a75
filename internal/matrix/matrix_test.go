package matrix

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/engine"
	"github.com/dcrconform/dcrconform/internal/harness"
	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/profile"
)

// TestFaultMatrix is the harness's detection power, in `make test`: every declared fault is
// caught by the cases it names in every profile it applies to, the clean reference bank fails
// nothing, and every MUST and SHOULD case is failed by at least one fault.
func TestFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault matrix runs the whole catalogue once per fault and profile")
	}
	res, err := Run(context.Background(), catalogue.Default(), Options{})
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
		t.Errorf("faults naming no case of the catalogue: %v", res.Unnamed)
	}
	if len(res.Unfailable) > 0 {
		t.Errorf("MUST/SHOULD cases that no fault fails: %v", res.Unfailable)
	}
	if d, n := res.Score(); d != n || n == 0 {
		t.Errorf("detected %d/%d", d, n)
	}
}

// TestNoFalseAlarms runs the whole catalogue 20 times in a row against one clean reference bank
// per profile: a conformance tool that cries wolf once in twenty runs cannot gate a release.
func TestNoFalseAlarms(t *testing.T) {
	if testing.Short() {
		t.Skip("20 consecutive clean runs")
	}
	keys, err := pki.Generate()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range profile.Names() {
		run, err := harness.Prepare(context.Background(), harness.Options{Profile: p, Keys: keys, WorkDir: t.TempDir(),
			JWKSTimeout: 500 * time.Millisecond, RequestTimeout: 4 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		items := catalogue.Default().Items(run.Profile)
		for i := 0; i < 20; i++ {
			for _, o := range engine.RunAll(context.Background(), run.Env, items, 8) {
				if o.Verdict != engine.Pass && o.Verdict != engine.Observed {
					t.Errorf("%s run %d: %s %s: %s", p, i+1, o.ID, o.Verdict, o.Reason)
				}
			}
		}
		run.Close()
	}
}

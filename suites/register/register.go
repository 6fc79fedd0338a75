// Package register declares the Ginkgo specs for POST /register: one spec per catalogue item,
// named "ID: title" and labelled by id, level, group and profile. Specs are declared by a
// function, not package-level vars, so the CLI can build the tree for the run it was asked for.
package register

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/engine"
)

// SuiteName is the Ginkgo suite description.
const SuiteName = "dcrconform POST /register"

// CaseTimeout bounds one case; the slowest (a blackholed JWKS) waits for the target's own timeout.
const CaseTimeout = 2 * time.Minute

// Declare declares one spec per item. record, if set, receives each outcome as it is made, so the
// caller computes the run's verdict from outcomes rather than from Ginkgo's boolean.
func Declare(env *engine.Env, items []catalogue.Item, record func(engine.Outcome)) {
	Describe("POST /register", Ordered, ContinueOnFailure, func() {
		for _, it := range items {
			It(it.ID+": "+it.Title, Label(it.Labels()...), func(ctx SpecContext) {
				o := engine.Execute(ctx, env, it)
				if record != nil {
					record(o)
				}
				AddReportEntry(EntryOutcome, o, ReportEntryVisibilityNever)
				switch o.Verdict {
				case engine.Skipped:
					Skip(o.Reason)
				case engine.Warn:
					AddReportEntry(EntryWarning, fmt.Sprintf("%s (SHOULD) failed: %s", it.ID, o.Reason))
				}
				Expect(o.Verdict).To(BeElementOf(engine.Pass, engine.Warn, engine.Observed),
					"%s (%s): %s\nexpected: %s", it.ID, it.Level, o.Reason, o.Expected)
			}, SpecTimeout(CaseTimeout))
		}
	})
}

// Report entry names attached to each spec.
const (
	EntryOutcome = "dcrconform.outcome"
	EntryWarning = "dcrconform.warning"
)

// Outcomes reads the outcomes back from a Ginkgo report (the engine's view of each spec).
func Outcomes(r types.Report) map[string]types.ReportEntry {
	out := map[string]types.ReportEntry{}
	for _, s := range r.SpecReports {
		for _, e := range s.ReportEntries {
			if e.Name == EntryOutcome {
				out[s.LeafNodeText] = e
			}
		}
	}
	return out
}

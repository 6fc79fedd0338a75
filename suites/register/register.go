// Package register declares the Ginkgo specs for POST /register: one spec per catalogue item,
// named "ID: title" and labelled by id, level, group and profile. Specs are declared by a
// function, not package-level vars, so the CLI can build the tree for the run it was asked for.
//
// The engine executes the cases (in the background, under the run's own context, which an
// interrupt or the run deadline ends); each spec waits for its case's outcome, in catalogue
// order, and reports it. So the verdicts never depend on Ginkgo's interrupt handling, and a run
// cut short still has an outcome (not run) for every case.
package register

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/engine"
)

// SuiteName is the Ginkgo suite description.
const SuiteName = "dcrconform POST /register"

// Declare declares one spec per item; spec i reports outcome(i), which blocks until the case
// has been executed.
func Declare(items []catalogue.Item, outcome func(i int) engine.Outcome) {
	Describe("POST /register", Ordered, ContinueOnFailure, func() {
		for i, it := range items {
			It(it.ID+": "+it.Title, Label(it.Labels()...), func() {
				o := outcome(i)
				AddReportEntry(EntryOutcome, o.WithBodiesCut(ReportBodyCap, "Ginkgo's report keeps an excerpt; the evidence bundle's cases/ holds the recorded body"), ReportEntryVisibilityNever)
				switch o.Verdict {
				case engine.Skipped, engine.NotRun, engine.NotApplicable:
					Skip(o.Reason)
				case engine.Warn:
					AddReportEntry(EntryWarning, fmt.Sprintf("%s (SHOULD) failed: %s", it.ID, o.Reason))
				}
				Expect(o.Verdict).To(BeElementOf(engine.Pass, engine.Warn, engine.Observed),
					"%s (%s) %s: %s\nexpected: %s\nthe bank answered: %s", it.ID, it.Level, o.Verdict, o.Reason, o.Expected, o.Answer)
			})
		}
	})
}

// ReportBodyCap is how much of each response body Ginkgo's report (report.json) keeps: the
// report holds every case's outcome as JSON inside JSON, so each body byte costs several.
const ReportBodyCap = 4 << 10

// Report entry names attached to each spec.
const (
	EntryOutcome = "dcrconform.outcome"
	EntryWarning = "dcrconform.warning"
)

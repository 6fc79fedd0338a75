package register

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/engine"
)

// RunOptions tune an in-process run.
type RunOptions struct {
	// Verbose streams Ginkgo's own reporter; otherwise only the caller's progress lines show.
	Verbose bool
	// Progress is called after each case, in catalogue order.
	Progress func(engine.Outcome)
	// Record, when set, turns each outcome into the form every report records (the evidence
	// budget trims what a hostile target sent); verdicts never change.
	Record func(engine.Outcome) engine.Outcome
	// Engine tunes the schedule (parallelism, fail-fast).
	Engine engine.Options
	// Deadline, when set, is when the run must end; Ginkgo's own suite timeout is set past it
	// so that the engine, not Ginkgo, ends the run and every case gets an outcome.
	Deadline time.Time
}

// Result is what an in-process run produced.
type Result struct {
	Outcomes []engine.Outcome
	Report   types.Report
}

type testingT struct{ failed bool }

func (t *testingT) Fail() { t.failed = true }

// Run executes the items under ctx and reports them through Ginkgo specs declared and run in
// this process with RunSpecs. Ginkgo allows one RunSpecs per process, so this is called once, by
// the CLI. The outcomes come from the engine whatever Ginkgo did (an interrupt makes Ginkgo skip
// the remaining specs; the engine marks those cases not run).
func Run(ctx context.Context, env *engine.Env, items []catalogue.Item, o RunOptions) Result {
	var res Result
	sched := engine.Start(ctx, env, items, o.Engine)
	var mu sync.Mutex
	recorded := make([]engine.Outcome, len(items))
	done := make([]bool, len(items))
	get := func(i int) engine.Outcome {
		out := sched.Wait(i)
		mu.Lock()
		defer mu.Unlock()
		if !done[i] {
			if o.Record != nil {
				out = o.Record(out)
			}
			recorded[i], done[i] = out, true
			if o.Progress != nil {
				o.Progress(out)
			}
		}
		return recorded[i]
	}
	gomega.RegisterFailHandler(ginkgo.Fail)
	Declare(items, get)
	ginkgo.ReportAfterSuite("dcrconform reports", func(r ginkgo.Report) { res.Report = r })
	if !o.Verbose {
		// The caller prints one line per case; Ginkgo's dots and banner would interleave with it.
		formatter.ColorableStdOut = io.Discard
	}
	suiteConfig, reporterConfig := ginkgo.GinkgoConfiguration()
	suiteConfig.RandomSeed = 1
	if !o.Deadline.IsZero() {
		suiteConfig.Timeout = time.Until(o.Deadline) + time.Hour
	}
	reporterConfig.Succinct = !o.Verbose
	reporterConfig.Verbose = o.Verbose
	reporterConfig.NoColor = true
	ginkgo.RunSpecs(&testingT{}, SuiteName, suiteConfig, reporterConfig)
	// Specs Ginkgo skipped after an interrupt never waited for their outcome; take them too.
	res.Outcomes = make([]engine.Outcome, len(items))
	for i := range items {
		res.Outcomes[i] = get(i)
	}
	return res
}

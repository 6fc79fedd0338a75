package register

import (
	"io"

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
	// Progress is called after each case.
	Progress func(engine.Outcome)
}

// Result is what an in-process run produced.
type Result struct {
	Outcomes []engine.Outcome
	Report   types.Report
}

type testingT struct{ failed bool }

func (t *testingT) Fail() { t.failed = true }

// Run declares the specs and runs them in this process with RunSpecs. Ginkgo allows one
// RunSpecs per process, so this is called once, by the CLI. The verdict comes from Outcomes.
func Run(env *engine.Env, items []catalogue.Item, o RunOptions) Result {
	var res Result
	gomega.RegisterFailHandler(ginkgo.Fail)
	Declare(env, items, func(out engine.Outcome) {
		res.Outcomes = append(res.Outcomes, out)
		if o.Progress != nil {
			o.Progress(out)
		}
	})
	ginkgo.ReportAfterSuite("dcrconform reports", func(r ginkgo.Report) { res.Report = r })
	if !o.Verbose {
		// The caller prints one line per case; Ginkgo's dots and banner would interleave with it.
		formatter.ColorableStdOut = io.Discard
	}
	suiteConfig, reporterConfig := ginkgo.GinkgoConfiguration()
	suiteConfig.RandomSeed = 1
	reporterConfig.Succinct = !o.Verbose
	reporterConfig.Verbose = o.Verbose
	reporterConfig.NoColor = true
	ginkgo.RunSpecs(&testingT{}, SuiteName, suiteConfig, reporterConfig)
	return res
}

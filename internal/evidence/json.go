package evidence

import (
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
)

// WriteGinkgoJSON writes Ginkgo's canonical JSON report, the richest machine-readable record of
// the run: each spec with its labels, timings and the outcome entry with its exchanges.
func WriteGinkgoJSON(path string, r types.Report) error {
	return reporters.GenerateJSONReport(r, path)
}

package evidence

import (
	"bytes"
	"encoding/json"

	"github.com/onsi/ginkgo/v2/types"
)

// GinkgoJSON renders Ginkgo's canonical JSON report, the richest machine-readable record of the
// run: each spec with its labels, timings and the outcome entry with its exchanges. The encoding
// is the one Ginkgo's reporters.GenerateJSONReport writes (a one-report array, two-space indent),
// so Ginkgo's own tools read it; it is rendered here because that function only writes files.
func GinkgoJSON(r types.Report) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode([]types.Report{r}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

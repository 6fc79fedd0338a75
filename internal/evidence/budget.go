package evidence

import (
	"fmt"
	"sync"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/engine"
)

// The evidence budget bounds what a run's reports hold of the responses a target sent, whatever
// the target sends: the client caps each exchange (client.MaxBody and the header caps), and the
// budget caps each case and the whole run. Every report (report.json, report.html, the bundle)
// renders the budgeted outcomes, so each holds at most a few copies of the budget.
const (
	// MaxCaseEvidence is the most response body and header bytes one case's evidence keeps.
	MaxCaseEvidence = 1 << 20
	// MaxRunEvidence is the most response body and header bytes a run's cases keep in all; after
	// it, the responses of later cases are trimmed to TrimmedExcerpt bytes.
	MaxRunEvidence = 6 << 20
	// TrimmedExcerpt is what a trimmed response body keeps.
	TrimmedExcerpt = 1 << 10
)

// Budget applies the evidence budget to outcomes in the order a run reports them. It is safe for
// concurrent use.
type Budget struct {
	mu      sync.Mutex
	used    int
	trimmed int
}

// Take returns o as the reports will record it: as it is while the budget lasts, else with the
// response bodies of its exchanges trimmed and a note saying so. The verdict, checks, reason and
// the bank's answer are never touched, and neither is anything o shares with other outcomes
// (a trimmed outcome gets copies of its exchanges).
func (b *Budget) Take(o engine.Outcome) engine.Outcome {
	cost := 0
	for _, ex := range o.Exchanges {
		cost += responseCost(ex)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var why string
	switch {
	case cost > MaxCaseEvidence:
		why = fmt.Sprintf("the case's evidence cap of %d bytes", MaxCaseEvidence)
	case b.used+cost > MaxRunEvidence:
		why = fmt.Sprintf("the run's evidence cap of %d bytes", MaxRunEvidence)
	default:
		b.used += cost
		return o
	}
	b.trimmed++
	exs := make([]*client.Exchange, len(o.Exchanges))
	for i, ex := range o.Exchanges {
		exs[i] = ex.Cut(TrimmedExcerpt, why+" was reached; the verdict, checks and the bank's answer are unaffected")
		b.used += responseCost(exs[i])
	}
	o.Exchanges = exs
	return o
}

// Trimmed reports how many outcomes the budget trimmed.
func (b *Budget) Trimmed() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.trimmed
}

// responseCost is what an exchange's response adds to the reports. Request bodies are the
// harness's own, bounded by the catalogue, and are needed whole to reproduce the call.
func responseCost(ex *client.Exchange) int {
	if ex == nil || ex.Response == nil {
		return 0
	}
	n := len(ex.Response.BodyBase64)
	if n == 0 {
		n = len(ex.Response.Body)
	}
	for k, vs := range ex.Response.Header {
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	return n
}

// Package engine executes conformance cases: it builds a case's request from the happy path,
// makes the exchange, judges it and turns the judgement into a verdict by the case's level. It
// knows nothing of Ginkgo, so the CLI, the Ginkgo specs and the fault matrix share one path.
package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/contract"
	"github.com/dcrconform/dcrconform/internal/judge"
	"github.com/dcrconform/dcrconform/internal/request"
)

// Verdict is the result of one case.
type Verdict string

const (
	// Pass: every check held.
	Pass Verdict = "pass"
	// Fail: a check of a MUST case (or of a SHOULD case, under strict) failed.
	Fail Verdict = "fail"
	// Warn: a check of a SHOULD case failed.
	Warn Verdict = "warn"
	// Observed: a MAY or INFO case recorded what the target does.
	Observed Verdict = "observed"
	// Skipped: the case could not run here; Reason says why. Never counted as a pass.
	Skipped Verdict = "skipped"
)

// Word is the verdict as the console and the HTML report show it: four capital letters, with
// INFO for an observation because nothing was judged.
func (v Verdict) Word() string {
	switch v {
	case Pass:
		return "PASS"
	case Fail:
		return "FAIL"
	case Warn:
		return "WARN"
	case Observed:
		return "INFO"
	case Skipped:
		return "SKIP"
	}
	return strings.ToUpper(string(v))
}

// Env is everything a run's cases share.
type Env struct {
	Identity *request.Identity
	Client   *client.Client
	Contract *contract.Validator
	// Caps are the capabilities this run has.
	Caps map[catalogue.Capability]bool
	// Strict turns failed SHOULD cases into failures.
	Strict bool

	mu     sync.Mutex
	shared map[string]*sharedCall
}

type sharedCall struct {
	once sync.Once
	ex   []*client.Exchange
	err  error
}

// Outcome is the result of executing one item.
type Outcome struct {
	ID          string             `json:"id"`
	Title       string             `json:"title"`
	Group       string             `json:"group"`
	Level       catalogue.Level    `json:"level"`
	Ref         string             `json:"ref"`
	Profile     string             `json:"profile"`
	Verdict     Verdict            `json:"verdict"`
	Reason      string             `json:"reason"`
	Expected    string             `json:"expected"`
	Observation string             `json:"observation,omitempty"`
	Checks      []judge.Check      `json:"checks,omitempty"`
	Exchanges   []*client.Exchange `json:"exchanges,omitempty"`
	Shared      string             `json:"shared_exchange,omitempty"`
	Started     time.Time          `json:"started"`
	Duration    time.Duration      `json:"duration_ns"`
}

// Execute runs one item against the env's target. It never panics on a hostile target: every
// failure to build, send or judge becomes part of the outcome.
func Execute(ctx context.Context, env *Env, it catalogue.Item) (out Outcome) {
	out = Outcome{ID: it.ID, Title: it.Title, Group: it.Case.Group, Level: it.Level, Ref: it.Case.Ref,
		Profile: it.Profile.Name, Started: time.Now(), Expected: it.Expectation().Describe(it.Profile)}
	defer func() {
		if r := recover(); r != nil {
			out.Verdict, out.Reason = Fail, fmt.Sprintf("internal error while executing the case: %v", r)
		}
		out.Duration = time.Since(out.Started)
	}()
	for _, need := range it.Needs() {
		if !env.Caps[need] {
			out.Verdict = Skipped
			out.Reason = fmt.Sprintf("needs capability %s, which this run does not have (%s)", need, capabilityHelp[need])
			return out
		}
	}
	exs, err := env.exchange(ctx, it)
	if err != nil {
		out.Verdict, out.Reason = Fail, "could not build the request: "+err.Error()
		return out
	}
	out.Exchanges = exs
	out.Shared = it.Share()
	j := it.Expectation().Judge(&judge.Context{Profile: it.Profile, Contract: env.Contract, Exchanges: out.Exchanges})
	out.Checks, out.Observation = j.Checks, j.Observation
	out.Verdict, out.Reason = verdict(it.Level, j, env.Strict)
	return out
}

var capabilityHelp = map[catalogue.Capability]string{
	catalogue.MintSSA:        "the software statement is supplied, not minted by the harness",
	catalogue.LoopbackTarget: "the target is not on this machine, and loopback probes must never be sent to a remote bank",
	catalogue.UntrustedCert:  "no untrusted client certificate is configured",
}

func verdict(level catalogue.Level, j judge.Judgement, strict bool) (Verdict, string) {
	if j.OK() {
		if level == catalogue.INFO {
			return Observed, j.Observation
		}
		return Pass, summarise(j.Checks, true)
	}
	reason := summarise(j.Failed(), false)
	switch level {
	case catalogue.MUST:
		return Fail, reason
	case catalogue.SHOULD:
		if strict {
			return Fail, reason
		}
		return Warn, reason
	default:
		return Observed, j.Observation + " (" + reason + ")"
	}
}

func summarise(checks []judge.Check, ok bool) string {
	if ok {
		return fmt.Sprintf("%d checks passed", len(checks))
	}
	var parts []string
	for _, c := range checks {
		parts = append(parts, fmt.Sprintf("%s: expected %s, got %s", c.Name, c.Expected, c.Actual))
	}
	return strings.Join(parts, "; ")
}

// exchange makes the item's calls, or returns the shared call it judges.
func (env *Env) exchange(ctx context.Context, it catalogue.Item) ([]*client.Exchange, error) {
	key := it.Share()
	if key == "" {
		return env.call(ctx, it.Alter(), it.Case.Sends)
	}
	env.mu.Lock()
	if env.shared == nil {
		env.shared = map[string]*sharedCall{}
	}
	sc, ok := env.shared[key]
	if !ok {
		sc = &sharedCall{}
		env.shared[key] = sc
	}
	env.mu.Unlock()
	sc.once.Do(func() { sc.ex, sc.err = env.call(ctx, it.Alter(), 1) })
	return sc.ex, sc.err
}

func (env *Env) call(ctx context.Context, alter catalogue.Alter, sends int) ([]*client.Exchange, error) {
	d := request.NewDraft(env.Identity)
	if alter != nil {
		if err := alter(d, env.Identity); err != nil {
			return nil, err
		}
	}
	p, err := d.Build()
	if err != nil {
		return nil, err
	}
	if sends < 1 {
		sends = 1
	}
	var exs []*client.Exchange
	for i := 0; i < sends; i++ {
		exs = append(exs, env.Client.Do(ctx, p))
	}
	return exs, nil
}

// Tally counts outcomes by verdict.
type Tally map[Verdict]int

// Count tallies outcomes.
func Count(outs []Outcome) Tally {
	t := Tally{}
	for _, o := range outs {
		t[o.Verdict]++
	}
	return t
}

func (t Tally) String() string {
	var parts []string
	for _, v := range []Verdict{Pass, Fail, Warn, Observed, Skipped} {
		parts = append(parts, fmt.Sprintf("%d %s", t[v], v))
	}
	return strings.Join(parts, ", ")
}

// RunAll executes items concurrently (at most par at a time) and returns outcomes in item order.
// The fault matrix and fast runs use it; Ginkgo's in-process runs are serial.
func RunAll(ctx context.Context, env *Env, items []catalogue.Item, par int) []Outcome {
	if par < 1 {
		par = 1
	}
	out := make([]Outcome, len(items))
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, it catalogue.Item) {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = Execute(ctx, env, it)
		}(i, it)
	}
	wg.Wait()
	return out
}

// SortByID orders outcomes by ID, for stable reports.
func SortByID(outs []Outcome) {
	sort.SliceStable(outs, func(i, j int) bool { return outs[i].ID < outs[j].ID })
}

// Exit codes of a run (see the README).
const (
	ExitOK      = 0 // every applicable MUST case ran and passed
	ExitFailed  = 1 // a MUST case failed (or a SHOULD case, under strict)
	ExitError   = 2 // the run could not be made
	ExitPartial = 3 // nothing failed, but MUST cases were skipped for missing capabilities
)

// ResultWord names a run's result for people: the console summary and the evidence manifest.
func ResultWord(code int) string {
	switch code {
	case ExitOK:
		return "CONFORMANT"
	case ExitPartial:
		return "PARTIAL (MUST cases skipped)"
	default:
		return "NOT CONFORMANT"
	}
}

// ExitCode computes the run's exit code from its outcomes, never from Ginkgo's boolean.
func ExitCode(outs []Outcome) int {
	code := ExitOK
	for _, o := range outs {
		switch {
		case o.Verdict == Fail:
			return ExitFailed
		case o.Verdict == Skipped && o.Level == catalogue.MUST:
			code = ExitPartial
		}
	}
	return code
}

// Package engine executes conformance cases: it builds a case's request from the happy path,
// makes the exchange, judges it and turns the judgement into a verdict by the case's level. It
// knows nothing of Ginkgo, so the CLI, the Ginkgo specs and the fault matrix share one path.
package engine

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/contract"
	"github.com/dcrconform/dcrconform/internal/judge"
	"github.com/dcrconform/dcrconform/internal/printable"
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
	// Inconclusive: the case ran but its exchange proved nothing either way (a failure on our
	// side, the target not answering, a rejection while the valid control request was refused
	// too); Reason says why. Never a pass, never the bank's failure.
	Inconclusive Verdict = "inconclusive"
	// NotRun: the run was interrupted or reached its deadline before the case finished.
	NotRun Verdict = "not-run"
	// NotApplicable: the case tests an operation the target declares it does not offer (an
	// optional one); Reason says so. Not a skipped requirement.
	NotApplicable Verdict = "not-applicable"
)

// Verdicts lists every verdict in the order reports show them: what needs attention first.
var Verdicts = []Verdict{Fail, Warn, Inconclusive, NotRun, Skipped, NotApplicable, Observed, Pass}

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
	case Inconclusive:
		return "INCONCLUSIVE"
	case NotRun:
		return "NOT RUN"
	case NotApplicable:
		return "N/A"
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

	mu       sync.Mutex
	shared   map[string]*sharedCall
	control  *controlCall
	finished map[string][]Verdict // case ID -> verdicts of its items, for the steps after it
	clients  map[string]bool      // client IDs the run registered -> deleted since
}

// noteClients records the clients an exchange registered or deleted, for the cleanup at the
// end of the run.
func (env *Env) noteClients(ex *client.Exchange) {
	if ex == nil || ex.Response == nil {
		return
	}
	env.mu.Lock()
	defer env.mu.Unlock()
	if env.clients == nil {
		env.clients = map[string]bool{}
	}
	r := ex.Request
	switch {
	case r.Method == http.MethodPost && r.URL == env.Identity.Endpoint && registered(ex):
		if id := judge.ClientIDOf(ex); !env.clients[id] {
			env.clients[id] = false
		}
	case r.Method == http.MethodDelete && ex.Response.Status == http.StatusNoContent && strings.HasPrefix(r.URL, env.Identity.ManagementURL("")):
		id, err := url.PathUnescape(strings.TrimPrefix(r.URL, env.Identity.ManagementURL("")))
		if _, ok := env.clients[id]; ok && err == nil {
			env.clients[id] = true
		}
	}
}

// Fresh returns an Env for another run against the same target with the same client and
// contract, but none of this one's state: no shared exchange, control registration, lifecycle
// session or registered clients. A repeated run needs it, since the lifecycle of the run
// before deleted its client.
func (env *Env) Fresh() *Env {
	id := *env.Identity
	id.Session = &request.Session{}
	return &Env{Identity: &id, Client: env.Client, Contract: env.Contract, Caps: env.Caps, Strict: env.Strict}
}

// finish records an outcome for the cases that continue its case.
func (env *Env) finish(caseID string, v Verdict) {
	env.mu.Lock()
	defer env.mu.Unlock()
	if env.finished == nil {
		env.finished = map[string][]Verdict{}
	}
	env.finished[caseID] = append(env.finished[caseID], v)
}

// continues says why a step cannot continue from the case it follows: that case did not pass
// (or did not run). Empty when it can.
func (env *Env) continues(after string) string {
	env.mu.Lock()
	defer env.mu.Unlock()
	vs, ok := env.finished[after]
	if !ok {
		return fmt.Sprintf("the step it continues, %s, did not run", after)
	}
	for _, v := range vs {
		if v != Pass && v != Observed {
			return fmt.Sprintf("the step it continues, %s, did not pass (%s), so there is nothing to continue from", after, v)
		}
	}
	return ""
}

type controlCall struct {
	once sync.Once
	c    *judge.Control
	ex   *client.Exchange
}

type sharedCall struct {
	once sync.Once
	ex   []*client.Exchange
	err  error
}

// Outcome is the result of executing one item.
type Outcome struct {
	ID          string          `json:"id"`
	Title       string          `json:"title"`
	Group       string          `json:"group"`
	Level       catalogue.Level `json:"level"`
	Ref         string          `json:"ref"`
	Profile     string          `json:"profile"`
	Verdict     Verdict         `json:"verdict"`
	Reason      string          `json:"reason"`
	Expected    string          `json:"expected"`
	Observation string          `json:"observation,omitempty"`
	// Answer is what the target answered to the case's last call, in its own words (status,
	// error codes, the start of the description, control characters made visible).
	Answer    string             `json:"answer,omitempty"`
	Checks    []judge.Check      `json:"checks,omitempty"`
	Exchanges []*client.Exchange `json:"exchanges,omitempty"`
	Shared    string             `json:"shared_exchange,omitempty"`
	Started   time.Time          `json:"started"`
	Duration  time.Duration      `json:"duration_ns"`
}

// MaxReason is how many characters of a reason or observation an outcome keeps.
const MaxReason = 2000

// String is the outcome in one line: Ginkgo writes it beside the outcome's JSON in its report,
// and would otherwise print the whole value, bodies byte by byte.
func (o Outcome) String() string {
	return fmt.Sprintf("%s %s: %s", o.ID, o.Verdict.Word(), o.Reason)
}

// WithBodiesCut returns o with every response body cut to n bytes, for a report that points to
// fuller evidence elsewhere. o's exchanges, which other outcomes may share, are not touched.
func (o Outcome) WithBodiesCut(n int, why string) Outcome {
	exs := make([]*client.Exchange, len(o.Exchanges))
	for i, ex := range o.Exchanges {
		exs[i] = ex.Cut(n, why)
	}
	o.Exchanges = exs
	return o
}

// Execute runs one item against the env's target. It never panics on a hostile target: every
// failure to build, send or judge becomes part of the outcome.
func Execute(ctx context.Context, env *Env, it catalogue.Item) (out Outcome) {
	out = Outcome{ID: it.ID, Title: it.Title, Group: it.Case.Group, Level: it.Level, Ref: it.Case.Ref,
		Profile: it.Profile.Name, Started: time.Now(), Expected: it.Expectation().Describe(it.Profile)}
	defer func() {
		if r := recover(); r != nil {
			// Our own bug proves nothing about the target.
			out.Verdict, out.Reason = Inconclusive, fmt.Sprintf("internal error while executing the case: %v", r)
		}
		out.Duration = time.Since(out.Started)
		// Reasons and observations quote what the target sent; they reach consoles, logs and
		// FAIL lines, so they are made printable and bounded here, once, for every reader.
		out.Reason, out.Observation = printable.String(out.Reason, MaxReason), printable.String(out.Observation, MaxReason)
	}()
	if ctx.Err() != nil {
		out.Verdict, out.Reason = NotRun, notRunReason(ctx, "before it started")
		return out
	}
	for _, need := range it.Needs() {
		if !env.Caps[need] && need.Optional() {
			out.Verdict = NotApplicable
			out.Reason = fmt.Sprintf("not applicable: the target does not offer %s (%s)", need, capabilityHelp[need])
			return out
		}
		if !env.Caps[need] {
			out.Verdict = Skipped
			out.Reason = fmt.Sprintf("needs capability %s, which this run does not have (%s)", need, capabilityHelp[need])
			return out
		}
	}
	if after := it.Case.After; after != "" {
		if why := env.continues(after); why != "" {
			out.Verdict, out.Reason = Inconclusive, why
			return out
		}
	}
	control, _ := env.Control(ctx)
	exs, err := env.exchange(ctx, it)
	if err != nil {
		out.Verdict, out.Reason = Inconclusive, "the harness could not build the request: "+err.Error()
		return out
	}
	out.Exchanges = exs
	out.Shared = it.Share()
	for _, ex := range exs {
		if ex.Failure == client.Canceled {
			out.Verdict, out.Reason = NotRun, notRunReason(ctx, "while its call was in flight")
			return out
		}
	}
	if len(exs) > 0 {
		out.Answer = judge.Answer(it.Profile, exs[len(exs)-1])
	}
	j := it.Expectation().Judge(&judge.Context{Profile: it.Profile, Contract: env.Contract, Exchanges: out.Exchanges, Control: control})
	out.Checks, out.Observation = j.Checks, j.Observation
	out.Verdict, out.Reason = verdict(it.Level, j, env.Strict)
	return out
}

// notRunReason says why a case did not run to its end: the cause the run's context was ended
// with (an interrupt, the run deadline, --fail-fast), and when.
func notRunReason(ctx context.Context, when string) string {
	cause := context.Cause(ctx)
	if cause == nil {
		cause = ctx.Err()
	}
	return fmt.Sprintf("not run: the run ended %s (%v)", when, cause)
}

// Control makes the run's control registration once, the happy-path request as every
// share-register case judges it, and says whether the target accepted it: a 2xx with a
// client_id. Rejection cases are conclusive only when it was accepted. The returned exchange
// is the control's own, for the preflight to weigh.
func (env *Env) Control(ctx context.Context) (*judge.Control, *client.Exchange) {
	env.mu.Lock()
	if env.control == nil {
		env.control = &controlCall{}
	}
	cc := env.control
	env.mu.Unlock()
	cc.once.Do(func() {
		exs, err := env.exchange(ctx, catalogue.Item{Case: &catalogue.Case{Share: catalogue.ShareRegister}})
		switch {
		case err != nil:
			cc.c = &judge.Control{Answer: "the harness could not build it: " + err.Error()}
		case len(exs) == 0:
			cc.c = &judge.Control{Answer: "nothing was sent"}
		default:
			cc.ex = exs[len(exs)-1]
			cc.c = &judge.Control{Accepted: registered(cc.ex), Answer: judge.Answer(env.Identity.Profile, cc.ex), Exchange: cc.ex}
			if cc.c.Accepted && env.Identity.Session != nil {
				env.Identity.Session.Set(request.KeyClientID, judge.ClientIDOf(cc.ex))
			}
		}
	})
	return cc.c, cc.ex
}

// registered reports a 2xx answer whose body carries a client_id.
func registered(ex *client.Exchange) bool {
	if ex.Response == nil || ex.Response.Status < 200 || ex.Response.Status > 299 {
		return false
	}
	return judge.ClientIDOf(ex) != ""
}

var capabilityHelp = map[catalogue.Capability]string{
	catalogue.MintSSA:        "the software statement is supplied, not minted by the harness",
	catalogue.LoopbackTarget: "the target is not on this machine, and loopback probes must never be sent to a remote bank",
	catalogue.UntrustedCert:  "no untrusted client certificate is configured",
	catalogue.TokenEndpoint:  "the config's management.token is false",
	catalogue.ECSigningKey:   "the TPP's key set has no EC P-256 key to sign ES256 with; set signing.ec_key",
	catalogue.ManageGet:      "the config's management.get is false",
	catalogue.ManagePut:      "the config's management.put is false",
	catalogue.ManageDelete:   "the config's management.delete is false",
	catalogue.NoManageDelete: "the target offers DELETE; this case is for a bank that declares it does not (management.delete: false)",
}

func verdict(level catalogue.Level, j judge.Judgement, strict bool) (Verdict, string) {
	if j.Inconclusive != "" {
		return Inconclusive, j.Inconclusive
	}
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
	if len(it.Case.Calls) > 0 && it.Variant == nil {
		return env.calls(ctx, it.Case.Calls)
	}
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

// calls makes a multi-step case's requests in order; each is built after the one before was
// answered and its captures kept, and a call that got no answer ends the sequence.
func (env *Env) calls(ctx context.Context, calls []catalogue.Call) ([]*client.Exchange, error) {
	var exs []*client.Exchange
	for _, c := range calls {
		one, err := env.call(ctx, c.Alter, 1)
		if err != nil {
			return exs, err
		}
		ex := one[0]
		exs = append(exs, ex)
		if c.Capture != nil && env.Identity.Session != nil {
			c.Capture(env.Identity.Session, ex)
		}
		if ex.Response == nil {
			break
		}
	}
	return exs, nil
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
		ex := env.Client.Do(ctx, p)
		env.noteClients(ex)
		exs = append(exs, ex)
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
	for _, v := range []Verdict{Pass, Fail, Warn, Inconclusive, NotRun, Observed, Skipped, NotApplicable} {
		if t[v] > 0 || v == Pass || v == Fail {
			parts = append(parts, fmt.Sprintf("%d %s", t[v], v))
		}
	}
	return strings.Join(parts, ", ")
}

// RunAll executes items (at most par at a time) and returns outcomes in item order. The fault
// matrix uses it; the CLI and the Ginkgo specs go through Start, which reports each outcome as
// it is made.
func RunAll(ctx context.Context, env *Env, items []catalogue.Item, par int) []Outcome {
	return Start(ctx, env, items, Options{Parallel: par}).All()
}

// DefaultParallel is how many cases a run keeps in flight when it is not told: enough to hide
// a slow bank's latency behind other cases, few enough for a bank's rate limits (--rate bounds
// the request rate as well, when a bank throttles).
const DefaultParallel = 8

// Options tune a schedule.
type Options struct {
	// Parallel bounds the cases in flight at once; 0 or 1 runs them one after another, in
	// catalogue order.
	Parallel int
	// FailFast ends the run after the first failed case; the cases not yet run are NotRun. With
	// Parallel above 1 the cases already in flight finish (or are cut off as NotRun), so more
	// than one may fail.
	FailFast bool
}

// Schedule is a run in progress: the cases execute in the background, in catalogue order, and
// each outcome can be waited for by its index. A done context (an interrupt, the run deadline)
// makes every case not yet finished NotRun, so a run always ends with an outcome per item.
type Schedule struct {
	outs []Outcome
	done []chan struct{}
}

// Start begins executing items and returns at once, at most o.Parallel at a time: one at a
// time in catalogue order, several in dispatchOrder. A step that continues an earlier case (Case.After) runs only once
// every item of that case has finished, and never holds a slot while it waits: with Parallel
// above 1 it waits off the dispatch loop, so the independent items after it are not held up.
func Start(ctx context.Context, env *Env, items []catalogue.Item, o Options) *Schedule {
	s := &Schedule{outs: make([]Outcome, len(items)), done: make([]chan struct{}, len(items))}
	for i := range s.done {
		s.done[i] = make(chan struct{})
	}
	par := o.Parallel
	if par < 1 {
		par = 1
	}
	// The items of each case, so a step waits for every item of the case it continues; and the
	// item before each one in its chain, so a chain's cases never overlap.
	byCase := map[string][]int{}
	prevInChain := make([]int, len(items))
	lastOfChain := map[string]int{}
	for i, it := range items {
		byCase[it.Case.ID] = append(byCase[it.Case.ID], i)
		prevInChain[i] = -1
		if ch := it.Case.Chain; ch != "" {
			if j, ok := lastOfChain[ch]; ok {
				prevInChain[i] = j
			}
			lastOfChain[ch] = i
		}
	}
	deps := make([][]int, len(items))
	for i, it := range items {
		deps[i] = append([]int(nil), byCase[it.Case.After]...)
		if j := prevInChain[i]; j >= 0 {
			deps[i] = append(deps[i], j)
		}
	}
	order := dispatchOrder(items, deps, par)
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		defer cancel(nil)
		sem := make(chan struct{}, par)
		var wg sync.WaitGroup
		// execute runs item i in a slot the caller has taken, and gives the slot back.
		execute := func(i int, it catalogue.Item) {
			defer wg.Done()
			defer func() { <-sem }()
			s.outs[i] = Execute(ctx, env, it)
			env.finish(it.Case.ID, s.outs[i].Verdict)
			if o.FailFast && s.outs[i].Verdict == Fail {
				cancel(fmt.Errorf("--fail-fast: %s failed", it.ID))
			}
			close(s.done[i])
		}
		waitFor := func(deps []int) {
			for _, j := range deps {
				<-s.done[j]
			}
		}
		for _, i := range order {
			it, deps := items[i], deps[i]
			if par > 1 && !s.finished(deps) {
				// Wait for the case it continues without a slot, so a chain can never hold
				// every slot while waiting on itself, and without holding up dispatch.
				wg.Add(1)
				go func() {
					waitFor(deps)
					sem <- struct{}{}
					execute(i, it)
				}()
				continue
			}
			// One at a time, waiting here keeps the catalogue order exactly.
			waitFor(deps)
			sem <- struct{}{}
			wg.Add(1)
			go execute(i, it)
		}
		wg.Wait()
	}()
	return s
}

// dispatchOrder is the order in which Start hands items their slots. One at a time it is the
// catalogue order. With several slots, the items that head the longest chains of calls that
// must follow one another (a lifecycle chain, a replay) go first, so the run is not left
// waiting on a long chain started last: against a slow bank that chain, not the number of
// cases, bounds the run. Outcomes are reported in catalogue order whatever the dispatch order.
func dispatchOrder(items []catalogue.Item, deps [][]int, par int) []int {
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	if par <= 1 {
		return order
	}
	// tail[i]: the calls from the start of item i to the end of the longest chain through it.
	// Dependencies always point to earlier items, so one backward pass settles every tail.
	tail := make([]int, len(items))
	for i, it := range items {
		tail[i] = callsOf(it)
	}
	for k := len(items) - 1; k >= 0; k-- {
		for _, j := range deps[k] {
			tail[j] = max(tail[j], callsOf(items[j])+tail[k])
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return tail[order[a]] > tail[order[b]] })
	return order
}

// callsOf is how many calls item it makes one after another.
func callsOf(it catalogue.Item) int {
	switch {
	case len(it.Case.Calls) > 0:
		return len(it.Case.Calls)
	case it.Case.Sends > 1:
		return it.Case.Sends
	}
	return 1
}

// finished reports whether every item of idx has its outcome.
func (s *Schedule) finished(idx []int) bool {
	for _, j := range idx {
		select {
		case <-s.done[j]:
		default:
			return false
		}
	}
	return true
}

// Wait returns the outcome of item i once it is made.
func (s *Schedule) Wait(i int) Outcome {
	<-s.done[i]
	return s.outs[i]
}

// All waits for every outcome and returns them in item order.
func (s *Schedule) All() []Outcome {
	for i := range s.done {
		<-s.done[i]
	}
	return s.outs
}

// Exit codes of a run (see the README). Among case results, Failed > Incomplete > Partial > OK.
const (
	ExitOK         = 0 // every applicable MUST case ran and passed
	ExitFailed     = 1 // a MUST case failed (or a SHOULD case, under strict)
	ExitError      = 2 // the run could not be made: config, keys, preflight
	ExitPartial    = 3 // nothing failed, but MUST cases were skipped or inconclusive
	ExitIncomplete = 4 // interrupted or past the run deadline before every case ran
)

// ExitCode computes the run's exit code from its outcomes, never from Ginkgo's boolean.
func ExitCode(outs []Outcome) int {
	code := ExitOK
	for _, o := range outs {
		switch {
		case o.Verdict == Fail:
			return ExitFailed
		case o.Verdict == NotRun:
			code = ExitIncomplete
		case code == ExitOK && o.Level == catalogue.MUST && (o.Verdict == Skipped || o.Verdict == Inconclusive):
			// NotApplicable is not here: an optional operation the target does not offer is
			// no requirement left unproven.
			code = ExitPartial
		}
	}
	return code
}

// ResultWord names a run's result for people: the console summary, the HTML report and the
// evidence manifest. ran and of are the cases run and the cases the profile's catalogue holds:
// a run of a selection is never called CONFORMANT.
func ResultWord(code, ran, of int) string {
	switch code {
	case ExitOK:
		if ran < of {
			return fmt.Sprintf("NO FAILURES IN %d OF %d CASES (a selection; not a conformance verdict)", ran, of)
		}
		return "CONFORMANT"
	case ExitPartial:
		return "PARTIAL (MUST cases skipped or inconclusive)"
	case ExitIncomplete:
		return "INCOMPLETE (the run was interrupted or reached its deadline)"
	default:
		return "NOT CONFORMANT"
	}
}

// Package matrix measures the harness's detection power: it runs the catalogue against the
// reference bank clean and with each fault, per profile, and checks that each fault is caught by
// the cases it names, that the clean bank fails nothing, and that every MUST and SHOULD case is
// named by some fault. A case no fault can fail proves nothing.
//
// The full matrix runs the whole catalogue against every fault, so it also shows cases a fault
// fails without naming them; it is `dcrconform matrix`. With Options.NamedOnly each fault meets
// only the cases it names, which proves the same declarations in a fraction of the time; the
// tests run that.
package matrix

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/engine"
	"github.com/dcrconform/dcrconform/internal/harness"
	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/refbank"
)

// Options tune a matrix run.
type Options struct {
	Profiles []string
	Faults   []string // empty: every declared fault
	// NamedOnly runs each fault against the cases it names alone, not the whole catalogue: the
	// cells then show no stray failures, and Unfailable is not measured (Uncovered is the static
	// form of that check).
	NamedOnly bool
	// CleanRuns is how many times the whole catalogue runs against one clean bank per profile
	// (default 1); repeats show state a bank keeps between registrations (replay caches, cached
	// key sets) never turns into a false alarm.
	CleanRuns int
	// Parallel bounds concurrent cases within one run; Runs bounds concurrent runs.
	Parallel int
	Runs     int
	// JWKSTimeout is the bank's JWKS fetch timeout (default: the reference bank's own);
	// RequestTimeout the harness's per call (default: the harness's own), which ends the hang of
	// a bank with no JWKS timeout. Both bound waits on a peer that may never answer; neither is
	// shrunk to make the matrix faster, or a busy machine would turn them into false results.
	JWKSTimeout    time.Duration
	RequestTimeout time.Duration
	Keys           *pki.Set
	// Progress, when set, gets one line per finished run ("k/N runs ..."), so a long matrix is
	// seen to move.
	Progress io.Writer
}

// Cell is one fault under one profile.
type Cell struct {
	Fault   string `json:"fault"`
	Profile string `json:"profile"`
	// Named are the entries of the fault's Trips that apply under this profile: a case ID names
	// every variant of the case, an ID/variant that variant alone.
	Named []string `json:"named"`
	// Caught are the named items (case or case/variant IDs) that detected the fault; Missed
	// those that did not.
	Caught []string `json:"caught"`
	Missed []string `json:"missed"`
	// Stray are cases the fault failed that it does not name: a shotgun case shows up here.
	Stray []string `json:"stray,omitempty"`
}

// Detected reports whether some named case caught the fault and none missed it.
func (c Cell) Detected() bool { return len(c.Named) > 0 && len(c.Missed) == 0 }

// Result is the whole matrix.
type Result struct {
	Cells []Cell `json:"cells"`
	// CleanFailures lists, per profile, cases the clean bank did not pass.
	CleanFailures map[string][]string `json:"clean_failures"`
	// Unfailable lists MUST and SHOULD items (profile/ID) that no fault detected; it is measured
	// only by the full matrix, where every fault meets every case.
	Unfailable []string `json:"unfailable"`
	// Uncovered lists MUST and SHOULD items (profile/ID) that no fault applying to the profile
	// names: nothing proves such a case can fail.
	Uncovered []string `json:"uncovered"`
	// Unnamed lists faults with a Trips entry that names no item of the catalogue under any
	// profile the fault applies to.
	Unnamed []string `json:"unnamed"`
}

// Score returns faults detected and faults declared (counted per fault, over its profiles).
func (r *Result) Score() (detected, declared int) {
	ok := map[string]bool{}
	for _, c := range r.Cells {
		if _, seen := ok[c.Fault]; !seen {
			ok[c.Fault] = true
		}
		if len(c.Named) > 0 && !c.Detected() {
			ok[c.Fault] = false
		}
	}
	for _, f := range r.Unnamed {
		ok[f] = false
	}
	for _, good := range ok {
		declared++
		if good {
			detected++
		}
	}
	return detected, declared
}

// Run builds the matrix.
func Run(ctx context.Context, cat *catalogue.Catalogue, o Options) (*Result, error) {
	if o.Parallel < 1 {
		o.Parallel = 8
	}
	if o.Runs < 1 {
		o.Runs = 6
	}
	if o.CleanRuns < 1 {
		o.CleanRuns = 1
	}
	if len(o.Profiles) == 0 {
		o.Profiles = profile.Names()
	}
	if o.Keys == nil {
		keys, err := pki.Generate()
		if err != nil {
			return nil, err
		}
		o.Keys = keys
	}
	faults := refbank.Faults()
	if len(o.Faults) > 0 {
		faults = nil
		for _, n := range o.Faults {
			f, ok := refbank.LookupFault(n)
			if !ok {
				return nil, fmt.Errorf("unknown fault %q", n)
			}
			faults = append(faults, f)
		}
	}
	work, err := os.MkdirTemp("", "dcrconform-matrix")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	keyDir := filepath.Join(work, "keys")
	if err := o.Keys.WriteDir(keyDir); err != nil {
		return nil, err
	}
	res := &Result{CleanFailures: map[string][]string{}}
	type job struct {
		prof  profile.Profile
		fault *refbank.Fault
		items []catalogue.Item
		outs  map[string]engine.Outcome
		fails []string // clean runs: every outcome that is not a pass, of every repeat
		err   error
	}
	var jobs []*job
	for _, pn := range o.Profiles {
		p, err := profile.Get(pn)
		if err != nil {
			return nil, err
		}
		all := cat.Items(p)
		jobs = append(jobs, &job{prof: p, items: all})
		for i := range faults {
			if !faults[i].AppliesTo(p.Name) {
				continue
			}
			items := all
			if o.NamedOnly {
				if items = namedItems(faults[i], all); len(items) == 0 {
					continue
				}
			}
			jobs = append(jobs, &job{prof: p, fault: &faults[i], items: items})
		}
	}
	// Runs are independent banks on their own ports; most of their time is spent waiting on
	// timeouts, so they run side by side.
	sem := make(chan struct{}, o.Runs)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func(j *job) {
			defer wg.Done()
			defer func() { <-sem }()
			var names []string
			repeats := o.CleanRuns
			if j.fault != nil {
				names, repeats = []string{j.fault.Name}, 1
			}
			j.outs, j.fails, j.err = runOnce(ctx, o, keyDir, j.prof.Name, names, j.items, repeats)
			if o.Progress != nil {
				what := "clean bank"
				if j.fault != nil {
					what = "fault " + j.fault.Name
				}
				mu.Lock()
				done++
				fmt.Fprintf(o.Progress, "matrix: %d/%d runs done (%s, %s, %d cases)\n", done, len(jobs), j.prof.Name, what, len(j.items))
				mu.Unlock()
			}
		}(j)
	}
	wg.Wait()
	clean := map[string]map[string]engine.Outcome{}
	for _, j := range jobs {
		if j.err != nil {
			return nil, j.err
		}
		if j.fault == nil {
			clean[j.prof.Name] = j.outs
			if len(j.fails) > 0 {
				res.CleanFailures[j.prof.Name] = j.fails
			}
		}
	}
	detectedBy := map[string]bool{}
	for _, j := range jobs {
		if j.fault == nil {
			continue
		}
		base := clean[j.prof.Name]
		cell := judgeCell(*j.fault, base, j.outs)
		cell.Profile = j.prof.Name
		for _, out := range j.outs {
			if detects(out, base) {
				detectedBy[j.prof.Name+"/"+out.ID] = true
			}
		}
		res.Cells = append(res.Cells, cell)
	}
	if !o.NamedOnly {
		for _, pn := range o.Profiles {
			for _, it := range cat.Items(profile.MustGet(pn)) {
				if mustOrShould(it) && !detectedBy[pn+"/"+it.ID] {
					res.Unfailable = append(res.Unfailable, pn+"/"+it.ID)
				}
			}
		}
	}
	res.Uncovered, res.Unnamed = Coverage(cat, o.Profiles, faults)
	return res, nil
}

// Coverage is the static check of the fault declarations against the catalogue. uncovered lists
// the MUST and SHOULD items (profile/ID) that no fault applying to the profile names; unnamed the
// faults with a Trips entry that matches no item under any profile the fault applies to (a typo,
// or a case that was renamed or dropped).
func Coverage(cat *catalogue.Catalogue, profiles []string, faults []refbank.Fault) (uncovered, unnamed []string) {
	if len(profiles) == 0 {
		profiles = profile.Names()
	}
	matched := map[string]bool{} // fault + "\x00" + trip
	for _, pn := range profiles {
		items := cat.Items(profile.MustGet(pn))
		named := map[string]bool{}
		for _, f := range faults {
			if !f.AppliesTo(pn) {
				continue
			}
			for _, trip := range f.Trips {
				for _, it := range items {
					if names(trip, it.ID) {
						named[it.ID] = true
						matched[f.Name+"\x00"+trip] = true
					}
				}
			}
		}
		for _, it := range items {
			if mustOrShould(it) && !named[it.ID] {
				uncovered = append(uncovered, pn+"/"+it.ID)
			}
		}
	}
	for _, f := range faults {
		applies := false
		for _, pn := range profiles {
			applies = applies || f.AppliesTo(pn)
		}
		for _, trip := range f.Trips {
			if applies && !matched[f.Name+"\x00"+trip] {
				unnamed = append(unnamed, f.Name)
				break
			}
		}
	}
	return uncovered, unnamed
}

func mustOrShould(it catalogue.Item) bool {
	return it.Level == catalogue.MUST || it.Level == catalogue.SHOULD
}

// names reports whether a Trips entry names the item: a case ID names the case and each of its
// variants, an ID/variant that variant alone.
func names(trip, id string) bool {
	return id == trip || strings.HasPrefix(id, trip+"/")
}

// namedItems are the items of a profile that the fault names.
func namedItems(f refbank.Fault, items []catalogue.Item) []catalogue.Item {
	// Select brings the lifecycle steps a named step continues, without which it could only be
	// inconclusive.
	out, err := catalogue.Select(items, f.Trips)
	if err != nil {
		return nil
	}
	return out
}

// runOnce starts one bank (clean, or with the named faults) and runs the items against it
// repeats times. It returns the first run's outcomes, the baseline a fault's cells are judged
// against, and every outcome of any run that is neither a pass nor an observation.
func runOnce(ctx context.Context, o Options, keyDir, prof string, faults []string, items []catalogue.Item, repeats int) (map[string]engine.Outcome, []string, error) {
	run, err := harness.Prepare(ctx, harness.Options{Profile: prof, Faults: faults, Keys: o.Keys, KeyDir: keyDir,
		JWKSTimeout: o.JWKSTimeout, RequestTimeout: o.RequestTimeout})
	if err != nil {
		return nil, nil, err
	}
	defer run.Close()
	out := map[string]engine.Outcome{}
	var fails []string
	for i := 0; i < repeats; i++ {
		// Each repeat is a run of its own: a fresh control registration and lifecycle, since
		// the one before deleted its client.
		for _, oc := range engine.RunAll(ctx, run.Env.Fresh(), items, o.Parallel) {
			if i == 0 {
				out[oc.ID] = oc
			}
			if !cleanVerdict(oc.Verdict) {
				fails = append(fails, fmt.Sprintf("%s (run %d, %s: %s)", oc.ID, i+1, oc.Verdict, oc.Reason))
			}
		}
	}
	return out, fails, nil
}

// cleanVerdict reports whether a verdict is one the clean bank may give: a pass, or an
// observation of a MAY or INFO case. Anything else (a failure, a warning, an inconclusive
// exchange, a case that did not run) is a false alarm or a run that proved nothing.
func cleanVerdict(v engine.Verdict) bool {
	// Not applicable: a case for a kind of bank this one is not (MGT-11 is for banks without
	// DELETE); it asserts nothing about this bank.
	return v == engine.Pass || v == engine.Observed || v == engine.NotApplicable
}

// detects says whether an outcome under a fault differs from the clean bank's in the way the
// case's level defines: a MUST fails, a SHOULD warns, a MAY or INFO case observes something else.
// An inconclusive exchange proves nothing, so it never counts as a detection.
func detects(out engine.Outcome, clean map[string]engine.Outcome) bool {
	switch out.Level {
	case catalogue.MUST, catalogue.SHOULD:
		return out.Verdict == engine.Fail || out.Verdict == engine.Warn
	default:
		base, ok := clean[out.ID]
		return ok && judged(out.Verdict) && judged(base.Verdict) && out.Observation != base.Observation
	}
}

// judged reports whether a verdict came from judging the target's answer: not a skip, an
// inconclusive exchange or a case that did not run, whose observations say nothing of the bank.
func judged(v engine.Verdict) bool {
	switch v {
	case engine.Pass, engine.Fail, engine.Warn, engine.Observed:
		return true
	}
	return false
}

// judgeCell sorts the fault's named items into caught and missed, and lists as stray the other
// items that detected it.
func judgeCell(f refbank.Fault, clean, outs map[string]engine.Outcome) Cell {
	c := Cell{Fault: f.Name}
	wanted := map[string]bool{}
	ids := make([]string, 0, len(outs))
	for id := range outs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, trip := range f.Trips {
		applies := false
		for _, id := range ids {
			if !names(trip, id) {
				continue
			}
			applies = true
			if wanted[id] {
				continue // named twice (as the case and as its variant): judged once
			}
			wanted[id] = true
			if detects(outs[id], clean) {
				c.Caught = append(c.Caught, id)
			} else {
				c.Missed = append(c.Missed, id)
			}
		}
		if applies {
			c.Named = append(c.Named, trip)
		}
	}
	for _, id := range ids {
		if !wanted[id] && detects(outs[id], clean) {
			c.Stray = append(c.Stray, id)
		}
	}
	return c
}

// Print writes the matrix as a table, the unfailable cases, and the score on the last line as
// "detected N/N".
func (r *Result) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "FAULT\tPROFILE\tCAUGHT BY\tMISSED BY\tALSO FAILED")
	for _, c := range r.Cells {
		if len(c.Named) == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Fault, c.Profile, dash(c.Caught), dash(c.Missed), dash(c.Stray))
	}
	tw.Flush()
	for p, fails := range r.CleanFailures {
		fmt.Fprintf(w, "clean bank, %s: %d cases did not pass: %s\n", p, len(fails), strings.Join(fails, "; "))
	}
	if len(r.Unnamed) > 0 {
		fmt.Fprintf(w, "faults naming cases that are not in the catalogue: %s\n", strings.Join(r.Unnamed, ", "))
	}
	if len(r.Uncovered) > 0 {
		fmt.Fprintf(w, "MUST/SHOULD cases no fault names: %s\n", strings.Join(r.Uncovered, ", "))
	}
	if len(r.Unfailable) > 0 {
		fmt.Fprintf(w, "MUST/SHOULD cases no fault fails: %s\n", strings.Join(r.Unfailable, ", "))
	}
	d, n := r.Score()
	fmt.Fprintf(w, "detected %d/%d\n", d, n)
}

func dash(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

// Package matrix measures the harness's detection power: it runs the catalogue against the
// reference bank once clean and once per fault and profile, and checks that each fault is caught
// by the cases it names, that the clean bank fails nothing, and that every MUST and SHOULD case
// is failed by at least one fault. A case no fault can fail proves nothing.
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
	// Parallel bounds concurrent cases within one run; Runs bounds concurrent runs.
	Parallel int
	Runs     int
	// JWKSTimeout is the bank's JWKS fetch timeout; RequestTimeout the harness's per call, which
	// ends the hang of a bank with no JWKS timeout.
	JWKSTimeout    time.Duration
	RequestTimeout time.Duration
	Keys           *pki.Set
}

// Cell is one fault under one profile.
type Cell struct {
	Fault   string `json:"fault"`
	Profile string `json:"profile"`
	// Named are the case IDs the fault declares it trips that apply under this profile.
	Named []string `json:"named"`
	// Caught are the named IDs that detected the fault; Missed those that did not.
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
	// Unfailable lists MUST and SHOULD items (profile/ID) that no fault detected.
	Unfailable []string `json:"unfailable"`
	// Unnamed lists faults whose named cases exist in no profile's catalogue.
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
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 3 * time.Second
	}
	// The JWKS timeout must leave room for a real fetch while many banks share two cores, or the
	// clean bank itself would fail; the blackhole probe waits for it once per run.
	if o.JWKSTimeout == 0 {
		o.JWKSTimeout = time.Second
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
		outs  map[string]engine.Outcome
		err   error
	}
	var jobs []*job
	for _, pn := range o.Profiles {
		p, err := profile.Get(pn)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, &job{prof: p})
		for i := range faults {
			if faults[i].AppliesTo(p.Name) {
				jobs = append(jobs, &job{prof: p, fault: &faults[i]})
			}
		}
	}
	// Runs are independent banks on their own ports; most of their time is spent waiting on
	// timeouts, so they run side by side.
	sem := make(chan struct{}, o.Runs)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func(j *job) {
			defer wg.Done()
			defer func() { <-sem }()
			var names []string
			if j.fault != nil {
				names = []string{j.fault.Name}
			}
			j.outs, j.err = runOnce(ctx, o, keyDir, j.prof.Name, names, cat.Items(j.prof))
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
			for _, it := range cat.Items(j.prof) {
				if out := j.outs[it.ID]; out.Verdict != engine.Pass && out.Verdict != engine.Observed {
					res.CleanFailures[j.prof.Name] = append(res.CleanFailures[j.prof.Name], out.ID+" ("+string(out.Verdict)+": "+out.Reason+")")
				}
			}
		}
	}
	detectedBy := map[string]bool{}
	named := map[string]bool{}
	for _, j := range jobs {
		if j.fault == nil {
			continue
		}
		base := clean[j.prof.Name]
		cell := judgeCell(*j.fault, j.prof.Name, base, j.outs)
		if len(cell.Named) > 0 {
			named[j.fault.Name] = true
		}
		for _, out := range j.outs {
			if detects(out, base) {
				detectedBy[j.prof.Name+"/"+out.ID] = true
			}
		}
		res.Cells = append(res.Cells, cell)
	}
	for _, pn := range o.Profiles {
		for _, it := range cat.Items(profile.MustGet(pn)) {
			if (it.Level == catalogue.MUST || it.Level == catalogue.SHOULD) && !detectedBy[pn+"/"+it.ID] {
				res.Unfailable = append(res.Unfailable, pn+"/"+it.ID)
			}
		}
	}
	for _, f := range faults {
		if !named[f.Name] {
			res.Unnamed = append(res.Unnamed, f.Name)
		}
	}
	return res, nil
}

func runOnce(ctx context.Context, o Options, keyDir, prof string, faults []string, items []catalogue.Item) (map[string]engine.Outcome, error) {
	run, err := harness.Prepare(ctx, harness.Options{Profile: prof, Faults: faults, Keys: o.Keys, KeyDir: keyDir,
		JWKSTimeout: o.JWKSTimeout, RequestTimeout: o.RequestTimeout})
	if err != nil {
		return nil, err
	}
	defer run.Close()
	out := map[string]engine.Outcome{}
	for _, oc := range engine.RunAll(ctx, run.Env, items, o.Parallel) {
		out[oc.ID] = oc
	}
	return out, nil
}

// detects says whether an outcome under a fault differs from the clean bank's in the way the
// case's level defines: a MUST fails, a SHOULD warns, a MAY or INFO case observes something else.
func detects(out engine.Outcome, clean map[string]engine.Outcome) bool {
	switch out.Level {
	case catalogue.MUST, catalogue.SHOULD:
		return out.Verdict == engine.Fail || out.Verdict == engine.Warn
	default:
		base, ok := clean[out.ID]
		return ok && out.Verdict != engine.Skipped && out.Observation != base.Observation
	}
}

func judgeCell(f refbank.Fault, prof string, clean, outs map[string]engine.Outcome) Cell {
	c := Cell{Fault: f.Name, Profile: prof}
	wanted := map[string]bool{}
	for _, trip := range f.Trips {
		var ids []string
		for id := range outs {
			if id == trip || strings.HasPrefix(id, trip+"/") {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			continue // not applicable under this profile
		}
		sort.Strings(ids)
		c.Named = append(c.Named, trip)
		caught := false
		for _, id := range ids {
			wanted[id] = true
			caught = caught || detects(outs[id], clean)
		}
		if caught {
			c.Caught = append(c.Caught, trip)
		} else {
			c.Missed = append(c.Missed, trip)
		}
	}
	for id, out := range outs {
		if !wanted[id] && detects(out, clean) {
			c.Stray = append(c.Stray, id)
		}
	}
	sort.Strings(c.Stray)
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
		fmt.Fprintf(w, "faults whose cases are not in the catalogue: %s\n", strings.Join(r.Unnamed, ", "))
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

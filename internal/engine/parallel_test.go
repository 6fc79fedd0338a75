package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/engine"
	"github.com/dcrconform/dcrconform/internal/harness"
	"github.com/dcrconform/dcrconform/internal/judge"
	"github.com/dcrconform/dcrconform/internal/request"
)

// A run with eight cases in flight gives every case the verdict a run of one case at a time
// gives, in the same (catalogue) order. The blackholed-JWKS case makes each run wait for the
// bank's JWKS timeout (300 ms here) once.
func TestParallelRunGivesTheSequentialVerdicts(t *testing.T) {
	for _, p := range []string{"revolut", "obie-3.2"} {
		t.Run(p, func(t *testing.T) {
			var got [2][]engine.Outcome
			for i, par := range []int{1, 8} {
				run := prepare(t, harness.Options{Profile: p})
				got[i] = engine.Start(context.Background(), run.Env, catalogue.Default().Items(run.Profile), engine.Options{Parallel: par}).All()
			}
			seq, par := got[0], got[1]
			if len(seq) != len(par) {
				t.Fatalf("%d outcomes one at a time, %d in parallel", len(seq), len(par))
			}
			for i := range seq {
				if seq[i].ID != par[i].ID {
					t.Fatalf("item %d: %s one at a time, %s in parallel", i, seq[i].ID, par[i].ID)
				}
				if seq[i].Verdict != par[i].Verdict {
					t.Errorf("%s: %s one at a time (%s), %s in parallel (%s)", seq[i].ID, seq[i].Verdict, seq[i].Reason, par[i].Verdict, par[i].Reason)
				}
			}
			if code := engine.ExitCode(par); code != engine.ExitOK {
				t.Errorf("parallel run: exit %d", code)
			}
		})
	}
}

// --fail-fast with cases in flight: the run still stops, every item still has an outcome, and
// the cases that had not finished are not run.
func TestFailFastInParallel(t *testing.T) {
	run := prepare(t, harness.Options{Faults: []string{"accept-alg-none"}})
	items := catalogue.Default().Items(run.Profile)
	outs := engine.Start(context.Background(), run.Env, items, engine.Options{FailFast: true, Parallel: 8}).All()
	failed, notRun := 0, 0
	for i, o := range outs {
		if o.ID != items[i].ID {
			t.Fatalf("item %d: outcome of %s", i, o.ID)
		}
		switch o.Verdict {
		case engine.Fail:
			failed++
		case engine.NotRun:
			notRun++
			if !strings.Contains(o.Reason, "--fail-fast") {
				t.Errorf("%s not run for another reason: %s", o.ID, o.Reason)
			}
		}
	}
	if failed == 0 || notRun == 0 {
		t.Errorf("failed %d, not run %d", failed, notRun)
	}
}

// A step that continues a case still running waits for it without holding up the items after
// it: here the first case cannot finish until every later independent item has, which would
// never happen if the step blocked dispatch (the schedule would hang). The step then runs after
// the case it continues, and is inconclusive because that case did not pass.
func TestStepWaitsWithoutBlockingDispatch(t *testing.T) {
	run := prepare(t, harness.Options{})
	release := make(chan struct{})
	bad := errors.New("deliberately not built")
	mk := func(id, after string, alter catalogue.Alter) catalogue.Item {
		c := &catalogue.Case{ID: id, Title: id, Group: catalogue.GroupHappy, Ref: "test", After: after,
			Levels: map[string]catalogue.Level{run.Profile.Name: catalogue.MUST}, Alter: alter, Expect: judge.Rejected{}}
		return catalogue.Item{Case: c, ID: id, Title: id, Profile: run.Profile, Level: catalogue.MUST}
	}
	held := func(*request.Draft, *request.Identity) error { <-release; return bad }
	quick := func(*request.Draft, *request.Identity) error { return bad }
	items := []catalogue.Item{mk("LIF-01", "", held), mk("LIF-02", "LIF-01", quick)}
	for _, id := range []string{"IND-01", "IND-02", "IND-03", "IND-04", "IND-05", "IND-06"} {
		items = append(items, mk(id, "", quick))
	}
	s := engine.Start(context.Background(), run.Env, items, engine.Options{Parallel: 2})
	for i := 2; i < len(items); i++ {
		if o := s.Wait(i); o.Verdict != engine.Inconclusive {
			t.Errorf("%s: %s %s", o.ID, o.Verdict, o.Reason)
		}
	}
	close(release)
	first, step := s.Wait(0), s.Wait(1)
	if step.Verdict != engine.Inconclusive || !strings.Contains(step.Reason, "LIF-01") {
		t.Errorf("step: %s %s", step.Verdict, step.Reason)
	}
	if step.Started.Before(first.Started.Add(first.Duration)) {
		t.Errorf("the step started at %v, before the case it continues ended at %v", step.Started, first.Started.Add(first.Duration))
	}
}

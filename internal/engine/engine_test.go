package engine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/engine"
	"github.com/dcrconform/dcrconform/internal/harness"
)

func TestExitCode(t *testing.T) {
	o := func(v engine.Verdict, l catalogue.Level) engine.Outcome { return engine.Outcome{Verdict: v, Level: l} }
	for name, tc := range map[string]struct {
		outs []engine.Outcome
		want int
	}{
		"all pass":                    {[]engine.Outcome{o(engine.Pass, catalogue.MUST), o(engine.Observed, catalogue.INFO)}, engine.ExitOK},
		"should warns only":           {[]engine.Outcome{o(engine.Pass, catalogue.MUST), o(engine.Warn, catalogue.SHOULD)}, engine.ExitOK},
		"must fails":                  {[]engine.Outcome{o(engine.Fail, catalogue.MUST)}, engine.ExitFailed},
		"must skipped":                {[]engine.Outcome{o(engine.Pass, catalogue.MUST), o(engine.Skipped, catalogue.MUST)}, engine.ExitPartial},
		"should skipped":              {[]engine.Outcome{o(engine.Skipped, catalogue.SHOULD)}, engine.ExitOK},
		"must inconclusive":           {[]engine.Outcome{o(engine.Inconclusive, catalogue.MUST)}, engine.ExitPartial},
		"not run":                     {[]engine.Outcome{o(engine.Pass, catalogue.MUST), o(engine.NotRun, catalogue.MUST)}, engine.ExitIncomplete},
		"fail beats incomplete":       {[]engine.Outcome{o(engine.NotRun, catalogue.MUST), o(engine.Fail, catalogue.MUST)}, engine.ExitFailed},
		"incomplete beats partial":    {[]engine.Outcome{o(engine.Inconclusive, catalogue.MUST), o(engine.NotRun, catalogue.SHOULD)}, engine.ExitIncomplete},
		"partial after incomplete":    {[]engine.Outcome{o(engine.NotRun, catalogue.SHOULD), o(engine.Skipped, catalogue.MUST)}, engine.ExitIncomplete},
		"strict failure is a failure": {[]engine.Outcome{o(engine.Fail, catalogue.SHOULD)}, engine.ExitFailed},
		"nothing":                     {nil, engine.ExitOK},
	} {
		if got := engine.ExitCode(tc.outs); got != tc.want {
			t.Errorf("%s: exit %d, want %d", name, got, tc.want)
		}
	}
}

func TestResultWord(t *testing.T) {
	if w := engine.ResultWord(engine.ExitOK, 121, 121); w != "CONFORMANT" {
		t.Errorf("whole catalogue: %q", w)
	}
	if w := engine.ResultWord(engine.ExitOK, 1, 121); w == "CONFORMANT" {
		t.Errorf("a selection was called %q", w)
	}
	for _, code := range []int{engine.ExitFailed, engine.ExitPartial, engine.ExitIncomplete} {
		if w := engine.ResultWord(code, 121, 121); w == "CONFORMANT" {
			t.Errorf("exit %d called CONFORMANT", code)
		}
	}
}

// prepare starts the embedded reference bank for a test.
func prepare(t *testing.T, o harness.Options) *harness.Run {
	t.Helper()
	o.WorkDir = t.TempDir() // the bank's own JWKS timeout: a short one would time the machine, not the bank
	run, err := harness.Prepare(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(run.Close)
	return run
}

// transportLevel are the cases whose proof does not depend on the registration request: the
// TLS layer's refusals and the discovery document.
var transportLevel = map[string]bool{"TLS-01": true, "TLS-02": true, "TLS-03/untrusted-ca": true, "TLS-03/forged-subject": true, "TLS-05": true}

// With the happy path broken on the harness's side (the request is signed under a kid the
// published JWKS does not hold, so the bank refuses everything), no rejection case may pass:
// a refusal proves nothing while the valid request is refused too.
func TestNothingPassesWhileTheControlIsRefused(t *testing.T) {
	for _, p := range []string{"revolut", "obie-3.3"} {
		t.Run(p, func(t *testing.T) {
			run := prepare(t, harness.Options{Profile: p})
			run.Env.Identity.Signing.Kid = "a-kid-nobody-published"
			outs := engine.RunAll(context.Background(), run.Env, catalogue.Default().Items(run.Profile), 4)
			inconclusive := 0
			for _, o := range outs {
				switch {
				case o.Verdict == engine.Pass && !transportLevel[o.ID]:
					t.Errorf("%s passed although the control registration was refused: %s", o.ID, o.Reason)
				case o.Verdict == engine.Inconclusive:
					inconclusive++
				}
				if o.ID == "HP-01" && o.Verdict != engine.Fail {
					t.Errorf("HP-01 is %s, want fail with the bank's words", o.Verdict)
				}
				if o.ID == "HP-01" && o.Answer == "" {
					t.Error("HP-01 does not show what the bank answered")
				}
			}
			if inconclusive < 50 {
				t.Errorf("only %d inconclusive cases", inconclusive)
			}
		})
	}
}

// A run whose context ends reports every case it did not finish as not run, in order.
func TestCancelledRunMarksNotRun(t *testing.T) {
	run := prepare(t, harness.Options{})
	items := catalogue.Default().Items(run.Profile)
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(context.Canceled)
	outs := engine.Start(ctx, run.Env, items, engine.Options{}).All()
	if len(outs) != len(items) {
		t.Fatalf("%d outcomes for %d items", len(outs), len(items))
	}
	for i, o := range outs {
		if o.Verdict != engine.NotRun || o.ID != items[i].ID {
			t.Fatalf("item %d: %s %s", i, o.ID, o.Verdict)
		}
	}
	if engine.ExitCode(outs) != engine.ExitIncomplete {
		t.Error("a cancelled run is not incomplete")
	}
}

// --fail-fast stops after the first failure; the rest are not run.
func TestFailFast(t *testing.T) {
	run := prepare(t, harness.Options{Faults: []string{"accept-alg-none"}})
	outs := engine.Start(context.Background(), run.Env, catalogue.Default().Items(run.Profile), engine.Options{FailFast: true}).All()
	failed, notRun := 0, 0
	for _, o := range outs {
		switch o.Verdict {
		case engine.Fail:
			failed++
		case engine.NotRun:
			notRun++
		}
	}
	if failed != 1 || notRun == 0 {
		t.Errorf("failed %d, not run %d", failed, notRun)
	}
}

// itemIndex is the position of an item in a list, or -1.
func itemIndex(items []catalogue.Item, id string) int {
	for i, it := range items {
		if it.ID == id {
			return i
		}
	}
	return -1
}

// Every client a run registers is deleted at its end: after a whole run, and after a run
// interrupted in the middle of the lifecycle.
func TestCleanupLeavesNoClient(t *testing.T) {
	for _, interrupt := range []bool{false, true} {
		run := prepare(t, harness.Options{Profile: "obie-3.3"})
		items := catalogue.Default().Items(run.Profile)
		ctx, cancel := context.WithCancelCause(context.Background())
		sched := engine.Start(ctx, run.Env, items, engine.Options{})
		if interrupt {
			sched.Wait(itemIndex(items, "MGT-01"))
			cancel(errors.New("interrupted by the test"))
		}
		outs := sched.All()
		cancel(nil)
		if interrupt && engine.ExitCode(outs) != engine.ExitIncomplete {
			t.Fatalf("the interrupt did not cut the run short (exit %d)", engine.ExitCode(outs))
		}
		if run.BankClients() == 0 {
			t.Fatal("the run registered no client; the test proves nothing")
		}
		res := run.Env.Cleanup(context.Background())
		if n := run.BankClients(); n != 0 || len(res.Left) != 0 {
			t.Errorf("interrupt %v: %d clients left in the bank, %v reported left, %d deleted", interrupt, n, res.Left, len(res.Deleted))
		}
	}
}

// A target that declares an optional operation absent makes its cases not applicable (not a
// skipped requirement), and the clients it cannot delete are reported as left behind.
func TestAbsentOperationsAreNotApplicable(t *testing.T) {
	run := prepare(t, harness.Options{NoDelete: true})
	outs := engine.RunAll(context.Background(), run.Env, catalogue.Default().Items(run.Profile), 1)
	for _, o := range outs {
		if o.ID == "MGT-09" || o.ID == "MGT-10" {
			if o.Verdict != engine.NotApplicable {
				t.Errorf("%s is %s: %s", o.ID, o.Verdict, o.Reason)
			}
		} else if o.Verdict != engine.Pass && o.Verdict != engine.Observed {
			t.Errorf("%s is %s: %s", o.ID, o.Verdict, o.Reason)
		}
	}
	if code := engine.ExitCode(outs); code != engine.ExitOK {
		t.Errorf("exit %d, want 0: not applicable is no skipped requirement", code)
	}
	res := run.Env.Cleanup(context.Background())
	if len(res.Left) == 0 || len(res.Deleted) != 0 || len(res.Left) != run.BankClients() {
		t.Errorf("left %d, deleted %d, bank holds %d", len(res.Left), len(res.Deleted), run.BankClients())
	}
}

// A lifecycle step after one that did not pass is inconclusive, never passed or failed.
func TestBrokenStepMakesLaterStepsInconclusive(t *testing.T) {
	run := prepare(t, harness.Options{Faults: []string{"token-refused"}})
	outs := engine.RunAll(context.Background(), run.Env, catalogue.Default().Items(run.Profile), 1)
	for _, o := range outs {
		switch o.ID {
		case "HP-04":
			if o.Verdict != engine.Warn {
				t.Errorf("HP-04 is %s, want warn (a SHOULD)", o.Verdict)
			}
		case "MGT-01", "MGT-04", "MGT-05", "MGT-06", "MGT-07", "MGT-08", "MGT-09", "MGT-10", "MGT-12/no-cert", "MGT-12/untrusted-cert":
			if o.Verdict != engine.Inconclusive {
				t.Errorf("%s is %s after a broken HP-04: %s", o.ID, o.Verdict, o.Reason)
			}
		}
	}
}

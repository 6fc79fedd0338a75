package matrix

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/engine"
	"github.com/dcrconform/dcrconform/internal/harness"
	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/profile"
)

// TestCleanBankUnderLoad runs the whole catalogue against clean reference banks, many runs at
// once per profile, while goroutines burn every CPU: the load under which the clean bank used to
// fail HP-05 and SSA-13 (its per-request JWKS fetch lost the race with its timeout). It is the
// stress reproducer behind TestKeySetFetchedOncePerBank in internal/refbank, too slow and too
// machine-dependent for `make test`: scripts/stress-clean-bank.sh runs it with
// DCRCONFORM_STRESS=N (N concurrent runs per profile).
func TestCleanBankUnderLoad(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("DCRCONFORM_STRESS"))
	if n < 1 {
		t.Skip("set DCRCONFORM_STRESS=N to run N clean catalogue runs per profile at once under CPU load")
	}
	keys, err := pki.Generate()
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	for i := 0; i < 2*runtime.GOMAXPROCS(0); i++ {
		go burn(stop)
	}
	var wg sync.WaitGroup
	for _, name := range profile.Names() {
		for r := 0; r < n; r++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				run, err := harness.Prepare(context.Background(), harness.Options{Profile: name, Keys: keys, WorkDir: t.TempDir()})
				if err != nil {
					t.Error(err)
					return
				}
				defer run.Close()
				for _, o := range engine.RunAll(context.Background(), run.Env, catalogue.Default().Items(run.Profile), 8) {
					if !cleanVerdict(o.Verdict) {
						t.Errorf("%s: clean bank %s %s: %s", name, o.ID, o.Verdict, o.Reason)
					}
				}
			}()
		}
	}
	wg.Wait()
}

// burn keeps one CPU busy until stop is closed.
func burn(stop <-chan struct{}) {
	x := 0
	for {
		select {
		case <-stop:
			return
		default:
		}
		for i := 0; i < 1_000_000; i++ {
			x += i
		}
	}
}

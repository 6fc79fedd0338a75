package register_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/engine"
	"github.com/dcrconform/dcrconform/internal/harness"
	"github.com/dcrconform/dcrconform/suites/register"
)

// TestRegister runs the catalogue's specs against the embedded reference bank, so
// `go test ./suites/...` and a pinned `go tool ginkgo ./suites/register` run the very specs the
// CLI runs.
func TestRegister(t *testing.T) {
	RegisterFailHandler(Fail)
	run, err := harness.Prepare(context.Background(), harness.Options{
		WorkDir: t.TempDir(),
	})
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	defer run.Close()
	cat := catalogue.Default()
	if err := cat.Validate(); err != nil {
		t.Fatal(err)
	}
	items := cat.Items(run.Profile)
	sched := engine.Start(context.Background(), run.Env, items, engine.Options{})
	register.Declare(items, sched.Wait)
	RunSpecs(t, register.SuiteName)
	if code := engine.ExitCode(sched.All()); code != engine.ExitOK {
		t.Errorf("exit code from outcomes = %d, want 0", code)
	}
}

package register_test

import (
	"context"
	"testing"
	"time"

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
		WorkDir: t.TempDir(), JWKSTimeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	defer run.Close()
	cat := catalogue.Default()
	if err := cat.Validate(); err != nil {
		t.Fatal(err)
	}
	var outcomes []engine.Outcome
	register.Declare(run.Env, cat.Items(run.Profile), func(o engine.Outcome) { outcomes = append(outcomes, o) })
	RunSpecs(t, register.SuiteName)
	if code := engine.ExitCode(outcomes); code != engine.ExitOK {
		t.Errorf("exit code from outcomes = %d, want 0", code)
	}
}

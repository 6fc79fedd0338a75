package refbank_test

import (
	"os/exec"
	"strings"
	"testing"
)

// harnessPackages are the packages that make up the harness's side of a run. The reference bank
// stands in for a real bank, so it must share none of the harness's code: a bug there would then
// be on both sides of every exchange and cancel out, and the bank would pass the very cases that
// should catch it.
var harnessPackages = []string{
	"internal/request", "internal/catalogue", "internal/engine", "internal/judge",
	"internal/client", "internal/harness",
}

// TestReferenceBankImportsNothingOfTheHarness lists the reference bank's dependencies (its
// non-test code, as `go list -deps` reports them) and fails on any harness package. Tests of the
// bank may use the harness's request builder; the bank itself may not.
func TestReferenceBankImportsNothingOfTheHarness(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to list dependencies with")
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/dcrconform/dcrconform/internal/refbank").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 2 {
		t.Fatalf("go list -deps listed too little to be believed: %q", deps)
	}
	for _, dep := range deps {
		for _, h := range harnessPackages {
			if dep == "github.com/dcrconform/dcrconform/"+h {
				t.Errorf("the reference bank depends on %s, a package of the harness", h)
			}
		}
	}
}

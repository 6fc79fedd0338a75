// Command dcrconform is a conformance and contract-testing harness for Open Banking Dynamic
// Client Registration (POST /register and the registration lifecycle). With no target
// configured it runs against its own embedded reference bank.
//
// The commands are one table (cobra, as kubectl and gh use): help, usage, flag errors and shell
// completion all come from it, and each shared flag is declared once (flags.go).
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=..."; "dev" otherwise.
var version = "dev"

// softMemoryLimit is the heap size past which the garbage collector works harder (a soft limit,
// never a crash). A run's live data is bounded by the recording caps and the evidence budget; the
// limit keeps the collector's slack from doubling it on a small CI runner. GOMEMLIMIT overrides.
const softMemoryLimit = 128 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// newRoot builds the command table. Each command stores its exit code in *code; cobra's own
// errors (an unknown command or flag, a missing argument) are exit 2.
func newRoot(stdout, stderr io.Writer, code *int) *cobra.Command {
	root := &cobra.Command{
		Use:   "dcrconform",
		Short: "Conformance tests for Open Banking Dynamic Client Registration (POST /register)",
		Long: `dcrconform tests a bank's Dynamic Client Registration endpoint (Revolut's, or OBIE DCR
3.1-3.3) with real mutual-TLS calls, validates every answer against the profile's OpenAPI
document, and writes JUnit, HTML and a signed evidence bundle. With no --config, run tests the
embedded reference bank, so a first run is green.

Exit codes of run: 0 every selected MUST case passed; 1 a MUST case failed (or a SHOULD case,
with --strict); 2 the run could not be made (config, keys, preflight); 3 MUST cases skipped or
inconclusive; 4 interrupted or past the run deadline (reports written, marked INCOMPLETE).`,
		Example: `  dcrconform run
  dcrconform init --profile revolut --out tpp
  dcrconform run --config tpp/target.yaml
  dcrconform completion bash > /etc/bash_completion.d/dcrconform`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       toolVersion(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(stderr)
			_ = cmd.Usage()
			*code = 2
			return nil
		},
	}
	root.SetVersionTemplate("dcrconform {{.Version}}\n")
	root.AddCommand(
		newRunCmd(stdout, stderr, code),
		newListCmd(stdout, stderr, code),
		newServeCmd(stdout, stderr, code),
		newVerifyCmd(stdout, stderr, code),
		newMatrixCmd(stdout, stderr, code),
		newInitCmd(stdout, stderr, code),
		newEvidenceKeyCmd(stdout, stderr, code),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version and the VCS revision the binary was built from",
			Args:  cobra.NoArgs,
			Run:   func(*cobra.Command, []string) { fmt.Fprintln(stdout, "dcrconform", toolVersion()) },
		},
	)
	return root
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	code := 0
	root := newRoot(stdout, stderr, &code)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		msg := strings.TrimSpace(err.Error())
		hint := "dcrconform -h"
		if c, _, ferr := root.Find(args); ferr == nil && c != root {
			hint = c.CommandPath() + " -h"
		}
		fmt.Fprintf(stderr, "dcrconform: %s (see %s)\n", msg, hint)
		return 2
	}
	return code
}

// toolVersion is the release version plus the VCS revision the binary was built from.
func toolVersion() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}

// fail prints a one-line reason and returns exit code 2.
func fail(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "dcrconform: "+format+"\n", args...)
	return 2
}

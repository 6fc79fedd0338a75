// Command dcrconform is a conformance and contract-testing harness for Open Banking Dynamic
// Client Registration (POST /register). With no target configured it runs against its own
// embedded reference bank.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=..."; "dev" otherwise.
var version = "dev"

const usage = `dcrconform: conformance tests for Open Banking DCR POST /register

Usage:
  dcrconform run    [--config FILE] [--profile P] [--cases 'JWS-*'] [--label-filter EXPR] [--strict]
                    [--fail-fast] [--timeout D] [--preflight-timeout D] [--reports DIR] [--quiet]
  dcrconform list   [--profile P] [--json]
  dcrconform serve  [--profile P] [--fault NAME]... [--addr 127.0.0.1:8443] [--dir DIR] [--list-faults]
  dcrconform verify DIR [--key PUBLIC.jwk]
  dcrconform matrix [--profile P] [--fault NAME] [--json]
  dcrconform version

With no --config, run starts the embedded reference bank on loopback and tests it.
Exit codes: 0 all selected MUST cases passed; 1 a MUST case failed (or SHOULD, with --strict);
2 the run could not be made (config, keys, preflight); 3 MUST cases skipped or inconclusive;
4 interrupted or past the run deadline (reports written, marked INCOMPLETE).
`

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

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "list":
		return cmdList(args[1:], stdout, stderr)
	case "serve":
		return cmdServe(args[1:], stdout, stderr)
	case "verify":
		return cmdVerify(args[1:], stdout, stderr)
	case "matrix":
		return cmdMatrix(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "dcrconform", toolVersion())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "dcrconform: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
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

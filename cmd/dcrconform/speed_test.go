package main

import (
	"strings"
	"testing"
)

// --parallel and --rate take sensible values only; anything else is exit 2 with one line,
// before any key is made or any call is sent.
func TestSpeedFlagsAreChecked(t *testing.T) {
	for _, args := range [][]string{{"--parallel", "0"}, {"--parallel", "-3"}, {"--rate", "-1"}, {"--rate", "NaN"}, {"--rate", "+Inf"}} {
		dir := t.TempDir()
		r := runCLI(t, dir, append([]string{"run"}, args...)...)
		if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, args[0]) {
			t.Errorf("run %v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	if r := runCLI(t, t.TempDir(), "serve", "--latency", "-1s"); r.code != 2 {
		t.Errorf("serve --latency -1s: exit %d, stderr %q", r.code, r.stderr)
	}
}

package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/matrix"
)

// cmdMatrix prints the harness's detection power: the whole catalogue against the reference bank
// once per fault and profile, so it also shows what each fault fails without naming it. A line
// per finished run goes to stderr as it goes (the full matrix takes minutes); the table and the
// "detected N/N" last line go to stdout. It exits 1 unless every declared fault is detected.
func cmdMatrix(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("matrix", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the matrix as JSON")
	jwksTimeout := fs.Duration("jwks-timeout", 0, "reference bank JWKS fetch timeout (default: the bank's own, 2s)")
	quiet := fs.Bool("quiet", false, "do not report each finished run on stderr")
	var profiles, faults listFlag
	fs.Var(&profiles, "profile", "profiles to include (default all; repeatable)")
	fs.Var(&faults, "fault", "faults to include (default all; repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cat := catalogue.Default()
	if err := cat.Validate(); err != nil {
		return fail(stderr, "%v", err)
	}
	opts := matrix.Options{Profiles: profiles, Faults: faults, JWKSTimeout: *jwksTimeout, Progress: stderr}
	if *quiet {
		opts.Progress = nil
	}
	res, err := matrix.Run(context.Background(), cat, opts)
	if err != nil {
		return fail(stderr, "%v", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	} else {
		res.Print(stdout)
	}
	if d, n := res.Score(); d != n || len(res.Unfailable) > 0 || len(res.Uncovered) > 0 || len(res.CleanFailures) > 0 {
		return 1
	}
	return 0
}

package main

import (
	"context"
	"encoding/json"
	"github.com/spf13/cobra"
	"io"
	"time"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/matrix"
)

// cmdMatrix prints the harness's detection power: the whole catalogue against the reference bank
// once per fault and profile, so it also shows what each fault fails without naming it. A line
// per finished run goes to stderr as it goes (the full matrix takes minutes); the table and the
// "detected N/N" last line go to stdout. It exits 1 unless every declared fault is detected.
func newMatrixCmd(stdout, stderr io.Writer, code *int) *cobra.Command {
	var o matrixOptions
	c := &cobra.Command{
		Use:   "matrix",
		Short: "Measure detection power: the catalogue against the reference bank once per fault and profile",
		Long: `Run the whole catalogue against the reference bank clean and once per fault and profile,
and print which cases caught each fault, which failed without naming it, and "detected N/N" last.
Progress goes to stderr. Exit 1 unless every fault is detected and the clean bank fails nothing.`,
		Example: `  dcrconform matrix
  dcrconform matrix --profile obie-3.2 --fault accept-alg-none --json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { *code = cmdMatrix(o, stdout, stderr); return nil },
	}
	f := c.Flags()
	f.BoolVar(&o.asJSON, "json", false, "print the matrix as JSON")
	f.BoolVar(&o.quiet, "quiet", false, "do not report each finished run on stderr")
	f.StringSliceVar(&o.profiles, "profile", nil, "profiles to include (default all; repeatable)")
	faultFlag(f, &o.faults)
	jwksTimeoutFlag(f, &o.jwksTimeout)
	return c
}

type matrixOptions struct {
	asJSON, quiet    bool
	profiles, faults []string
	jwksTimeout      time.Duration
}

func cmdMatrix(o matrixOptions, stdout, stderr io.Writer) int {
	cat := catalogue.Default()
	if err := cat.Validate(); err != nil {
		return fail(stderr, "%v", err)
	}
	opts := matrix.Options{Profiles: o.profiles, Faults: o.faults, JWKSTimeout: o.jwksTimeout, Progress: stderr}
	if o.quiet {
		opts.Progress = nil
	}
	res, err := matrix.Run(context.Background(), cat, opts)
	if err != nil {
		return fail(stderr, "%v", err)
	}
	if o.asJSON {
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

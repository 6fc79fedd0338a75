package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"time"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/matrix"
)

// cmdMatrix prints the harness's detection power: the catalogue against the reference bank once
// per fault and profile. It exits 1 unless every declared fault is detected.
func cmdMatrix(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("matrix", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the matrix as JSON")
	jwksTimeout := fs.Duration("jwks-timeout", time.Second, "reference bank JWKS fetch timeout")
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
	res, err := matrix.Run(context.Background(), cat, matrix.Options{Profiles: profiles, Faults: faults, JWKSTimeout: *jwksTimeout})
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
	if d, n := res.Score(); d != n || len(res.Unfailable) > 0 || len(res.CleanFailures) > 0 {
		return 1
	}
	return 0
}

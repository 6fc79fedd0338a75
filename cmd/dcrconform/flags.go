package main

import (
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/dcrconform/dcrconform/internal/config"
	"github.com/dcrconform/dcrconform/internal/refbank"
)

// The flags several commands share are declared here, once, so they read and default alike.

// profileFlag declares --profile; def is the command's default ("" where the config decides).
func profileFlag(f *pflag.FlagSet, v *string, def string) {
	f.StringVar(v, "profile", def, "profile: revolut, obie-3.1, obie-3.2 or obie-3.3 (default: the config's, else revolut)")
}

// faultFlag declares --fault, for the embedded reference bank.
func faultFlag(f *pflag.FlagSet, v *[]string) {
	f.StringSliceVar(v, "fault", nil, "embedded reference bank: switch on a fault (repeatable, comma-separated; see serve --list-faults)")
}

// jwksTimeoutFlag declares --jwks-timeout, the reference bank's JWKS fetch timeout.
func jwksTimeoutFlag(f *pflag.FlagSet, v *time.Duration) {
	f.DurationVar(v, "jwks-timeout", 2*time.Second, "reference bank: JWKS fetch timeout")
}

// evidenceKeyFlag declares --evidence-key.
func evidenceKeyFlag(f *pflag.FlagSet, v *string) {
	f.StringVar(v, "evidence-key", "", "PEM key that signs the evidence manifest, or env:NAME for a variable holding the PEM; default: $DCRCONFORM_EVIDENCE_KEY, else WORK-DIR/evidence-key.pem (created if absent)")
}

// resolveEvidenceKey turns the --evidence-key value into a path: env:NAME, or with no value a
// DCRCONFORM_EVIDENCE_KEY variable holding a PEM or a path, is a key from the environment (a CI
// secret), written to a private file that release removes. A team then signs every CI run with
// one key, and a certifier checks the bundles with `verify --key`.
func resolveEvidenceKey(v string) (path string, release func(), err error) {
	release = func() {}
	if v == "" {
		if env, ok := os.LookupEnv("DCRCONFORM_EVIDENCE_KEY"); ok && strings.TrimSpace(env) != "" {
			v = env
		}
	}
	path, dir, err := config.PEMFromEnv("--evidence-key", v, "", os.LookupEnv)
	if dir != "" {
		release = func() { os.RemoveAll(dir) }
	}
	if err != nil {
		release()
		return "", func() {}, err
	}
	return path, release, nil
}

// faultNames lists the declared faults, for completion of --fault.
func faultNames() []string {
	var out []string
	for _, f := range refbank.Faults() {
		out = append(out, f.Name)
	}
	return out
}

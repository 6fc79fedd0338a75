package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

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
	content := ""
	switch {
	case strings.HasPrefix(v, "env:"):
		name := strings.TrimPrefix(v, "env:")
		c, ok := os.LookupEnv(name)
		if !ok || strings.TrimSpace(c) == "" {
			return "", release, fmt.Errorf("--evidence-key env:%s: the variable is not set", name)
		}
		content = c
	case strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN"):
		content = v
	default:
		return v, release, nil
	}
	dir, err := os.MkdirTemp("", "dcrconform-evidence-key-")
	if err != nil {
		return "", release, err
	}
	path = dir + string(os.PathSeparator) + "evidence-key.pem"
	if err := os.WriteFile(path, []byte(strings.TrimSpace(content)+"\n"), 0o600); err != nil {
		os.RemoveAll(dir)
		return "", release, err
	}
	return path, func() { os.RemoveAll(dir) }, nil
}

// faultNames lists the declared faults, for completion of --fault.
func faultNames() []string {
	var out []string
	for _, f := range refbank.Faults() {
		out = append(out, f.Name)
	}
	return out
}

package main

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"io"

	"github.com/dcrconform/dcrconform/internal/evidence"
	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/printable"
	"github.com/dcrconform/dcrconform/internal/safefile"
)

// cmdVerify checks an evidence bundle: `dcrconform verify DIR [--key PUBLIC.jwk]`. Exit 0 when the
// bundle is whole (and, with --key, signed by that key); 1 listing every problem; 2 when the
// input is unusable (no such directory, a key file that cannot be read or holds no public key).
// A bundle may come from anyone: every name and value from it is printed through printable, and
// what evidence.Verify and safefile refuse (links inside the bundle, devices, FIFOs, oversized
// files) is a problem or an error, never a hang.
func cmdVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyPath := fs.String("key", "", "public key the bundle must be signed by: a JWK, or a PEM PUBLIC KEY")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dcrconform verify DIR [--key PUBLIC.jwk]")
		fs.PrintDefaults()
	}
	// DIR may come before or after the flags.
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fs.Usage()
		return fail(stderr, "verify needs the bundle directory")
	}
	dir := rest[0]
	if err := fs.Parse(rest[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		return fail(stderr, "verify takes one directory (got also %q)", fs.Arg(0))
	}
	var pub crypto.PublicKey
	if *keyPath != "" {
		var err error
		if pub, err = readVerifyKey(*keyPath); err != nil {
			return fail(stderr, "key %s: %s", printable.String(*keyPath, 0), printable.String(safefile.Reason(err), 0))
		}
	}
	res, err := evidence.Verify(dir, pub)
	if err != nil {
		return fail(stderr, "%s", printable.String(err.Error(), 0))
	}
	shownDir := printable.String(dir, 0)
	if len(res.Problems) > 0 || !res.IntegrityOK || (pub != nil && !res.SignerProven) {
		fmt.Fprintf(stdout, "verification FAILED: %s (%d problems)\n", shownDir, len(res.Problems)+res.Omitted)
		for _, p := range res.Problems {
			fmt.Fprintf(stdout, "  - %s\n", p)
		}
		if res.Omitted > 0 {
			fmt.Fprintf(stdout, "  ... and %d more problems, not listed\n", res.Omitted)
		}
		return 1
	}
	if pub == nil {
		fmt.Fprintln(stdout, "integrity verified; signer NOT proven (no --key given)")
	} else {
		fmt.Fprintln(stdout, "integrity verified; signed by the given key")
	}
	fmt.Fprintf(stdout, "bundle %s: %d files, evidence key kid %s\n", shownDir, res.Files, printable.String(res.Kid, 200))
	return 0
}

// readVerifyKey reads a public key: a single JWK (private members refused) or a PEM PUBLIC KEY,
// from a regular file (a link to one is followed) of at most safefile.MaxJWK bytes.
func readVerifyKey(path string) (crypto.PublicKey, error) {
	data, err := safefile.ReadFile(path, safefile.MaxJWK)
	if err != nil {
		return nil, err
	}
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("PEM block %q is not a PUBLIC KEY", block.Type)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PUBLIC KEY does not parse")
		}
		if _, err := jose.AlgFor(pub); err != nil {
			return nil, err
		}
		return pub, nil
	}
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		return nil, fmt.Errorf("not a JWK or a PEM PUBLIC KEY")
	}
	pub, _, err := jose.ParsePublicJWK(data)
	return pub, err
}

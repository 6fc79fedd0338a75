package main

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"github.com/spf13/cobra"
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
func newVerifyCmd(stdout, stderr io.Writer, code *int) *cobra.Command {
	var keyPath string
	c := &cobra.Command{
		Use:   "verify DIR",
		Short: "Check an evidence bundle: every file's hash, and the manifest's signature",
		Long: `Check an evidence bundle written by run: changed, missing or extra files and a bad signature
are reported (exit 1). With --key it also proves who signed it (the public JWK that
"dcrconform evidence-key" prints, or a PEM PUBLIC KEY).`,
		Example: `  dcrconform verify reports/20260101T120000.000Z
  dcrconform verify reports/20260101T120000.000Z --key team-evidence-key.jwk`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("verify takes one bundle directory (got %d arguments)", len(args))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			*code = cmdVerify(args[0], keyPath, stdout, stderr)
			return nil
		},
	}
	c.Flags().StringVar(&keyPath, "key", "", "public key the bundle must be signed by: a JWK, or a PEM PUBLIC KEY")
	return c
}

func cmdVerify(dir, keyPath string, stdout, stderr io.Writer) int {
	var pub crypto.PublicKey
	if keyPath != "" {
		var err error
		if pub, err = readVerifyKey(keyPath); err != nil {
			return fail(stderr, "key %s: %s", printable.String(keyPath, 0), printable.String(safefile.Reason(err), 0))
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

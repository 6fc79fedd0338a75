package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dcrconform/dcrconform/internal/evidence"
	"github.com/dcrconform/dcrconform/internal/jose"
)

func newEvidenceKeyCmd(stdout, stderr io.Writer, code *int) *cobra.Command {
	var keyFlag, workDir string
	c := &cobra.Command{
		Use:   "evidence-key",
		Short: "Print the public JWK of the key that signs evidence bundles (creating the key if absent)",
		Long: `Print the public half, as a JWK with its kid, of the key run signs evidence manifests with:
--evidence-key, or $DCRCONFORM_EVIDENCE_KEY (a PEM or a path), or WORK-DIR/evidence-key.pem,
created if absent. A team keeps one key as a CI secret and gives this JWK to its certifier, who
checks every bundle with "dcrconform verify DIR --key evidence-key.jwk".`,
		Example: `  dcrconform evidence-key > evidence-key.jwk
  DCRCONFORM_EVIDENCE_KEY="$(cat team-key.pem)" dcrconform evidence-key`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			path, release, err := resolveEvidenceKey(keyFlag)
			if err != nil {
				*code = fail(stderr, "%v", err)
				return nil
			}
			defer release()
			if path == "" {
				path = filepath.Join(workDir, "evidence-key.pem")
			}
			signer, err := evidence.LoadOrCreateEvidenceKey(path)
			if err != nil {
				*code = fail(stderr, "%v", err)
				return nil
			}
			kid, err := jose.Thumbprint(signer.Public())
			if err == nil {
				var doc []byte
				if doc, err = jose.PublicJWK(signer.Public(), kid); err == nil {
					fmt.Fprint(stdout, string(doc))
				}
			}
			if err != nil {
				*code = fail(stderr, "%v", err)
			}
			return nil
		},
	}
	evidenceKeyFlag(c.Flags(), &keyFlag)
	c.Flags().StringVar(&workDir, "work-dir", ".dcrconform", "the run's work directory (where the default key lives)")
	return c
}

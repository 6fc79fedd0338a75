package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/scaffold"
)

func newInitCmd(stdout, stderr io.Writer, code *int) *cobra.Command {
	var o scaffold.Options
	var profileName, out string
	c := &cobra.Command{
		Use:   "init",
		Short: "Make the keys, certificate request, JWKS and config a TPP needs for a real bank",
		Long: `Write into --out what a first run against a real bank needs: the transport key and a
certificate request (transport.csr) for the bank's portal or the Open Banking directory to sign,
the signing key and jwks.json to publish (with its kid), the software statement claims Revolut's
self-signed path sends, the DN the bank will register, and a commented target.yaml. The next
steps are printed. Keys are never overwritten. docs/REAL-BANKS.md walks the steps.`,
		Example: `  dcrconform init --profile revolut --out tpp
  dcrconform init --profile obie-3.2 --out tpp --org-id 0015800001ABCDEFGH --software-id mySoftware01`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			p, err := profile.Get(profileName)
			if err != nil {
				*code = fail(stderr, "%v", err)
				return nil
			}
			o.Profile = p
			res, err := scaffold.Write(out, o)
			if err != nil {
				*code = fail(stderr, "init: %v", err)
				return nil
			}
			fmt.Fprintf(stdout, "wrote %d files to %s (signing kid %s)\n\nNext steps:\n", len(res.Files), res.Dir, res.Kid)
			for _, s := range res.NextSteps {
				fmt.Fprintln(stdout, "  "+s)
			}
			return nil
		},
	}
	f := c.Flags()
	profileFlag(f, &profileName, profile.Default)
	f.StringVar(&out, "out", "tpp", "directory to write into (created; must not hold init's files already)")
	f.StringVar(&o.OrgID, "org-id", "", "the TPP's organisation id (the transport certificate's OU)")
	f.StringVar(&o.SoftwareID, "software-id", "", "the software id (the certificate's CN, the request's iss)")
	f.StringVar(&o.OrgName, "org-name", "", "the organisation's name")
	f.StringSliceVar(&o.RedirectURIs, "redirect-uri", nil, "a redirect URI (repeatable; at least two for the update case)")
	f.StringVar(&o.JWKSURL, "jwks-url", "", "where jwks.json will be published (the bank fetches it)")
	return c
}

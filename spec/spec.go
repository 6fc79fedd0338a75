// Package spec embeds the OpenAPI 3.0.3 documents that describe POST /register for each
// profile the harness knows: Revolut's documented API and Open Banking UK DCR v3.1, v3.2 and
// v3.3. Each document mirrors its source; the contract package validates recorded responses
// against them.
package spec

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.yaml
var files embed.FS

// Document returns the bytes of the embedded OpenAPI document with the given file name, such
// as "revolut.yaml". It returns an error that lists the known file names when there is no
// such document.
func Document(name string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || !fs.ValidPath(name) {
		return nil, unknown(name)
	}
	data, err := files.ReadFile(name)
	if err != nil {
		return nil, unknown(name)
	}
	return data, nil
}

// Names returns the file names of the embedded OpenAPI documents, sorted.
func Names() []string {
	names, err := fs.Glob(files, "*.yaml")
	if err != nil {
		// The pattern is constant and well-formed, so Glob cannot fail.
		panic(err)
	}
	sort.Strings(names)
	return names
}

func unknown(name string) error {
	return fmt.Errorf("spec: no embedded OpenAPI document %q (known: %s)", name, strings.Join(Names(), ", "))
}

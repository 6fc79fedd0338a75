// Command gendoc writes docs/STATEMENTS.md, the statement inventory and its checks, to standard
// output: `go run ./internal/statements/gendoc > docs/STATEMENTS.md` (make docs).
package main

import (
	"fmt"

	"github.com/dcrconform/dcrconform/internal/statements"
)

func main() {
	fmt.Print(statements.Markdown(statements.Inventory()))
}

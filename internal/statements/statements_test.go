package statements

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dcrconform/dcrconform/internal/catalogue"
)

// judgeBodyChecks reads the judge package's source and returns its exported body checks: each
// package-level variable initialised with a BodyCheck literal, and each function returning a
// BodyCheck, mapped to the Name its literal gives. Reading the source, not a hand-kept list,
// is what makes "a check names a body check that does not exist" fail.
func judgeBodyChecks(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../judge/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("judge sources: %v", err)
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					vs, ok := spec.(*ast.ValueSpec)
					if !ok {
						continue
					}
					for i, n := range vs.Names {
						if n.IsExported() && i < len(vs.Values) {
							if name, ok := bodyCheckName(vs.Values[i]); ok {
								out[n.Name] = name
							}
						}
					}
				}
			case *ast.FuncDecl:
				if !d.Name.IsExported() || d.Recv != nil || d.Type.Results == nil || len(d.Type.Results.List) != 1 {
					continue
				}
				if id, ok := d.Type.Results.List[0].Type.(*ast.Ident); !ok || id.Name != "BodyCheck" {
					continue
				}
				ast.Inspect(d.Body, func(n ast.Node) bool {
					if e, ok := n.(ast.Expr); ok {
						if name, ok := bodyCheckName(e); ok {
							out[d.Name.Name] = name
							return false
						}
					}
					return true
				})
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("found only %d body checks in the judge: %v", len(out), out)
	}
	return out
}

// bodyCheckName returns the Name of a BodyCheck{Name: "...", ...} literal.
func bodyCheckName(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return "", false
	}
	if id, ok := lit.Type.(*ast.Ident); !ok || id.Name != "BodyCheck" {
		return "", false
	}
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Name" {
			if s, ok := kv.Value.(*ast.BasicLit); ok {
				name, err := strconv.Unquote(s.Value)
				return name, err == nil
			}
		}
	}
	return "", false
}

func known(t *testing.T) Known {
	t.Helper()
	k, err := KnownFrom(catalogue.Default(), judgeBodyChecks(t))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestEveryStatementIsCoveredOrExplained is the rule of the inventory: each statement has a
// check that exists (a case of the catalogue, a body check that case makes, a schema rule that
// resolves) or says why it has none.
func TestEveryStatementIsCoveredOrExplained(t *testing.T) {
	for _, p := range Validate(Inventory(), known(t)) {
		t.Error(p)
	}
}

// TestValidateRefusesBadInventories proves the rule above can fail: each synthetic statement
// breaks it one way, and Validate must say so.
func TestValidateRefusesBadInventories(t *testing.T) {
	k := known(t)
	good := Statement{ID: "TEST-SYN-001", Source: at("seeds/x.md", "s"), Words: "w", Checks: []Check{c("HP-01")}}
	if p := Validate([]Statement{good}, k); len(p) != 0 {
		t.Fatalf("the control statement is refused: %v", p)
	}
	with := func(f func(s *Statement)) []Statement {
		s := good
		s.Checks = append([]Check(nil), good.Checks...)
		f(&s)
		return []Statement{s}
	}
	for name, tc := range map[string]struct {
		inv     []Statement
		mention string
	}{
		"no check nor reason":       {with(func(s *Statement) { s.Checks = nil }), "neither a check nor a reason"},
		"blank reason":              {with(func(s *Statement) { s.Checks, s.Uncovered = nil, "  " }), "neither a check nor a reason"},
		"check and reason":          {with(func(s *Statement) { s.Uncovered = "because" }), "keep one"},
		"unknown case":              {with(func(s *Statement) { s.Checks = []Check{c("HP-99")} }), "no such case"},
		"unknown variant":           {with(func(s *Statement) { s.Checks = []Check{c("CLM-12/nope")} }), "no such case"},
		"unknown body check":        {with(func(s *Statement) { s.Checks = []Check{cb("HP-01", "NoSuchCheck")} }), "exports no BodyCheck"},
		"body check the case lacks": {with(func(s *Statement) { s.Checks = []Check{cb("HP-03", "ClientID")} }), "does not make the body check"},
		"echo of an unsent claim":   {with(func(s *Statement) { s.Checks = []Check{cb("SCH-12", "Echoes(scope)")} }), "is not given scope"},
		"body check without case":   {with(func(s *Statement) { s.Checks = []Check{{Body: "ClientID"}} }), "inside a case"},
		"unknown spec":              {with(func(s *Statement) { s.Checks = []Check{rule("nope.yaml", "/paths")} }), "no such OpenAPI document"},
		"dangling pointer":          {with(func(s *Statement) { s.Checks = []Check{rev("no_such_member")} }), "resolves to nothing"},
		"empty check":               {with(func(s *Statement) { s.Checks = []Check{{}} }), "names nothing"},
		"bad ID":                    {with(func(s *Statement) { s.ID = "rev-1" }), "ID must look like"},
		"no words":                  {with(func(s *Statement) { s.Words = "" }), "words"},
		"duplicate ID":              {append(with(func(*Statement) {}), good), "duplicate"},
	} {
		p := Validate(tc.inv, k)
		if len(p) == 0 {
			t.Errorf("%s: Validate accepted it", name)
			continue
		}
		if !strings.Contains(strings.Join(p, "\n"), tc.mention) {
			t.Errorf("%s: problems %q do not say %q", name, p, tc.mention)
		}
	}
}

// TestInventoryCoversTheDocuments holds the inventory to the documents' lists of fields: every
// response attribute of both Revolut pages and every field of the OBIE v3.1 data dictionary has
// a statement of its own source.
func TestInventoryCoversTheDocuments(t *testing.T) {
	revolutAttrs := []string{"iss", "iat", "exp", "application_type", "client_id", "token_endpoint_auth_method",
		"tls_client_auth_dn", "software_statement", "id_token_signed_response_alg", "request_object_signing_alg",
		"redirect_uris", "org_jwks_endpoint", "grant_types", "scope"}
	dictionary := []string{"iss", "iat", "exp", "aud", "jti", "client_id", "client_secret", "redirect_uris",
		"token_endpoint_auth_method", "grant_types", "response_types", "software_id", "scope", "software_statement",
		"application_type", "id_token_signed_response_alg", "request_object_signing_alg",
		"token_endpoint_auth_signing_alg", "tls_client_auth_dn"}
	sections := map[string]map[string]bool{}
	for _, s := range Inventory() {
		if sections[s.Source.File] == nil {
			sections[s.Source.File] = map[string]bool{}
		}
		sections[s.Source.File][s.Source.Section] = true
	}
	has := func(file, suffix string) bool {
		for sec := range sections[file] {
			if strings.HasSuffix(sec, "/ "+suffix) {
				return true
			}
		}
		return false
	}
	for _, a := range revolutAttrs {
		for _, file := range []string{seedRegister, seedClientID} {
			if !has(file, a) {
				t.Errorf("%s: no statement about the response attribute %s", file, a)
			}
		}
	}
	for _, f := range dictionary {
		if !has(specCatalog, f) {
			t.Errorf("%s: no statement about the data dictionary field %s", specCatalog, f)
		}
	}
}

// TestStatementsDocIsCurrent fails when docs/STATEMENTS.md no longer matches the inventory.
func TestStatementsDocIsCurrent(t *testing.T) {
	got, err := os.ReadFile("../../docs/STATEMENTS.md")
	if err != nil {
		t.Fatalf("docs/STATEMENTS.md: %v (run make docs)", err)
	}
	if string(got) != Markdown(Inventory()) {
		t.Fatal("docs/STATEMENTS.md is stale: run `go run ./internal/statements/gendoc > docs/STATEMENTS.md` (make docs)")
	}
}

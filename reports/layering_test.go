package reports

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestRendererAsksClassifyOnly: reports renders what classify decided and
// reaches into neither the VRP index nor the coverage index (issue 13): no
// non-test file selects the Index or Coverage field of an Analysis. A
// verdict or query a renderer needs belongs in classify, beside its rule.
func TestRendererAsksClassifyOnly(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Index" || sel.Sel.Name == "Coverage") {
				if _, isPkg := sel.X.(*ast.Ident); isPkg && isImportName(f, sel.X.(*ast.Ident).Name) {
					return true // bytes.Index and the like
				}
				t.Errorf("%s: selects .%s: ask classify.Analysis instead", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no source files checked")
	}
}

// isImportName says whether name is a package imported by f.
func isImportName(f *ast.File, name string) bool {
	for _, imp := range f.Imports {
		path := strings.Trim(imp.Path.Value, `"`)
		if imp.Name != nil && imp.Name.Name == name || imp.Name == nil && path[strings.LastIndex(path, "/")+1:] == name {
			return true
		}
	}
	return false
}

package jsiienv

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoJSIIAtInit: a package-level variable whose value calls into aws-cdk-go or constructs-go
// starts the jsii Node.js process when the package is initialized, before any importer's code
// runs (so before Quiet, and for importers that only want a constant). None of the packages that
// build or read the construct may have one.
func TestNoJSIIAtInit(t *testing.T) {
	for _, dir := range []string{"../passwordless", "../cdktest", "../cfn", "../../infra/stacks", "../../infra/local/harness"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v (%d files)", dir, err, len(files))
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			checkFile(t, f)
		}
	}
}

func checkFile(t *testing.T, path string) {
	t.Helper()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	cdk := map[string]bool{}
	for _, imp := range file.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if !strings.HasPrefix(p, "github.com/aws/aws-cdk-go/") && !strings.HasPrefix(p, "github.com/aws/constructs-go/") {
			continue
		}
		name := p[strings.LastIndex(p, "/")+1:]
		if strings.HasPrefix(name, "v") && strings.Count(p, "/") > 3 { // .../awscdk/v2, .../constructs/v10
			q := strings.TrimSuffix(p, "/"+name)
			name = q[strings.LastIndex(q, "/")+1:]
		}
		if imp.Name != nil {
			name = imp.Name.Name
		}
		cdk[name] = true
	}
	for _, d := range file.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		ast.Inspect(g, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && cdk[x.Name] {
					t.Errorf("%s: package-level variable calls %s.%s at init (starts jsii)", fset.Position(call.Pos()), x.Name, sel.Sel.Name)
				}
			}
			return true
		})
	}
}

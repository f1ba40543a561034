package passwordless_test

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/notify"
)

const (
	constructPkg = passwordless.ModulePath + "/constructs/passwordless"
	lambdasPkgs  = passwordless.ModulePath + "/lambdas"
)

// exportImporter imports the packages paths depend on (and paths themselves) from the
// compiler's export data (go list -export): the same facts the compiler has, without
// type-checking their sources again.
func exportImporter(t *testing.T, paths ...string) types.Importer {
	t.Helper()
	args := append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}, paths...)
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -export %v: %v", paths, err)
	}
	exports := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if p, file, ok := strings.Cut(sc.Text(), "\t"); ok && file != "" {
			exports[p] = file
		}
	}
	return importer.ForCompiler(token.NewFileSet(), "gc", func(p string) (io.ReadCloser, error) {
		file, ok := exports[p]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", p)
		}
		return os.Open(file)
	})
}

// loadAPI reads the exported API of package path from its export data.
func loadAPI(t *testing.T, path string) *types.Package {
	t.Helper()
	pkg, err := exportImporter(t, path).Import(path)
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	return pkg
}

// lambdaTypesIn lists every place in pkg's exported API (exported constants, variables,
// functions, types, their exported fields and methods, recursively through the package's own
// types) whose type is declared in a package under ModulePath/lambdas, as "where: type".
func lambdaTypesIn(pkg *types.Package) []string {
	var found []string
	seen := map[*types.TypeName]bool{}
	var visit func(where string, t types.Type)
	visitNamed := func(where string, obj *types.TypeName, under types.Type, n *types.Named) {
		if seen[obj] {
			return
		}
		seen[obj] = true
		if s, ok := under.(*types.Struct); ok {
			for f := range s.Fields() {
				if f.Exported() || f.Embedded() {
					visit(obj.Name()+"."+f.Name(), f.Type())
				}
			}
		} else {
			visit(obj.Name(), under)
		}
		if n == nil {
			return
		}
		for m := range n.Methods() {
			if m.Exported() {
				visit(obj.Name()+"."+m.Name(), m.Type())
			}
		}
	}
	visit = func(where string, t types.Type) {
		switch t := t.(type) {
		case *types.Alias:
			visit(where, types.Unalias(t))
		case *types.Named:
			obj := t.Obj()
			if obj.Pkg() != nil {
				if p := obj.Pkg().Path(); p == lambdasPkgs || strings.HasPrefix(p, lambdasPkgs+"/") {
					found = append(found, where+": "+types.TypeString(t, nil))
					return
				}
			}
			for a := range t.TypeArgs().Types() {
				visit(where, a)
			}
			if obj.Pkg() == pkg {
				visitNamed(where, obj, t.Underlying(), t)
			}
		case *types.Pointer:
			visit(where, t.Elem())
		case *types.Slice:
			visit(where, t.Elem())
		case *types.Array:
			visit(where, t.Elem())
		case *types.Map:
			visit(where, t.Key())
			visit(where, t.Elem())
		case *types.Chan:
			visit(where, t.Elem())
		case *types.Signature:
			for v := range t.Params().Variables() {
				visit(where+" (parameter "+v.Name()+")", v.Type())
			}
			for v := range t.Results().Variables() {
				visit(where+" (result)", v.Type())
			}
		case *types.Struct:
			for f := range t.Fields() {
				if f.Exported() || f.Embedded() {
					visit(where+"."+f.Name(), f.Type())
				}
			}
		case *types.Interface:
			for m := range t.Methods() {
				if m.Exported() {
					visit(where+"."+m.Name(), m.Type())
				}
			}
		}
	}
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		visit(name, obj.Type())
	}
	slices.Sort(found)
	return slices.Compact(found)
}

// TestAPIOwnTypes: a user configures the construct importing this package (and aws-cdk-go)
// alone, so no exported identifier of the package may have a type of a package under lambdas/:
// exported constants, variables and functions, every exported type's exported fields and
// methods, recursively through the package's own types (Props, its nested props, Passwordless).
// The construct translates its own types to the Lambda packages' internally.
func TestAPIOwnTypes(t *testing.T) {
	pkg := loadAPI(t, constructPkg)
	if found := lambdaTypesIn(pkg); len(found) > 0 {
		t.Errorf("exported API of %s uses types of %s/...; give the construct its own type and translate:\n  %s",
			constructPkg, lambdasPkgs, strings.Join(found, "\n  "))
	}
	// The walk reaches the nested props (so a type from lambdas there would be found).
	for _, name := range []string{"Props", "PasskeyProps", "LockoutProps", "NotificationProps", "NotificationTemplates", "SMSProps", "Limit", "Method"} {
		if pkg.Scope().Lookup(name) == nil {
			t.Errorf("export data has no %s", name)
		}
	}
}

// TestAPIOwnTypesFinds proves the walk of TestAPIOwnTypes finds lambdas types where they can
// hide: a field, a field of a nested struct behind a pointer and a slice, a map key and value,
// a function parameter and result, an exported method, a variable and a typed constant; and
// that it ignores unexported fields and functions and other packages' types.
func TestAPIOwnTypesFinds(t *testing.T) {
	src := `package fake
import (
	"time"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/lockout"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/store"
)
type Props struct {
	Lockout lockout.Config
	Nested  *Nested
	Fine    time.Duration
	hidden  store.Limit
}
type Nested struct{ Inner []Inner }
type Inner struct{ Templates map[notify.Kind]string }
type Own string
func (Own) Flow() authflow.Method { return "" }
func (Own) flow() authflow.Method { return "" }
func New(p *Props, m authflow.Method) (store.Limit, error) { return store.Limit{}, nil }
func unexported(authflow.Config) {}
var Kinds = []notify.Kind{notify.KeyAdded}
const Locked = notify.AccountLocked
const Untyped = authflow.EnvMethods
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "fake.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	imp := exportImporter(t, lambdasPkgs+"/authflow", lambdasPkgs+"/lockout", lambdasPkgs+"/notify", lambdasPkgs+"/store")
	pkg, err := (&types.Config{Importer: imp}).Check("example.com/fake", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := lambdaTypesIn(pkg)
	want := []string{
		"Inner.Templates: " + lambdasPkgs + "/notify.Kind",
		"Kinds: " + lambdasPkgs + "/notify.Kind",
		"Locked: " + lambdasPkgs + "/notify.Kind",
		"New (parameter m): " + lambdasPkgs + "/authflow.Method",
		"New (result): " + lambdasPkgs + "/store.Limit",
		"Own.Flow (result): " + lambdasPkgs + "/authflow.Method",
		"Props.Lockout: " + lambdasPkgs + "/lockout.Config",
	}
	if !slices.Equal(got, want) {
		t.Errorf("found:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestAPIValuesMatchLambdas: the construct's names carry the same values the functions read
// (methods in SIGN_IN_METHODS, kinds in NOTIFY_EVENTS), and its defaults are the packages'.
func TestAPIValuesMatchLambdas(t *testing.T) {
	methods := map[passwordless.Method]authflow.Method{
		passwordless.EmailOTP: authflow.EmailOTP, passwordless.SMSOTP: authflow.SMSOTP,
		passwordless.DeviceKey: authflow.DeviceKey, passwordless.Passkey: authflow.Passkey,
		passwordless.MagicLink: authflow.MagicLink,
	}
	if len(passwordless.Methods) != len(methods) {
		t.Errorf("Methods has %d entries, want %d", len(passwordless.Methods), len(methods))
	}
	for _, m := range passwordless.Methods {
		want, ok := methods[m]
		if !ok || string(m) != string(want) {
			t.Errorf("method %q: authflow has %q", m, want)
		}
		if _, err := authflow.ParseMethod(string(m)); err != nil {
			t.Errorf("authflow refuses method %q: %v", m, err)
		}
	}
	if len(passwordless.NotificationKinds) != len(notify.Kinds) {
		t.Fatalf("NotificationKinds has %d kinds, notify.Kinds %d", len(passwordless.NotificationKinds), len(notify.Kinds))
	}
	for i, k := range passwordless.NotificationKinds {
		if string(k) != string(notify.Kinds[i]) {
			t.Errorf("kind %d: %q, notify has %q", i, k, notify.Kinds[i])
		}
	}
	if passwordless.DefaultLockoutLimit != lockout.DefaultLimit || passwordless.DefaultLockoutWindow != lockout.DefaultWindow {
		t.Errorf("lockout defaults %d/%v, package lockout %d/%v", passwordless.DefaultLockoutLimit, passwordless.DefaultLockoutWindow, lockout.DefaultLimit, lockout.DefaultWindow)
	}
	// Every field of passkey.Config has its namesake in PasskeyProps, so none is lost in translation.
	pk := loadAPI(t, constructPkg).Scope().Lookup("PasskeyProps").Type().Underlying().(*types.Struct)
	names := map[string]bool{}
	for f := range pk.Fields() {
		names[f.Name()] = true
	}
	cfg := loadAPI(t, lambdasPkgs+"/passkey/passkeyconf").Scope().Lookup("Config").Type().Underlying().(*types.Struct)
	for f := range cfg.Fields() {
		if !names[f.Name()] {
			t.Errorf("passkey.Config.%s has no PasskeyProps field", f.Name())
		}
	}
}

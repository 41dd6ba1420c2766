package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"sort"
	"strings"
	"testing"
)

// The command tree is what NewRoot lists: one top-level command per factory of
// commandFactories, each name once, and the sandbox subcommands of sandboxSubcommandFactories
// under `sandbox`.
func TestCommandTreeIsNewRootsList(t *testing.T) {
	g := &Globals{Getenv: os.Getenv}
	root := NewRoot(g)
	var want []string
	for _, f := range commandFactories() {
		want = append(want, f(&Globals{Getenv: os.Getenv}).Name())
	}
	var got []string
	for _, c := range root.Commands() {
		if c.Name() == "help" {
			continue // cobra's own, added lazily
		}
		got = append(got, c.Name())
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("root commands %v, NewRoot's list %v", got, want)
	}
	seen := map[string]bool{}
	for _, n := range want {
		if seen[n] {
			t.Errorf("command %q is listed twice", n)
		}
		seen[n] = true
	}
	sb, _, err := root.Find([]string{"sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sandboxSubcommandFactories() {
		name := f(g).Name()
		if c, rest, err := sb.Find([]string{name}); err != nil || len(rest) > 0 || c == sb {
			t.Errorf("sandbox %s is listed but not in the tree", name)
		}
	}
}

// No registration by side effect: the package has no init function, and every command
// constructor (func newXxxCmd(*Globals) *cobra.Command) is used by non-test code, so none is
// declared but left out of the tree.
func TestNoInitRegistrationAndEveryCommandConstructorIsUsed(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	pkg := pkgs["cli"]
	if pkg == nil {
		t.Fatal("package cli not found")
	}
	ctors := map[string]token.Position{}
	used := map[string]bool{}
	for _, f := range pkg.Files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil {
				continue
			}
			if fd.Name.Name == "init" {
				t.Errorf("%s: func init registers by side effect; list it in registry.go instead", fset.Position(fd.Pos()))
			}
			if strings.HasPrefix(fd.Name.Name, "new") && strings.HasSuffix(fd.Name.Name, "Cmd") &&
				fd.Type.Results != nil && len(fd.Type.Results.List) == 1 && exprString(fd.Type.Results.List[0].Type) == "*cobra.Command" {
				ctors[fd.Name.Name] = fset.Position(fd.Pos())
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if fd, ok := n.(*ast.FuncDecl); ok {
				// the declaration's own name is not a use; walk its body only
				if fd.Body != nil {
					ast.Inspect(fd.Body, func(m ast.Node) bool {
						if id, ok := m.(*ast.Ident); ok {
							used[id.Name] = true
						}
						return true
					})
				}
				return false
			}
			return true
		})
	}
	if len(ctors) < 20 {
		t.Fatalf("found only %d command constructors; the test no longer sees them", len(ctors))
	}
	for name, pos := range ctors {
		if !used[name] {
			t.Errorf("%s: %s is never called, so its command is not in the tree", pos, name)
		}
	}
}

func exprString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.StarExpr:
		return "*" + exprString(x.X)
	case *ast.SelectorExpr:
		return exprString(x.X) + "." + x.Sel.Name
	case *ast.Ident:
		return x.Name
	}
	return ""
}

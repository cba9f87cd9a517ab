package layout

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Limits on the size of code outside tests and examples.
const (
	maxFuncLines = 80
	maxFileLines = 500
)

// module is the module path every package of the repository starts with.
const module = "github.com/couponkit/couponkit"

// root is the module's directory, two levels up from this package.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// packages maps each package directory of the module (relative, with "."
// for the root) to the paths of its .go files outside tests. Directories
// under examples/ and testdata/ and hidden ones are left out.
func packages(t *testing.T) map[string][]string {
	t.Helper()
	base := root(t)
	out := map[string][]string{}
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != base && (strings.HasPrefix(name, ".") || name == "examples" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(base, filepath.Dir(p))
		out[filepath.ToSlash(rel)] = append(out[filepath.ToSlash(rel)], p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out["."]) == 0 {
		t.Fatal("no source files found in the module's root")
	}
	return out
}

// TestSmallFunctionsAndFiles checks that no function is longer than 80
// lines and no file longer than 500, in every package outside tests and
// examples (storetest counts: it is code other modules run).
func TestSmallFunctionsAndFiles(t *testing.T) {
	base := root(t)
	fset := token.NewFileSet()
	for _, files := range packages(t) {
		for _, p := range files {
			f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(base, p)
			if n := fset.File(f.Pos()).LineCount(); n > maxFileLines {
				t.Errorf("%s: %d lines; a file has at most %d: split it by concern", rel, n, maxFileLines)
			}
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				from, to := fset.Position(fn.Pos()).Line, fset.Position(fn.End()).Line
				if n := to - from + 1; n > maxFuncLines {
					t.Errorf("%s:%d: %s is %d lines; a function has at most %d", rel, from, fn.Name.Name, n, maxFuncLines)
				}
			}
		}
	}
}

// imports returns the module-internal and third-party imports of the
// package in dir (relative), outside tests, as paths relative to the
// module ("." for the root) or as full paths for other modules.
func imports(t *testing.T, files []string) []string {
	t.Helper()
	fset := token.NewFileSet()
	var out []string
	for _, p := range files {
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, spec := range f.Imports {
			ip, _ := strconv.Unquote(spec.Path.Value)
			switch {
			case ip == module:
				ip = "."
			case strings.HasPrefix(ip, module+"/"):
				ip = strings.TrimPrefix(ip, module+"/")
			case !strings.Contains(strings.Split(ip, "/")[0], "."):
				continue // the standard library
			}
			if !slices.Contains(out, ip) {
				out = append(out, ip)
			}
		}
	}
	return out
}

// pure are the packages that decide without I/O: they may import one
// another, the standard library and decimal arithmetic, nothing else.
var pure = []string{"basket", "codegen", "coupon", "errcode", "lease", "limits", "refusal", "series", "internal/input"}

// isStore reports whether a package is the store contract or a store;
// the test-support packages under store (named ...test, as storetest is)
// run the engine over a store and are not stores.
func isStore(pkg string) bool {
	if strings.HasSuffix(pkg, "test") {
		return false
	}
	return pkg == "store" || strings.HasPrefix(pkg, "store/")
}

// TestImportGraph checks that dependencies run one way: the pure packages
// import no store, engine or bulk code; stores import no engine; the
// engine and bulk import the store contract, never a concrete store.
func TestImportGraph(t *testing.T) {
	for pkg, files := range packages(t) {
		for _, imp := range imports(t, files) {
			var why string
			switch {
			case slices.Contains(pure, pkg) && !slices.Contains(pure, imp) && imp != "github.com/shopspring/decimal":
				why = "a pure package imports only other pure packages and decimal"
			case isStore(pkg) && (imp == "." || imp == "bulk" || imp == "storetest"):
				why = "a store imports no engine code"
			case (pkg == "." || pkg == "bulk") && isStore(imp) && imp != "store":
				why = "the engine depends on the store contract, never on a concrete store"
			}
			if why != "" {
				t.Errorf("%s imports %s: %s", pkg, imp, why)
			}
		}
	}
}

// TestTillBuildLinksNoPostgres checks that a till built on SQLite (the
// point-of-sale example, the fleet example's till process, and the
// store/sqlite package they use) does not link the PostgreSQL driver:
// tills ship the smallest binary that works offline. The PostgreSQL store
// links no SQLite either. (The fleet example's command is central and
// till in one demo binary; its till side is package tillproc, checked
// here, and the central's code is in package central.)
func TestTillBuildLinksNoPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("lists dependencies with the go tool")
	}
	for _, c := range []struct{ pkg, needs, banned string }{
		{"./examples/pos", "modernc.org/sqlite", "github.com/jackc/pgx"},
		{"./examples/fleet/tillproc", "modernc.org/sqlite", "github.com/jackc/pgx"},
		{"./store/sqlite", "modernc.org/sqlite", "github.com/jackc/pgx"},
		{"./store/postgres", "github.com/jackc/pgx/v5", "modernc.org/sqlite"},
	} {
		deps := goListDeps(t, c.pkg)
		if !slices.Contains(deps, c.needs) {
			t.Errorf("%s does not link %s: the check lists the wrong package", c.pkg, c.needs)
		}
		var bad []string
		for _, d := range deps {
			if strings.HasPrefix(d, c.banned) {
				bad = append(bad, d)
			}
		}
		if len(bad) > 0 {
			t.Errorf("%s links %d packages of %s (%s, ...): it must not depend on them", c.pkg, len(bad), c.banned, bad[0])
		}
	}
}

// goListDeps returns the packages pkg depends on, by `go list -deps`.
func goListDeps(t *testing.T, pkg string) []string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the dependencies with")
	}
	cmd := exec.Command(goCmd, "list", "-deps", pkg)
	cmd.Dir = root(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

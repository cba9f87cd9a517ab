// Package layout holds the tests that keep the module's structure: small
// functions and small files in the root package (the engine) and the
// store packages, outside tests; and a till that links one database
// driver only.
package layout

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Limits on the size of code outside tests and examples.
const (
	maxFuncLines = 80
	maxFileLines = 500
)

// root is the module's directory, two levels up from this package.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// checked are the package directories whose sizes are kept, relative to
// the module's root.
var checked = []string{".", "store", "store/memstore", "store/sqlite", "store/postgres",
	"store/internal/sqlcore", "store/internal/sqltest"}

// sources returns the .go files of the checked packages, outside tests.
func sources(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, dir := range checked {
		all, err := filepath.Glob(filepath.Join(root(t), dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		n := len(out)
		for _, p := range all {
			if !strings.HasSuffix(p, "_test.go") {
				out = append(out, p)
			}
		}
		if len(out) == n {
			t.Fatalf("no source files found in %s", dir)
		}
	}
	return out
}

// TestSmallFunctionsAndFiles checks that no function is longer than 80
// lines and no file longer than 500, outside tests.
func TestSmallFunctionsAndFiles(t *testing.T) {
	base := root(t)
	fset := token.NewFileSet()
	for _, path := range sources(t) {
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(base, path)
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

// TestTillLinksNoPgx: a till built on SQLite (examples/pos, and the
// store/sqlite package it uses) links no package of pgx, PostgreSQL's
// driver; the PostgreSQL store links no SQLite.
func TestTillLinksNoPgx(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the dependencies with")
	}
	for pkg, banned := range map[string]string{
		"./examples/pos":   "github.com/jackc/pgx",
		"./store/sqlite":   "github.com/jackc/pgx",
		"./store/postgres": "modernc.org/sqlite",
	} {
		cmd := exec.Command(goCmd, "list", "-deps", pkg)
		cmd.Dir = root(t)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		if len(deps) == 0 {
			t.Fatalf("go list -deps %s lists nothing", pkg)
		}
		for _, d := range deps {
			if strings.HasPrefix(d, banned) {
				t.Errorf("%s links %s", pkg, d)
			}
		}
	}
}

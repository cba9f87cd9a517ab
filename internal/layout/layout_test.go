// Package layout holds the tests that keep the module's structure: small
// functions and small files. It checks the root package (the engine), its
// files outside tests.
package layout

import (
	"go/ast"
	"go/parser"
	"go/token"
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

// sources returns the .go files of the root package, outside tests.
func sources(t *testing.T) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(root(t), "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range all {
		if !strings.HasSuffix(p, "_test.go") {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatal("no source files found in the module's root")
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

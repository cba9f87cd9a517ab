package sqlcore_test

import (
	"slices"
	"testing"

	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// TestSplitSQL splits migration files into statements: at a ";" ending a
// line, never inside a $$-quoted function body, with whole-line comments
// dropped.
func TestSplitSQL(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      []string
	}{
		{"statements", "CREATE TABLE a (x INT);\n-- a comment; not a statement\nCREATE INDEX a_x ON a (x);\n",
			[]string{"CREATE TABLE a (x INT)", "CREATE INDEX a_x ON a (x)"}},
		{"no final newline", "SELECT 1;\nSELECT 2;", []string{"SELECT 1", "SELECT 2"}},
		{"a semicolon inside a line", "SELECT ';' AS x;\n", []string{"SELECT ';' AS x"}},
		{"a function body", "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n\tRETURN NULL;\nEND\n$$;\nCREATE TRIGGER t AFTER INSERT ON a EXECUTE FUNCTION f();\n",
			[]string{"CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n\tRETURN NULL;\nEND\n$$",
				"CREATE TRIGGER t AFTER INSERT ON a EXECUTE FUNCTION f()"}},
		{"empty", "-- only a comment\n\n", nil},
	} {
		if got := sqlcore.SplitSQL(c.src); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

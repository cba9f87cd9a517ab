package sqlstore

import (
	"strings"
	"testing"
)

// TestMigrationsSplit checks that each migration splits into single
// statements: the files end statements with ";" at the end of a line and
// keep comments on lines of their own.
func TestMigrationsSplit(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres} {
		ms, err := migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 || ms[len(ms)-1].version != SchemaVersion() {
			t.Fatalf("%s: migrations up to %d, want %d", d, ms[len(ms)-1].version, SchemaVersion())
		}
		for _, m := range ms {
			for _, st := range m.stmts {
				if strings.Contains(st, ";") || strings.Contains(st, "--") || !strings.HasPrefix(st, "CREATE ") {
					t.Errorf("%s %s: statement %q is not one CREATE without comments", d, m.name, st)
				}
			}
		}
	}
}

func TestKeyText(t *testing.T) {
	seen := map[string]string{}
	for _, s := range []string{"", "a", "a\x00", "a\\0", "a\\\x00", "\\", "\\\\", "\x00\x00", "\x00\\0"} {
		k := keyText(s)
		if strings.IndexByte(k, 0) >= 0 {
			t.Errorf("keyText(%q) = %q holds NUL", s, k)
		}
		if o, dup := seen[k]; dup {
			t.Errorf("keyText(%q) = keyText(%q) = %q", s, o, k)
		}
		seen[k] = s
	}
	if keyText("plain") != "plain" {
		t.Error("a plain key is changed")
	}
}

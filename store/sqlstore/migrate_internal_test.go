package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/store"
)

// TestMigrationsSplit checks that each migration splits into single
// statements: the files end statements with ";" at the end of a line and
// keep comments on lines of their own. Each statement creates, alters or
// drops a table or index, or moves rows.
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
				verb, _, _ := strings.Cut(st, " ")
				if strings.Contains(st, ";") || strings.Contains(st, "--") ||
					!slices.Contains([]string{"CREATE", "ALTER", "DROP", "INSERT", "UPDATE"}, verb) {
					t.Errorf("%s %s: statement %q is not one CREATE, ALTER, DROP, INSERT or UPDATE without comments", d, m.name, st)
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

// TestMigrateAudienceFromVersion1 upgrades a database at schema version 1
// holding audience members: they stay on the list, with no time added, and
// the upgraded list takes members with their time.
func TestMigrateAudienceFromVersion1(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			db := openRawDB(t, d)
			ctx := context.Background()
			ms, err := migrations(d)
			if err != nil || ms[0].version != 1 {
				t.Fatalf("migrations: %v", err)
			}
			for _, st := range append(ms[0].stmts, migrationsTable,
				"INSERT INTO ck_migrations (version, name, applied_at) VALUES (1, '"+ms[0].name+"', 0)",
				"INSERT INTO ck_audience (series_id, customer) VALUES ('s1', 'bob'), ('s1', 'alice')") {
				if _, err := db.ExecContext(ctx, st); err != nil {
					t.Fatalf("setting up version 1: %v", err)
				}
			}
			s := New(db, d)
			t.Cleanup(func() { s.Close() })
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate from version 1: %v", err)
			}
			if d == Postgres {
				// The list pages byte-wise whatever the database's collation.
				var coll sql.NullString
				err := db.QueryRowContext(ctx, "SELECT collation_name FROM information_schema.columns "+
					"WHERE table_schema = current_schema() AND table_name = 'ck_audience' AND column_name = 'customer'").Scan(&coll)
				if err != nil || coll.String != "C" {
					t.Errorf("ck_audience.customer collation: %v, %v; want C", coll, err)
				}
			}
			at := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
			if err := s.Apply(ctx, &store.Change{Audience: []store.AudienceUpdate{{SeriesID: "s1", Customer: "carol", At: at}}}); err != nil {
				t.Fatalf("Apply after the upgrade: %v", err)
			}
			got, err := s.Audience(ctx, store.AudienceQuery{SeriesID: "s1"})
			want := []store.AudienceMember{{Customer: "alice"}, {Customer: "bob"}, {Customer: "carol", AddedAt: at}}
			if err != nil || len(got) != len(want) {
				t.Fatalf("Audience after the upgrade: %v, %v; want %v", got, err, want)
			}
			for i := range want {
				if got[i].Customer != want[i].Customer || !got[i].AddedAt.Equal(want[i].AddedAt) {
					t.Errorf("member %d: %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
}

// openRawDB opens an empty database of dialect d: a SQLite file, or a
// fresh PostgreSQL schema (skipping the test without a DSN).
func openRawDB(t *testing.T, d Dialect) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if d == SQLite {
		db, err = OpenSQLite(filepath.Join(t.TempDir(), "ck.db"))
	} else {
		dsn := os.Getenv("COUPONKIT_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("set COUPONKIT_TEST_POSTGRES to a PostgreSQL DSN to run this test")
		}
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		db, err = sql.Open("pgx", dsn+sep+"search_path="+newTestSchema(t, dsn))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestMigrateIssueKeysFromVersion1 upgrades a database at schema version 1
// holding a coupon: the coupon reads back as it was, without an issue key,
// and the upgraded table keeps issue keys unique per series.
func TestMigrateIssueKeysFromVersion1(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			db := openRawDB(t, d)
			ctx := context.Background()
			ms, err := migrations(d)
			if err != nil || ms[0].version != 1 {
				t.Fatalf("migrations: %v", err)
			}
			for _, st := range append(ms[0].stmts, migrationsTable,
				"INSERT INTO ck_migrations (version, name, applied_at) VALUES (1, '"+ms[0].name+"', 0)",
				`INSERT INTO ck_series (id, status, version, doc) VALUES ('s1', 1, 1, '{"ID":"s1"}')`,
				"INSERT INTO ck_coupons (id, series_id, code, canonical, shared, state, holder, redemptions, holds, reversed, "+
					"reissued_from, reissued_to, version, slot) VALUES ('old', 's1', 'Old', 'OLD', false, 2, 'alice', 0, 0, false, '', '', 2, '')") {
				if _, err := db.ExecContext(ctx, st); err != nil {
					t.Fatalf("setting up version 1: %s: %v", st, err)
				}
			}
			s := New(db, d)
			t.Cleanup(func() { s.Close() })
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate from version 1: %v", err)
			}
			old, err := s.Coupon(ctx, "old")
			if err != nil || old.Holder != "alice" || old.Code != "Old" || old.Version != 2 || old.IssueKey != "" {
				t.Fatalf("the coupon of version 1 after the upgrade: %+v, %v", old, err)
			}
			keyed := old
			keyed.ID, keyed.Code, keyed.Canonical, keyed.IssueKey = "new", "New", "NEW", "k1"
			if err := s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{keyed}}); err != nil {
				t.Fatalf("a coupon with an issue key after the upgrade: %v", err)
			}
			again := keyed
			again.ID, again.Code, again.Canonical = "again", "Again", "AGAIN"
			err = s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{again}})
			var ex *store.ExistsError
			if !errors.As(err, &ex) || ex.Kind != "issue" {
				t.Errorf("a second coupon with the issue key after the upgrade: %v, want an ExistsError of kind issue", err)
			}
		})
	}
}

package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/sqlstore"
)

// incompressible returns n pseudo-random letters and digits, always the
// same: a value PostgreSQL cannot shrink to fit an index entry.
func incompressible(n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	x := uint64(0x9E3779B97F4A7C15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = chars[x%uint64(len(chars))]
	}
	return string(b)
}

// wantBadData fails the test unless err says the data was bad
// (InvalidArgument), never that the store is unavailable, and keeps the
// driver's error.
func wantBadData(t *testing.T, err error, what string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: no error", what)
	case errors.Is(err, errcode.ErrUnavailable) || !errors.Is(err, errcode.ErrInvalidArgument):
		t.Errorf("%s: %v (code %d), want InvalidArgument", what, err, errcode.CodeOf(err))
	case errors.Unwrap(err) == nil:
		t.Errorf("%s: %v does not keep the database's error", what, err)
	}
}

// TestBadDataIsInvalidArgument: a value PostgreSQL refuses as data (a data
// exception of class 22: a NUL, invalid UTF-8; or 54000, an index entry
// too large) is InvalidArgument, never Unavailable, which a caller reads
// as "try again later". The store is called directly, as a program that
// bypasses the engine's checks would.
func TestBadDataIsInvalidArgument(t *testing.T) {
	s := openPostgres(t)
	createSeries(t, s, "s1")
	for _, c := range []struct {
		name string
		run  func() error
	}{
		{"NUL in a holder", func() error {
			_, err := s.InsertCoupons(ctx, []coupon.Coupon{issued("c1", "s1", "A1", "a\x00b")}, nil)
			return err
		}},
		{"invalid UTF-8 in a code", func() error {
			_, err := s.InsertCoupons(ctx, []coupon.Coupon{available("c2", "s1", "A\xff")}, nil)
			return err
		}},
		{"holder past the index entry limit", func() error {
			_, err := s.InsertCoupons(ctx, []coupon.Coupon{issued("c3", "s1", "A3", incompressible(3000))}, nil)
			return err
		}},
		{"NUL in a series name", func() error {
			sr := newSeries("s2")
			sr.Name = "a\x00b"
			return s.Apply(ctx, &store.Change{Series: &store.SeriesWrite{Series: sr}})
		}},
		{"NUL in an event's reason", func() error {
			c := available("c4", "s1", "A4")
			return s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{c},
				Events: []coupon.Event{{ID: "e4", Kind: coupon.EventCreated, CouponID: "c4", SeriesID: "s1", At: t0, Reason: "x\x00"}}})
		}},
		{"invalid UTF-8 in a counter key", func() error {
			return s.Counters(ctx, []store.CounterKey{{Counter: limits.CustomerIssued, Series: "s1", Customer: "\xff"}}, make([]store.Count, 1))
		}},
		{"NUL in a looked-up id", func() error {
			_, err := s.Series(ctx, "s\x001")
			return err
		}},
	} {
		wantBadData(t, c.run(), c.name)
	}
	if n := len(mustList(t, s)); n != 0 {
		t.Errorf("the refused writes left %d coupons", n)
	}
}

func mustList(t *testing.T, s store.Store) []coupon.Coupon {
	t.Helper()
	cs, err := s.ListCoupons(ctx, store.CouponQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestSQLiteTooBigIsInvalidArgument: a value longer than SQLite keeps
// ("string or blob too big") is InvalidArgument too. The limit is lowered
// to 1000 bytes on the store's one connection, after the migration, to
// reach it cheaply.
func TestSQLiteTooBigIsInvalidArgument(t *testing.T) {
	db, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	s := sqlstore.New(db, sqlstore.SQLite)
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	createSeries(t, s, "s1")
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Limit(conn, sqlite3.SQLITE_LIMIT_LENGTH, 1000); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	_, err = s.InsertCoupons(ctx, []coupon.Coupon{issued("c1", "s1", "A1", strings.Repeat("h", 2000))}, nil)
	wantBadData(t, err, "InsertCoupons of a 2000-byte holder over a 1000-byte limit")
	err = s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{issued("c2", "s1", "A2", strings.Repeat("h", 2000))}})
	wantBadData(t, err, "Apply of a 2000-byte holder over a 1000-byte limit")
	if n := len(mustList(t, s)); n != 0 {
		t.Errorf("the refused writes left %d coupons", n)
	}
}

// openUnmigrated opens a database of the backend's dialect without
// migrating it.
func openUnmigrated(t *testing.T, name string) *sql.DB {
	t.Helper()
	if name == "postgres" {
		return openPostgresDB(t, 0)
	}
	db, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// storeCalls are one call of each kind a store and an engine over it make.
func storeCalls(s *sqlstore.Store) map[string]func() error {
	eng, err := couponkit.New(couponkit.Config{Store: s})
	return map[string]func() error{
		"Series":      func() error { _, err := s.Series(ctx, "s1"); return err },
		"ListCoupons": func() error { _, err := s.ListCoupons(ctx, store.CouponQuery{}); return err },
		"Counters": func() error {
			return s.Counters(ctx, []store.CounterKey{{Counter: limits.SeriesUses, Series: "s1"}}, make([]store.Count, 1))
		},
		"Apply": func() error {
			return s.Apply(ctx, &store.Change{Series: &store.SeriesWrite{Series: newSeries("s1")}})
		},
		"InsertCoupons": func() error {
			_, err := s.InsertCoupons(ctx, []coupon.Coupon{available("c1", "s1", "A1")}, nil)
			return err
		},
		"NextIndex": func() error { _, err := s.NextIndex(ctx, "s1"); return err },
		"UpdateWhere": func() error {
			_, err := s.UpdateWhere(ctx, store.CouponFilter{SeriesID: "s1"}, store.BulkUpdate{To: coupon.Revoked, At: t0})
			return err
		},
		"Engine.Issue": func() error {
			if err != nil {
				return err
			}
			_, err := eng.Issue(ctx, couponkit.IssueRequest{SeriesID: "s1", Customer: couponkit.ByID("alice")})
			return err
		},
	}
}

// TestNotMigrated: a store whose database was never migrated says so, and
// says to run Migrate, on every call; not "unavailable ... no such table".
func TestNotMigrated(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			b.skipUnavailable(t)
			s := sqlstore.New(openUnmigrated(t, b.name), dialectOf(b.name))
			for name, call := range storeCalls(s) {
				err := call()
				var nm *sqlstore.NotMigratedError
				switch {
				case !errors.As(err, &nm):
					t.Errorf("%s: %v, want a *NotMigratedError", name, err)
				case !errors.Is(err, errcode.ErrInvalidConfig) || errors.Is(err, errcode.ErrUnavailable):
					t.Errorf("%s: %v (code %d), want InvalidConfig", name, err, errcode.CodeOf(err))
				case !strings.Contains(err.Error(), "Migrate") || nm.Dialect != dialectOf(b.name) || !strings.HasPrefix(nm.Table, "ck_"):
					t.Errorf("%s: %v (%+v) does not name the table and say to run Migrate", name, err, nm)
				}
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			if _, err := s.NextIndex(ctx, "s1"); err != nil {
				t.Errorf("NextIndex after Migrate: %v", err)
			}
		})
	}
}

func dialectOf(name string) sqlstore.Dialect {
	if name == "postgres" {
		return sqlstore.Postgres
	}
	return sqlstore.SQLite
}

// wrappedSQLite is a driver that wraps modernc.org/sqlite's, as tracing
// and metrics wrappers do: the store cannot tell the database from it.
type wrappedSQLite struct{ dsn string }

func (w wrappedSQLite) Connect(context.Context) (driver.Conn, error) {
	return (&sqlite.Driver{}).Open(w.dsn)
}
func (w wrappedSQLite) Driver() driver.Driver            { return w }
func (w wrappedSQLite) Open(string) (driver.Conn, error) { return w.Connect(ctx) }

// TestDialectMismatchWrappedDriver: behind a driver it does not know, the
// store tells the database's dialect from the errors of Migrate's first
// statement, and says so.
func TestDialectMismatchWrappedDriver(t *testing.T) {
	db := sql.OpenDB(wrappedSQLite{sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "ck.db"))})
	t.Cleanup(func() { db.Close() })
	err := sqlstore.New(db, sqlstore.Postgres).Migrate(ctx)
	var de *sqlstore.DialectError
	if !errors.As(err, &de) || de.Database != sqlstore.SQLite || de.Dialect != sqlstore.Postgres || !errors.Is(err, errcode.ErrInvalidConfig) {
		t.Errorf("Migrate: %v, want an InvalidConfig *DialectError naming an SQLite database", err)
	}
	if err := sqlstore.New(db, sqlstore.SQLite).Migrate(ctx); err != nil {
		t.Errorf("Migrate with the right dialect behind a wrapping driver: %v", err)
	}
}

// TestDialectMismatch: a store made with the wrong dialect for its
// database (a PostgreSQL connection given sqlstore.SQLite, or the reverse)
// says so on every call, Migrate first; not "syntax error".
func TestDialectMismatch(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name+" database", func(t *testing.T) {
			b.skipUnavailable(t)
			// A database of b's dialect, migrated by a store of that dialect,
			// then used by one of the other.
			right := dialectOf(b.name)
			wrong := sqlstore.Postgres
			if right == sqlstore.Postgres {
				wrong = sqlstore.SQLite
			}
			db := openUnmigrated(t, b.name)
			s := sqlstore.New(db, wrong)
			check := func(name string, err error) {
				t.Helper()
				var de *sqlstore.DialectError
				switch {
				case !errors.As(err, &de):
					t.Errorf("%s: %v, want a *DialectError", name, err)
				case !errors.Is(err, errcode.ErrInvalidConfig):
					t.Errorf("%s: %v (code %d), want InvalidConfig", name, err, errcode.CodeOf(err))
				case de.Dialect != wrong || de.Database != right:
					t.Errorf("%s: %+v, want the store's dialect %s and the database's %s", name, de, wrong, right)
				case !strings.Contains(err.Error(), map[sqlstore.Dialect]string{sqlstore.SQLite: "sqlstore.SQLite", sqlstore.Postgres: "sqlstore.Postgres"}[right]):
					t.Errorf("%s: %v does not say which dialect to use", name, err)
				}
			}
			check("Migrate", s.Migrate(ctx))
			if err := sqlstore.New(db, right).Migrate(ctx); err != nil {
				t.Fatalf("Migrate with the right dialect: %v", err)
			}
			for name, call := range storeCalls(s) {
				check(name, call())
			}
		})
	}
}

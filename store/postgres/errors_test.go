package postgres_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	msqlite "modernc.org/sqlite"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqltest"
	"github.com/couponkit/couponkit/store/postgres"
	"github.com/couponkit/couponkit/store/sqlite"
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
	s := open(t)
	sqltest.CreateSeries(t, s, "s1")
	for _, c := range []struct {
		name string
		run  func() error
	}{
		{"NUL in a holder", func() error {
			_, err := s.InsertCoupons(ctx, []coupon.Coupon{sqltest.Issued("c1", "s1", "A1", "a\x00b")}, nil)
			return err
		}},
		{"invalid UTF-8 in a code", func() error {
			_, err := s.InsertCoupons(ctx, []coupon.Coupon{sqltest.Available("c2", "s1", "A\xff")}, nil)
			return err
		}},
		{"holder past the index entry limit", func() error {
			_, err := s.InsertCoupons(ctx, []coupon.Coupon{sqltest.Issued("c3", "s1", "A3", incompressible(3000))}, nil)
			return err
		}},
		{"NUL in a series name", func() error {
			sr := sqltest.NewSeries("s2")
			sr.Name = "a\x00b"
			return s.Apply(ctx, &store.Change{Series: &store.SeriesWrite{Series: sr}})
		}},
		{"NUL in an event's reason", func() error {
			c := sqltest.Available("c4", "s1", "A4")
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

// wrappedSQLite is a driver that wraps modernc.org/sqlite's, as tracing
// and metrics wrappers do: the store cannot tell the database from it.
type wrappedSQLite struct{ dsn string }

func (w wrappedSQLite) Connect(context.Context) (driver.Conn, error) {
	return (&msqlite.Driver{}).Open(w.dsn)
}
func (w wrappedSQLite) Driver() driver.Driver            { return w }
func (w wrappedSQLite) Open(string) (driver.Conn, error) { return w.Connect(ctx) }

// TestDialectMismatchWrappedDriver: behind a driver it does not know, the
// store tells the database from the errors of Migrate's first statement,
// and says so.
func TestDialectMismatchWrappedDriver(t *testing.T) {
	db := sql.OpenDB(wrappedSQLite{sqlite.DSN(filepath.Join(t.TempDir(), "ck.db"))})
	t.Cleanup(func() { db.Close() })
	err := postgres.New(db).Migrate(ctx)
	var de *postgres.DialectError
	if !errors.As(err, &de) || de.Database != "sqlite" || de.Store != "postgres" || !errors.Is(err, errcode.ErrInvalidConfig) {
		t.Errorf("Migrate: %v, want an InvalidConfig *DialectError naming an SQLite database", err)
	}
	if err := sqlite.New(db).Migrate(ctx); err != nil {
		t.Errorf("Migrate with the right package behind a wrapping driver: %v", err)
	}
}

// TestDialectMismatch: a store of one package over the other's database
// (a PostgreSQL pool given to sqlite.New, an SQLite file to postgres.New)
// says so on every call, Migrate first, and names the package to use; not
// "syntax error".
func TestDialectMismatch(t *testing.T) {
	sqliteDB, err := sqlite.OpenDB(ctx, filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqliteDB.Close() })
	for _, tc := range []struct {
		store, database string
		wrong           sqltest.Store
		right           func(context.Context) error
	}{
		{"postgres", "sqlite", postgres.New(sqliteDB), sqlite.New(sqliteDB).Migrate},
		{"sqlite", "postgres", nil, nil},
	} {
		t.Run(tc.database+" database", func(t *testing.T) {
			if tc.wrong == nil {
				db := openDB(t, 0)
				tc.wrong, tc.right = sqlite.New(db), postgres.New(db).Migrate
			}
			check := func(name string, err error) {
				t.Helper()
				var de *postgres.DialectError
				switch {
				case !errors.As(err, &de):
					t.Errorf("%s: %v, want a *DialectError", name, err)
				case !errors.Is(err, errcode.ErrInvalidConfig):
					t.Errorf("%s: %v (code %d), want InvalidConfig", name, err, errcode.CodeOf(err))
				case de.Store != tc.store || de.Database != tc.database:
					t.Errorf("%s: %+v, want a store of package %s over a %s database", name, de, tc.store, tc.database)
				case !strings.Contains(err.Error(), tc.database+".New"):
					t.Errorf("%s: %v does not say which package to use", name, err)
				}
			}
			check("Migrate", tc.wrong.Migrate(ctx))
			if err := tc.right(ctx); err != nil {
				t.Fatalf("Migrate with the right package: %v", err)
			}
			check("Series", func() error { _, err := tc.wrong.Series(ctx, "s1"); return err }())
			check("Apply", tc.wrong.Apply(ctx, &store.Change{Series: &store.SeriesWrite{Series: sqltest.NewSeries("s1")}}))
			check("NextIndex", func() error { _, err := tc.wrong.NextIndex(ctx, "s1"); return err }())
		})
	}
}

// TestMigrateConcurrently starts several "instances" on one fresh schema
// at once, sharing one pool; all succeed and the schema is applied once.
func TestMigrateConcurrently(t *testing.T) {
	db := openDB(t, 0)
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if err := postgres.New(db).Migrate(ctx); err != nil {
				t.Errorf("Migrate: %v", err)
			}
		})
	}
	wg.Wait()
	sqltest.WantMigrated(t, db, postgres.Migrations())
	s := postgres.New(db)
	sqltest.CreateSeries(t, s, "s1")
	if err := s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{sqltest.Available("c1", "s1", "X")}}); err != nil {
		t.Fatal(err)
	}
}

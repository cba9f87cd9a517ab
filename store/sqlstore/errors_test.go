package sqlstore_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

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

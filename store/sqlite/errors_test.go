package sqlite_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqltest"
	"github.com/couponkit/couponkit/store/sqlite"
)

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

// TestSQLiteTooBigIsInvalidArgument: a value longer than SQLite keeps
// ("string or blob too big") is InvalidArgument too. The limit is lowered
// to 1000 bytes on the store's one connection, after the migration, to
// reach it cheaply.
func TestSQLiteTooBigIsInvalidArgument(t *testing.T) {
	db := openDB(t)
	db.SetMaxOpenConns(1)
	s := sqlite.New(db)
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	createSeries(t, s, "s1")
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := msqlite.Limit(conn, sqlite3.SQLITE_LIMIT_LENGTH, 1000); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	_, err = s.InsertCoupons(ctx, []coupon.Coupon{sqltest.Issued("c1", "s1", "A1", strings.Repeat("h", 2000))}, nil)
	wantBadData(t, err, "InsertCoupons of a 2000-byte holder over a 1000-byte limit")
	err = s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{sqltest.Issued("c2", "s1", "A2", strings.Repeat("h", 2000))}})
	wantBadData(t, err, "Apply of a 2000-byte holder over a 1000-byte limit")
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

// TestMigrateConcurrently starts several "instances" on one fresh file at
// once, each with a pool of its own; all succeed and the schema is applied
// once.
func TestMigrateConcurrently(t *testing.T) {
	const instances = 6
	path := filepath.Join(t.TempDir(), "ck.db")
	dbs := make([]*sql.DB, instances)
	for i := range dbs {
		db, err := sqlite.OpenDB(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	migrateAll(t, dbs)
}

func migrateAll(t *testing.T, dbs []*sql.DB) {
	var wg sync.WaitGroup
	for _, db := range dbs {
		wg.Go(func() {
			if err := sqlite.New(db).Migrate(ctx); err != nil {
				t.Errorf("Migrate: %v", err)
			}
		})
	}
	wg.Wait()
	sqltest.WantMigrated(t, dbs[0], sqlite.Migrations())
	s := sqlite.New(dbs[len(dbs)-1])
	createSeries(t, s, "s1")
	if err := s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{sqltest.Available("c1", "s1", "X")}}); err != nil {
		t.Fatal(err)
	}
}

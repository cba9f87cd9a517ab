package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqlcore"
	"github.com/couponkit/couponkit/store/internal/sqltest"
	"github.com/couponkit/couponkit/store/sqlite"
)

var ctx = context.Background()

// backend is SQLite for the shared tests: a file in a temporary
// directory per database.
var backend = sqltest.Backend{
	Name:       "sqlite",
	OpenDB:     openDB,
	New:        func(db *sql.DB) sqltest.Store { return sqlite.New(db) },
	Core:       func(s sqltest.Store) *sqlcore.Store { return sqlite.CoreOf(s.(*sqlite.Store)) },
	Migrations: sqlite.Migrations(),
}

// uncombinedBackend is backend with combined code reads off.
var uncombinedBackend = sqltest.Backend{
	Name:       "sqlite",
	OpenDB:     openDB,
	New:        func(db *sql.DB) sqltest.Store { return sqlite.NewUncombined(db) },
	Core:       backend.Core,
	Migrations: backend.Migrations,
}

// openDB opens an empty database file in a temporary directory, closed
// when the test ends.
func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sqlite.OpenDB(ctx, filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// open opens a migrated store on a fresh file, a copy of the migrated
// template (its Migrate finds nothing to do).
func open(t testing.TB) *sqlite.Store {
	t.Helper()
	return openAt(t, migratedFile(t))
}

// openAt opens a migrated store on the file at path, closed when the test
// ends.
func openAt(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// t0 is the tests' base time.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// createSeries stores a minimal series with the given id.
func createSeries(t testing.TB, s store.Store, id string) {
	t.Helper()
	if err := s.Apply(ctx, seriesChange(id)); err != nil {
		t.Fatalf("creating series %s: %v", id, err)
	}
}

// seriesChange is the change that stores a minimal series with the given
// id.
func seriesChange(id string) *store.Change {
	sr := series.Series{ID: id, Name: "Series " + id, Status: series.Active, TimeZone: "UTC",
		Source: series.Source{Kind: series.Uploaded}, Version: 1, CreatedAt: t0, UpdatedAt: t0}
	return &store.Change{Series: &store.SeriesWrite{Series: sr}}
}

func wantErr[T error](t *testing.T, err error, code *errcode.Error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error %v (%T), want %T", err, err, target)
	}
	if !errors.Is(err, code) {
		t.Fatalf("error %v does not match code %d", err, code.Code)
	}
	return target
}

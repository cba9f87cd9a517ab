package sqlstore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/sqlstore"
)

// pgEnv names the environment variable with the test PostgreSQL DSN.
const pgEnv = "COUPONKIT_TEST_POSTGRES"

// backend opens a fresh, migrated store of one dialect for a test.
type backend struct {
	name string
	open func(t testing.TB) *sqlstore.Store
}

// backends returns SQLite and PostgreSQL; the PostgreSQL one skips its
// test (with a message) when pgEnv is unset.
func backends() []backend {
	return []backend{{"sqlite", openSQLite}, {"postgres", openPostgres}}
}

// skipUnavailable skips t on a backend that is not configured.
func (b backend) skipUnavailable(t testing.TB) {
	if b.name == "postgres" && os.Getenv(pgEnv) == "" {
		t.Skipf("PostgreSQL tests skipped: set %s to a PostgreSQL DSN to run them", pgEnv)
	}
}

// forEach runs f as a subtest on every backend.
func forEach(t *testing.T, f func(t *testing.T, s *sqlstore.Store)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			b.skipUnavailable(t)
			f(t, b.open(t))
		})
	}
}

// openSQLite opens a migrated store on a file in a temporary directory.
func openSQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	db, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := sqlstore.New(db, sqlstore.SQLite)
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// openPostgres opens a migrated store in a schema of its own, dropped when
// the test ends. It skips the test when pgEnv is unset.
func openPostgres(t testing.TB) *sqlstore.Store {
	t.Helper()
	db := openPostgresDB(t, 0)
	s := sqlstore.New(db, sqlstore.Postgres)
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// openPostgresDB creates a schema ck_<random> and returns a pool whose
// connections use it, of at most maxConns connections (0: 40), all kept
// idle (database/sql keeps two by default, and PostgreSQL connections are
// expensive to open).
func openPostgresDB(t testing.TB, maxConns int) *sql.DB {
	t.Helper()
	dsn := os.Getenv(pgEnv)
	if dsn == "" {
		t.Skipf("set %s to a PostgreSQL DSN to run this test", pgEnv)
	}
	schema := sqlstore.NewTestSchema(t, dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = schema
	db := stdlib.OpenDB(*cfg)
	if maxConns <= 0 {
		maxConns = 40
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	t.Cleanup(func() { db.Close() })
	return db
}

// t0 is the tests' base time.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// newSeries returns a minimal valid series with the given id.
func newSeries(id string) series.Series {
	return series.Series{
		ID: id, Name: "Series " + id, Status: series.Active, TimeZone: "UTC",
		Source: series.Source{Kind: series.Uploaded}, Version: 1, CreatedAt: t0, UpdatedAt: t0,
	}
}

// createSeries stores series with the given ids.
func createSeries(t testing.TB, s store.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := s.Apply(context.Background(), &store.Change{Series: &store.SeriesWrite{Series: newSeries(id)}}); err != nil {
			t.Fatalf("creating series %s: %v", id, err)
		}
	}
}

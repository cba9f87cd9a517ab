package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/couponkit/couponkit/store/internal/sqlcore"
	"github.com/couponkit/couponkit/store/internal/sqltest"
	"github.com/couponkit/couponkit/store/postgres"
)

var ctx = context.Background()

// pgEnv names the environment variable with the test PostgreSQL DSN.
const pgEnv = "COUPONKIT_TEST_POSTGRES"

// backend is PostgreSQL for the shared tests: a schema of its own per
// database, dropped when the test ends.
var backend = sqltest.Backend{
	Name:       "postgres",
	OpenDB:     func(t testing.TB) *sql.DB { return openDB(t, 0) },
	New:        func(db *sql.DB) sqltest.Store { return postgres.New(db) },
	Core:       func(s sqltest.Store) *sqlcore.Store { return postgres.CoreOf(s.(*postgres.Store)) },
	Migrations: postgres.Migrations(),
}

// uncombinedBackend is backend with combined code reads off.
var uncombinedBackend = sqltest.Backend{
	Name:       "postgres",
	OpenDB:     backend.OpenDB,
	New:        func(db *sql.DB) sqltest.Store { return postgres.NewUncombined(db) },
	Core:       backend.Core,
	Migrations: backend.Migrations,
}

// dsn returns the test database's DSN, skipping the test when it is not
// set.
func dsn(t testing.TB) string {
	t.Helper()
	d := os.Getenv(pgEnv)
	if d == "" {
		t.Skipf("PostgreSQL tests skipped: set %s to a PostgreSQL DSN to run them", pgEnv)
	}
	return d
}

// openDB creates a schema ck_<random> and returns a pool whose
// connections use it, of at most maxConns connections (0: 40), all kept
// idle (database/sql keeps two by default, and PostgreSQL connections are
// expensive to open). It skips the test when pgEnv is unset.
func openDB(t testing.TB, maxConns int, params ...string) *sql.DB {
	t.Helper()
	d := dsn(t)
	schema := newSchema(t, d)
	cfg, err := pgx.ParseConfig(d)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = schema
	for i := 0; i+1 < len(params); i += 2 {
		cfg.RuntimeParams[params[i]] = params[i+1]
	}
	db := stdlib.OpenDB(*cfg)
	if maxConns <= 0 {
		maxConns = 40
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	t.Cleanup(func() { db.Close() })
	return db
}

// open opens a migrated store in a schema of its own.
func open(t testing.TB) *postgres.Store {
	t.Helper()
	return backend.Open(t).(*postgres.Store)
}

// newSchema creates a fresh schema ck_<random> and drops it when the test
// ends.
func newSchema(t testing.TB, dsn string) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "ck_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("creating schema: %v (is PostgreSQL running? see .ci/run)", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

// t0 is the tests' base time.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

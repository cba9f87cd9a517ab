package faults_test

import (
	"database/sql"
	"testing"

	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/postgres"
	"github.com/couponkit/couponkit/store/sqlite"
)

// The SQL stores the fault tests run on, opened with the store packages'
// public constructors only. Everything else reads and writes through the
// engine, bulk or plain SQL on the *sql.DB.

// postgresStore returns a store on the PostgreSQL pool db, migrated when
// migrate is set.
func postgresStore(t testing.TB, db *sql.DB, migrate bool) store.Store {
	t.Helper()
	s := postgres.New(db)
	if migrate {
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// sqliteStore opens the SQLite file at path, migrated, closed when the
// test ends.
func sqliteStore(t testing.TB, path string) (store.Store, *sql.DB) {
	t.Helper()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s, s.DB()
}

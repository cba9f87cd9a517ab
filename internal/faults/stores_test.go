package faults_test

import (
	"database/sql"
	"testing"

	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/sqlstore"
)

// The SQL stores the fault tests run on, opened with the store package's
// public constructors only. Everything else reads and writes through the
// engine, bulk or plain SQL on the *sql.DB.

// postgresStore returns a store on the PostgreSQL pool db, migrated when
// migrate is set.
func postgresStore(t testing.TB, db *sql.DB, migrate bool) store.Store {
	t.Helper()
	s := sqlstore.New(db, sqlstore.Postgres)
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
	db, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := sqlstore.New(db, sqlstore.SQLite)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s, db
}

package apiwalk

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver of database/sql

	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/postgres"
	"github.com/couponkit/couponkit/store/sqlite"
)

// pgEnv names the environment variable with the test PostgreSQL DSN.
const pgEnv = "COUPONKIT_TEST_POSTGRES"

// SQLite returns a migrated SQLite store in a temporary file, closed
// when the test ends.
func SQLite(t *testing.T) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// Postgres returns a migrated PostgreSQL store on a fresh schema of the
// database COUPONKIT_TEST_POSTGRES names, with a small pool; the test is
// skipped without it.
func Postgres(t *testing.T) store.Store {
	t.Helper()
	dsn := os.Getenv(pgEnv)
	if dsn == "" {
		t.Skipf("skipped: set %s to a PostgreSQL DSN to run the API over PostgreSQL", pgEnv)
	}
	db := pgSchema(t, dsn)
	st := postgres.New(db)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// pgSchema returns a small pool on a fresh schema, dropped when the test
// ends.
func pgSchema(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "ck_httpapi_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("creating schema: %v (is PostgreSQL running?)", err)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	db, err := sql.Open("pgx", dsn+sep+"search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(4)
	t.Cleanup(func() {
		db.Close()
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
		}
	})
	return db
}

package httpapi_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/httpapi/internal/walk"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/couponkit/couponkit/store/postgres"
	"github.com/couponkit/couponkit/store/sqlite"
)

// pgEnv names the environment variable with the test PostgreSQL DSN.
const pgEnv = "COUPONKIT_TEST_POSTGRES"

// stores opens each backend the end-to-end tests run on.
var stores = map[string]func(t *testing.T) store.Store{
	"memstore": func(*testing.T) store.Store { return memstore.New() },
	"sqlite": func(t *testing.T) store.Store {
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
	},
	"postgres": func(t *testing.T) store.Store {
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
	},
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

// TestEveryRoute walks every route over real HTTP on each store.
func TestEveryRoute(t *testing.T) {
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(walk.Handler(t, open(t)))
			defer srv.Close()
			walk.Run(t, srv.URL, srv.Client())
		})
	}
}

// testSeries is a series of generated codes worth 10 EUR, one per
// customer.
func testSeries() series.Series {
	return series.Series{
		Name:     "10 EUR off",
		TimeZone: "UTC",
		Source:   series.Source{Kind: series.Generated, Length: 8, Alphabet: series.ConfusionFree},
		Issuance: series.Issuance{IssuanceRules: limits.IssuanceRules{MaxPerCustomer: 1}},
		Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"},
	}
}

package httpapi_test

import (
	"net/http/httptest"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/shopspring/decimal"

	walk "github.com/couponkit/couponkit/internal/apiwalk"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// stores opens each backend the end-to-end tests run on.
var stores = map[string]func(t *testing.T) store.Store{
	"memstore": func(*testing.T) store.Store { return memstore.New() },
	"sqlite":   walk.SQLite,
	"postgres": walk.Postgres,
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

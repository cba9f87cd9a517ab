package couponkit_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/series"
)

// BenchmarkRedeemBasket redeems three stacked coupons (10 EUR off, then
// 10% off, then 5% off clothes) on a 20-line basket on memstore, one
// goroutine, distinct coupons each time.
func BenchmarkRedeemBasket(b *testing.B) {
	ctx := context.Background()
	e, _ := newEngine()
	kinds := []series.Discount{
		{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"},
		{Kind: series.Percent, Percent: decimal.NewFromInt(10), Currency: "EUR"},
		{Kind: series.Percent, Percent: decimal.NewFromInt(5), Currency: "EUR"},
	}
	var ids []string
	for i, d := range kinds {
		cfg := tenOff()
		cfg.Issuance.MaxPerCustomer = 0
		cfg.Discount = d
		cfg.Stacking = series.Stacking{Priority: i}
		// A prefix per series: a basket names codes without their series,
		// and 8 random characters drawn b.N times in each of three series
		// meet across them about once in a hundred runs.
		cfg.Source.Prefix = string(rune('A' + i))
		if i == 2 {
			cfg.Products = series.ProductRules{IncludeCategories: []string{"clothes"}}
		}
		ids = append(ids, must(e.CreateSeries(ctx, cfg)).ID)
	}
	lines := make([]basket.Line, 20)
	for i := range lines {
		cat := "food"
		if i%2 == 0 {
			cat = "clothes"
		}
		lines[i] = basket.Line{ID: fmt.Sprint(i + 1), Product: fmt.Sprint("p", i), Categories: []string{cat},
			Quantity: int64(1 + i%3), UnitPrice: decimal.New(int64(199+100*i), -2)}
	}
	reqs := make([]couponkit.BasketRequest, b.N)
	for i := range reqs {
		codes := make([]string, len(ids))
		for j, id := range ids {
			codes[j] = must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: id, Customer: couponkit.ByID("alice")})).Coupon.Code
		}
		reqs[i] = couponkit.BasketRequest{Codes: codes, Customer: couponkit.ByID("alice"), IdempotencyKey: fmt.Sprint("pos-", i), Currency: "EUR", Lines: lines}
	}
	b.ReportAllocs()
	runtime.GC() // the setup's garbage is not the loop's
	b.ResetTimer()
	for i := range b.N {
		if _, err := e.RedeemBasket(ctx, reqs[i]); err != nil {
			b.Fatal(err)
		}
	}
}

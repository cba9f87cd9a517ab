package couponkit_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

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
	e, reqs := basketRequests(b.N)
	b.ReportAllocs()
	runtime.GC() // the setup's garbage is not the loop's
	b.ResetTimer()
	for i := range b.N {
		if _, err := e.RedeemBasket(ctx, reqs[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedeemBasketRatio times, in alternating phases on one store,
// the baskets of BenchmarkRedeemBasket and as many single-coupon
// redemptions (a bill of 50 EUR, no lines), and reports the time of each
// and the ratio basket ÷ single: what a basket costs in single
// redemptions, which the machine's speed moves far less than either time.
func BenchmarkRedeemBasketRatio(b *testing.B) {
	const phases = 10
	ctx := context.Background()
	e, baskets := basketRequests(b.N)
	cfg := tenOff()
	cfg.Issuance.MaxPerCustomer = 0
	cfg.Source.Prefix = "S"
	s := must(e.CreateSeries(ctx, cfg))
	singles := make([]couponkit.RedeemRequest, b.N)
	for i := range singles {
		code := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice")})).Coupon.Code
		singles[i] = couponkit.RedeemRequest{Code: code, Customer: couponkit.ByID("alice"), IdempotencyKey: fmt.Sprint("one-", i),
			Bill: series.Money{Amount: decimal.NewFromInt(50), Currency: "EUR"}}
	}
	runtime.GC()
	b.ResetTimer()
	var took [2]time.Duration // baskets, singles
	for p := range 2 * phases {
		lo, hi := (p/2)*b.N/phases, (p/2+1)*b.N/phases
		t0 := time.Now()
		for i := lo; i < hi; i++ {
			var err error
			if p%2 == 0 {
				_, err = e.RedeemBasket(ctx, baskets[i])
			} else {
				_, err = e.Redeem(ctx, singles[i])
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		took[p%2] += time.Since(t0)
	}
	b.StopTimer()
	b.ReportMetric(float64(took[0].Nanoseconds())/float64(b.N), "basket-ns")
	b.ReportMetric(float64(took[1].Nanoseconds())/float64(b.N), "single-ns")
	b.ReportMetric(took[0].Seconds()/took[1].Seconds(), "basket÷single")
}

// basketRequests makes an engine on memstore with the three series of
// BenchmarkRedeemBasket and n requests of their basket, each naming
// coupons of its own.
func basketRequests(n int) (*couponkit.Engine, []couponkit.BasketRequest) {
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
	reqs := make([]couponkit.BasketRequest, n)
	for i := range reqs {
		codes := make([]string, len(ids))
		for j, id := range ids {
			codes[j] = must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: id, Customer: couponkit.ByID("alice")})).Coupon.Code
		}
		reqs[i] = couponkit.BasketRequest{Codes: codes, Customer: couponkit.ByID("alice"), IdempotencyKey: fmt.Sprint("pos-", i), Currency: "EUR", Lines: lines}
	}
	return e, reqs
}

package couponkit_test

import (
	"context"
	"fmt"
	"log"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/memstore"
)

// Example_readmeCheckout is the checkout sample of README.md, which
// TestREADMEShowsCheckout keeps equal to this body: two coupons stacked
// on a basket, the split per line, a budget, and a partial return.
func Example_readmeCheckout() {
	ctx := context.Background()
	e, err := couponkit.New(couponkit.Config{Store: memstore.New()})
	if err != nil {
		log.Fatal(err)
	}
	eur := decimal.RequireFromString
	offers := map[string]series.Series{
		// 20% off shoes not on sale, at most 30 EUR, under a 500 EUR budget;
		// a return gives back the use and the returned share of the budget.
		"SHOES20": {Discount: series.Discount{Kind: series.Percent, Percent: eur("20"), Cap: decimal.NewNullDecimal(eur("30")), Currency: "EUR"},
			Products: series.ProductRules{IncludeCategories: []string{"shoes"}, ExcludeCategories: []string{"sale"}},
			Budget:   series.Budget{Total: decimal.NewNullDecimal(eur("500"))},
			Stacking: series.Stacking{Group: "spring", Priority: 1}, Returns: series.ReturnBoth},
		// 5 EUR off what is left, in the same group, after it.
		"FIVE": {Discount: series.Discount{Kind: series.Fixed, Amount: eur("5"), Currency: "EUR"},
			Stacking: series.Stacking{Group: "spring", Priority: 2}},
	}
	ids := map[string]string{}
	for code, s := range offers {
		s.Name, s.TimeZone, s.Source = code, "Europe/Berlin", series.Source{Kind: series.Uploaded}
		s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 30}
		if s, err = e.CreateSeries(ctx, s); err != nil {
			log.Fatal(err)
		}
		ids[code] = s.ID
		row := couponkit.UploadRow{Code: code, Customer: couponkit.ByID("ana")}
		if _, err := e.Upload(ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: []couponkit.UploadRow{row}}); err != nil {
			log.Fatal(err)
		}
	}

	// Both codes on one basket, all or nothing, under the till's key.
	res, err := e.RedeemBasket(ctx, couponkit.BasketRequest{Codes: []string{"FIVE", "SHOES20"},
		Customer: couponkit.ByID("ana"), IdempotencyKey: "sale-1", Currency: "EUR", Lines: []basket.Line{
			{ID: "1", Product: "runner", Categories: []string{"shoes"}, Quantity: 2, UnitPrice: eur("100")},
			{ID: "2", Product: "boot", Categories: []string{"shoes", "sale"}, Quantity: 1, UnitPrice: eur("60")},
			{ID: "3", Product: "socks", Quantity: 3, UnitPrice: eur("5")},
		}})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range res.Coupons {
		fmt.Println(c.Decision.Code, c.Decision.Discount.StringFixed(2), "split", c.Decision.Parts)
	}

	// One runner comes back: half of SHOES20's part on line 1 goes back
	// to its budget.
	back, err := e.Reverse(ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: res.Coupons[0].Redemption.ID},
		IdempotencyKey: "return-1", Lines: []basket.Return{{Line: "1", Quantity: 1}}})
	if err != nil {
		log.Fatal(err)
	}
	counters, err := e.Counters(ctx, ids["SHOES20"])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("returned", back.Return.Discount, "cents; budget given", counters.BudgetSpent)
	// Output:
	// SHOES20 30.00 split [{1 2 20000 3000}]
	// FIVE 5.00 split [{1 2 17000 347} {2 1 6000 122} {3 3 1500 31}]
	// returned 1500 cents; budget given 15 EUR
}

// TestREADMEShowsCheckout checks that README.md's checkout sample is the
// body of Example_readmeCheckout, which the tests compile and run.
func TestREADMEShowsCheckout(t *testing.T) {
	readmeShows(t, "## Checkout: baskets, stacking, budgets and returns", "readme_checkout_test.go", "Example_readmeCheckout")
}

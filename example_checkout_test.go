package couponkit_test

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
)

// Redeem a coupon on a basket's lines: 20% off shoes, not on sale items,
// at most 30 EUR, under a budget of 40 EUR that reduces the last discount
// to what is left.
func ExampleEngine_Redeem_basket() {
	ctx := context.Background()
	e, _ := newEngine()
	s := tenOff()
	s.Redemption.MinBill = decimal.NullDecimal{}
	s.Issuance.MaxPerCustomer = 0
	s.Discount = series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(20),
		Cap: decimal.NewNullDecimal(decimal.NewFromInt(30)), Currency: "EUR"}
	s.Products = series.ProductRules{IncludeCategories: []string{"shoes"}, ExcludeCategories: []string{"sale"}}
	s.Budget = series.Budget{Total: decimal.NewNullDecimal(decimal.NewFromInt(40)), OnExceed: series.BudgetReduce}
	s = must(e.CreateSeries(ctx, s))

	lines := []basket.Line{
		{ID: "1", Product: "runner", Categories: []string{"shoes"}, Quantity: 2, UnitPrice: decimal.RequireFromString("100.00")},
		{ID: "2", Product: "boot", Categories: []string{"shoes", "sale"}, Quantity: 1, UnitPrice: decimal.RequireFromString("60.00")},
		{ID: "3", Product: "sandal", Categories: []string{"shoes"}, Quantity: 1, UnitPrice: decimal.RequireFromString("80.00")},
	}
	for i, key := range []string{"pos-1", "pos-2", "pos-3"} {
		c := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice")})).Coupon
		r, err := e.Redeem(ctx, couponkit.RedeemRequest{Code: c.Code, Customer: couponkit.ByID("alice"), IdempotencyKey: key,
			Bill: series.Money{Currency: "EUR"}, Lines: lines})
		if err != nil {
			fmt.Println(i+1, "refused:", err.(*refusal.Error).Refusals[0].Message)
			continue
		}
		fmt.Println(i+1, "bill", r.Redemption.Bill, "discount", r.Discount, "reduced", r.Redemption.Reduced)
		for _, p := range r.Redemption.Parts {
			fmt.Printf("  line %s: %d of %d cents\n", p.Line, p.Discount, p.Base)
		}
	}
	fmt.Println("given:", must(e.Counters(ctx, s.ID)).BudgetSpent)
	// Output:
	// 1 bill 340 discount 30 EUR reduced false
	//   line 1: 2143 of 20000 cents
	//   line 3: 857 of 8000 cents
	// 2 bill 340 discount 10 EUR reduced true
	//   line 1: 714 of 20000 cents
	//   line 3: 286 of 8000 cents
	// 3 refused: This offer's budget has 0.00 EUR left, less than the discount of 30.00 EUR.
	// given: 40 EUR
}

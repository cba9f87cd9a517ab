package couponkit_test

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/series"
)

// Two coupons on one basket: 10 EUR off first, then 10% off what is left,
// written together under the till's transaction key; the till's retry
// gets the first result back.
func ExampleEngine_RedeemBasket() {
	ctx := context.Background()
	e, _ := newEngine()
	var codes []string
	for i, d := range []series.Discount{
		{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"},
		{Kind: series.Percent, Percent: decimal.NewFromInt(10), Currency: "EUR"},
	} {
		cfg := tenOff()
		cfg.Discount, cfg.Stacking = d, series.Stacking{Priority: i}
		s := must(e.CreateSeries(ctx, cfg))
		codes = append(codes, must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice")})).Coupon.Code)
	}
	req := couponkit.BasketRequest{Codes: codes, Customer: couponkit.ByID("alice"), IdempotencyKey: "pos-7", Currency: "EUR",
		Lines: []basket.Line{
			{ID: "1", Product: "coat", Quantity: 1, UnitPrice: decimal.NewFromInt(80)},
			{ID: "2", Product: "hat", Quantity: 2, UnitPrice: decimal.NewFromInt(10)},
		}}
	r := must(e.RedeemBasket(ctx, req))
	for _, c := range r.Coupons {
		fmt.Println(c.Decision.Discount.StringFixed(2), c.Coupon.State)
	}
	fmt.Println("total", r.Discount.Amount.StringFixed(2))
	again := must(e.RedeemBasket(ctx, req))
	fmt.Println("replayed", again.Replayed, again.Discount.Amount.StringFixed(2))
	// Output:
	// 10.00 redeemed
	// 9.00 redeemed
	// total 19.00
	// replayed true 19.00
}

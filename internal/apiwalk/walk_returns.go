package apiwalk

import (
	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// returns redeems a coupon on a basket's lines, returns part of it,
// repeats the return and asks for more than is left.
func (w *walker) returns() {
	t, c := w.t, w.c
	var s series.Series
	c.ok(201, &s, "POST", "/v1/series", series.Series{
		Name: "10% off, returns give back the budget", TimeZone: "UTC", Source: series.Source{Kind: series.Uploaded},
		Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount: series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(10), Currency: "EUR"},
		Budget:   series.Budget{Total: decimal.NewNullDecimal(decimal.NewFromInt(100))},
		Returns:  series.ReturnBoth,
	})
	var rep struct{ Applied int }
	c.ok(200, &rep, "POST", "/v1/series/"+s.ID+"/upload?file_id=r1", csvBody("code,customer_id\nRET-1,erin\n"))
	var red couponkit.RedeemResult
	c.ok(200, &red, "POST", "/v1/coupons/RET-1/redeem", couponkit.RedeemRequest{Customer: couponkit.ByID("erin"), IdempotencyKey: "pos-r1",
		Bill: series.Money{Currency: "EUR"}, Lines: []basket.Line{
			{ID: "A", Product: "plate", Quantity: 3, UnitPrice: decimal.NewFromInt(10)},
			{ID: "B", Product: "bowl", Quantity: 1, UnitPrice: decimal.NewFromInt(20)}}})
	if len(red.Redemption.Parts) != 2 || !red.Discount.Amount.Equal(decimal.NewFromInt(5)) {
		t.Fatalf("redeem on lines: %+v", red)
	}
	ret := couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: red.Redemption.ID}, IdempotencyKey: "ret-1",
		Lines: []basket.Return{{Line: "A", Quantity: 1}}, Reason: "one plate back"}
	var back couponkit.RedeemResult
	c.ok(200, &back, "POST", "/v1/redemptions/reverse", ret)
	if back.Return.Discount != 100 || back.Return.Budget != 100 || back.Return.Use || len(back.Redemption.Returns) != 1 {
		t.Errorf("a return of one plate: %+v", back.Return)
	}
	c.ok(200, &back, "POST", "/v1/redemptions/reverse", ret)
	if !back.Replayed || len(back.Redemption.Returns) != 1 {
		t.Errorf("the return again: %+v, want the first replayed", back)
	}
	ret.Lines[0].Quantity = 2
	c.fail(409, errcode.KeyMismatch, "POST", "/v1/redemptions/reverse", ret)
	ret.IdempotencyKey, ret.Lines[0].Quantity = "ret-2", 3
	b := c.fail(400, errcode.InvalidArgument, "POST", "/v1/redemptions/reverse", ret)
	if b.Field != "Lines[0].Quantity" {
		t.Errorf("three plates more: field %q", b.Field)
	}
	amount := couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: red.Redemption.ID}, IdempotencyKey: "ret-3", Amount: decimal.NewFromInt(5)}
	c.fail(400, errcode.InvalidArgument, "POST", "/v1/redemptions/reverse", amount)
	var cnt couponkit.SeriesCounters
	c.ok(200, &cnt, "GET", "/v1/series/"+s.ID+"/counters", nil)
	if !cnt.BudgetSpent.Amount.Equal(decimal.RequireFromString("4")) {
		t.Errorf("the budget after a plate back: %+v, want 4 EUR", cnt.BudgetSpent)
	}
}

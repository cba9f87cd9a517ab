package couponkit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/series"
)

// A basket result is the caller's: the transactions after it, which reuse
// the engine's pooled buffers (its stacker among them), leave its
// decisions, parts and redemptions as they were.
func TestBasketResultOwnsItsParts(t *testing.T) {
	ctx := context.Background()
	e, _ := newEngine()
	var ids []string
	for i, pct := range []int64{10, 5} {
		cfg := tenOff()
		cfg.Issuance.MaxPerCustomer = 0
		cfg.Discount = series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(pct), Currency: "EUR"}
		cfg.Stacking = series.Stacking{Priority: i}
		ids = append(ids, must(e.CreateSeries(ctx, cfg)).ID)
	}
	redeem := func(n int, key string) couponkit.BasketResult {
		t.Helper()
		lines := make([]basket.Line, n)
		for i := range lines {
			lines[i] = basket.Line{ID: fmt.Sprint(key, i), Product: "p", Quantity: 1, UnitPrice: decimal.New(int64(2000*n+i), -2)}
		}
		var codes []string
		for _, id := range ids {
			codes = append(codes, must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: id, Customer: couponkit.ByID("alice")})).Coupon.Code)
		}
		return must(e.RedeemBasket(ctx, couponkit.BasketRequest{Codes: codes, Customer: couponkit.ByID("alice"),
			IdempotencyKey: key, Currency: "EUR", Lines: lines}))
	}
	first := redeem(3, "a")
	kept := must(json.Marshal(first))
	for i := range 4 {
		redeem(5+i, fmt.Sprint("b", i))
	}
	if now := must(json.Marshal(first)); !bytes.Equal(now, kept) {
		t.Fatalf("a later basket changed the first result:\n%s\nwas\n%s", now, kept)
	}
	if len(first.Coupons) != 2 || len(first.Coupons[0].Decision.Parts) != 3 {
		t.Fatalf("want two coupons of three parts each: %s", kept)
	}
}

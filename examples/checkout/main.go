// Command checkout is a shop's checkout in one run, on an embedded SQLite
// file: a basket of shoes and socks, two coupons stacked on it (20% off
// shoes not on sale first, then 5 EUR off what is left), each discount
// split per line, a series budget that counts the money given away, an
// exclusive coupon refused beside them, and the return of one pair of
// shoes, which gives back its share of the discount to the budget.
//
//	go run ./examples/checkout
//
// The database is a file in a temporary directory, removed at the end.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/sqlite"
)

func main() {
	dir, err := os.MkdirTemp("", "couponkit-checkout")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	start := time.Date(2026, time.November, 18, 12, 0, 0, 0, time.UTC)
	if err := run(context.Background(), os.Stdout, filepath.Join(dir, "coupons.db"), start); err != nil {
		log.Fatal(err)
	}
}

// offer is a series of uploaded codes giving discount d, stacking as st,
// its returns under policy p.
func offer(name string, d series.Discount, st series.Stacking, p series.ReturnPolicy) series.Series {
	return series.Series{Name: name, TimeZone: "Europe/Berlin", Source: series.Source{Kind: series.Uploaded},
		Expiry: series.Expiry{Kind: series.DaysFromIssue, N: 30}, Discount: d, Stacking: st, Returns: p}
}

func eur(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// run does the whole demo on the SQLite file at path, at time now,
// writing a transcript to w.
func run(ctx context.Context, w io.Writer, path string, now time.Time) error {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	e, err := couponkit.New(couponkit.Config{Store: st, Now: func() time.Time { return now }})
	if err != nil {
		return err
	}
	say := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }

	// Three offers. SHOES20: 20% off shoes, not on sale, at most 30 EUR a
	// bill, under a 500 EUR budget; a return gives back the use and the
	// returned share of the discount. FIVE: 5 EUR off the bill. Both in
	// the group "spring", SHOES20 first. VIP: 30% off, alone on its bill.
	shoes := offer("20% off shoes", series.Discount{Kind: series.Percent, Percent: eur("20"), Cap: decimal.NewNullDecimal(eur("30")), Currency: "EUR"},
		series.Stacking{Group: "spring", Priority: 1}, series.ReturnBoth)
	shoes.Products = series.ProductRules{IncludeCategories: []string{"shoes"}, ExcludeCategories: []string{"sale"}}
	shoes.Budget = series.Budget{Total: decimal.NewNullDecimal(eur("500"))}
	five := offer("5 EUR off", series.Discount{Kind: series.Fixed, Amount: eur("5"), Currency: "EUR"},
		series.Stacking{Group: "spring", Priority: 2}, series.ReturnBudget)
	vip := offer("VIP 30% off", series.Discount{Kind: series.Percent, Percent: eur("30"), Currency: "EUR"},
		series.Stacking{Exclusive: true}, series.ReturnBudget)
	ids := map[string]string{}
	for code, s := range map[string]series.Series{"SHOES20": shoes, "FIVE": five, "VIP": vip} {
		s, err := e.CreateSeries(ctx, s)
		if err != nil {
			return err
		}
		ids[code] = s.ID
		if _, err := e.Upload(ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: []couponkit.UploadRow{{Code: code, Customer: couponkit.ByID("ana")}}}); err != nil {
			return err
		}
	}
	lines := []basket.Line{
		{ID: "1", Product: "runner", Categories: []string{"shoes"}, Quantity: 2, UnitPrice: eur("100.00")},
		{ID: "2", Product: "boot", Categories: []string{"shoes", "sale"}, Quantity: 1, UnitPrice: eur("60.00")},
		{ID: "3", Product: "socks", Categories: []string{"socks"}, Quantity: 3, UnitPrice: eur("5.00")},
	}
	req := couponkit.BasketRequest{Codes: []string{"FIVE", "SHOES20", "VIP"}, Customer: couponkit.ByID("ana"),
		IdempotencyKey: "sale-1", Currency: "EUR", Lines: lines}
	_, err = e.RedeemBasket(ctx, req)
	var refused *couponkit.BasketRefusedError
	if !errors.As(err, &refused) {
		return fmt.Errorf("the VIP coupon beside the others: %v", err)
	}
	for _, d := range refused.Decisions {
		if !d.Applied {
			say("%s refused: %s", d.Code, d.Refusals[0].Message)
		}
	}
	req.Codes = req.Codes[:2]
	res, err := e.RedeemBasket(ctx, req)
	if err != nil {
		return err
	}
	return receipt(ctx, e, say, res, ids["SHOES20"])
}

// receipt prints each coupon's discount and split, the budget, and then
// returns one pair of runners from both redemptions.
func receipt(ctx context.Context, e *couponkit.Engine, say func(string, ...any), res couponkit.BasketResult, shoesID string) error {
	for _, c := range res.Coupons {
		say("%s: %s EUR off", c.Decision.Code, c.Decision.Discount.StringFixed(2))
		for _, p := range c.Decision.Parts {
			say("  line %s: %d of %d cents", p.Line, p.Discount, p.Base)
		}
	}
	say("total discount %s EUR", res.Discount.Amount.StringFixed(2))
	budget := func() string {
		c, err := e.Counters(ctx, shoesID)
		if err != nil {
			return err.Error()
		}
		return c.BudgetSpent.Amount.StringFixed(2)
	}
	say("SHOES20 budget given: %s of 500.00 EUR", budget())
	for _, c := range res.Coupons {
		back, err := e.Reverse(ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: c.Redemption.ID},
			IdempotencyKey: "return-1", Lines: []basket.Return{{Line: "1", Quantity: 1}}, Reason: "one pair of runners returned"})
		if err != nil {
			return err
		}
		say("return of one runner on %s: %d cents of its discount back, %d cents to the budget, use back %v",
			c.Decision.Code, back.Return.Discount, back.Return.Budget, back.Return.Use)
	}
	say("SHOES20 budget given: %s of 500.00 EUR", budget())
	return nil
}

package couponkit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/internal/jsontest"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/series"
)

// A redemption request with lines, and what Validate answers on it, are
// written and read back in JSON with every field.
func TestCheckoutJSON(t *testing.T) {
	jsontest.RoundTrip(t, couponkit.RedeemRequest{Code: "ab12", Customer: couponkit.ByID("alice"), IdempotencyKey: "pos-1",
		Bill: series.Money{Currency: "EUR"}, Lines: []basket.Line{
			{ID: "1", Product: "runner", Categories: []string{"shoes"}, Quantity: 2, UnitPrice: decimal.RequireFromString("45.00")}}})
	jsontest.RoundTrip(t, couponkit.Check{Coupon: coupon.Coupon{ID: "c1", State: coupon.Issued}, Discount: series.Money{Amount: decimal.RequireFromString("9.00"), Currency: "EUR"},
		Parts: []coupon.Part{{Line: "1", Quantity: 2, Base: 9000, Discount: 900}}, Reduced: true})
	jsontest.RoundTrip(t, coupon.Redemption{ID: "r1", Status: coupon.StatusRedeemed, Lines: "0f", Parts: []coupon.Part{{Line: "1", Quantity: 1, Base: 5, Discount: 1}},
		Reduced: true, Budget: 1, Bill: decimal.RequireFromString("5"), Discount: decimal.RequireFromString("0.01"), Currency: "EUR",
		Returns: []coupon.Return{{Key: "ret-1", At: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Lines: []coupon.ReturnLine{{Line: "1", Quantity: 1}},
			Discount: 1, Budget: 1, Use: true}}})
	jsontest.RoundTrip(t, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: "r1"}, Actor: "till-1", Reason: "returned",
		Lines: []basket.Return{{Line: "1", Quantity: 2}}, Amount: decimal.RequireFromString("12.5"), Chargeback: true, IdempotencyKey: "ret-1"})
	jsontest.RoundTrip(t, couponkit.RedeemResult{Redemption: coupon.Redemption{ID: "r1", Status: coupon.StatusRedeemed, Bill: decimal.RequireFromString("5"),
		Discount: decimal.RequireFromString("1"), Currency: "EUR"}, Coupon: coupon.Coupon{ID: "c1", State: coupon.Issued},
		Return: coupon.Return{Key: "ret-1", Amount: 250, Whole: true, Chargeback: true, Discount: 25, Budget: 25}})
	jsontest.RoundTrip(t, coupon.Event{ID: "e1", Kind: coupon.EventReturned, CouponID: "c1", Returned: 100, BudgetBack: 100, UseBack: true})
}

// A till's journal of offline uses of a series with a budget: the lease
// holds a slice of the budget (six uses of at most 10 EUR, within the 35
// EUR left: all of it), the till spends it, reducing its fourth discount
// to the 5 EUR left (the series reduces), and a use past what the lease
// holds is recorded as a conflict; the budget counts exactly the lease.
func TestJournalUnderBudget(t *testing.T) {
	ctx := context.Background()
	e, clk := newEngine()
	s := tenOff()
	s.Redemption.MinBill = decimal.NullDecimal{}
	s.Issuance.MaxPerCustomer = 0
	s.Budget = series.Budget{Total: decimal.NewNullDecimal(decimal.NewFromInt(35)), OnExceed: series.BudgetReduce}
	s = must(e.CreateSeries(ctx, s))
	l := must(e.GrantLease(ctx, couponkit.LeaseRequest{Till: "till-1", SeriesID: s.ID, Key: "lease-1", Uses: 6, End: clk.now().Add(8 * time.Hour)}))
	var xs []couponkit.JournalEntry
	for i := range 5 {
		cust := fmt.Sprintf("c%d", i)
		c := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(cust)}))
		xs = append(xs, couponkit.JournalEntry{Key: fmt.Sprintf("sale-%d", i), LeaseID: l.Lease.ID, Code: c.Coupon.Code, Customer: cust,
			Bill: series.Money{Amount: decimal.NewFromInt(50), Currency: "EUR"}, At: clk.now()})
	}
	if got := l.Lease.Granted; got != (lease.Slice{Uses: 6, Money: 3500}) {
		t.Fatalf("granted %v, want 6 uses and the 35 EUR left", got)
	}
	xs[3].Discount = series.Money{Amount: decimal.NewFromInt(5), Currency: "EUR"} // reduced offline
	ack, err := e.ApplyJournal(ctx, couponkit.JournalBatch{Till: "till-1", Entries: xs})
	if err != nil {
		t.Fatalf("ApplyJournal: %v", err)
	}
	var got []string
	for _, x := range ack.Entries {
		if len(x.Conflicts) > 0 {
			got = append(got, "conflict")
			continue
		}
		got = append(got, x.Discount.Amount.String())
	}
	if want := "[10 10 10 5 conflict]"; fmt.Sprint(got) != want {
		t.Errorf("the journal's uses under a 35 EUR budget: %v, want %s", got, want)
	}
	if spent := must(e.Counters(ctx, s.ID)).BudgetSpent; !spent.Amount.Equal(decimal.NewFromInt(35)) {
		t.Errorf("the budget counts %s, want 35", spent)
	}
}

package couponkit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/series"
)

// A till's journal of offline uses of a series with a budget: the entries
// are decided at sync against what is left, one after another, so the
// uses past the budget are recorded as conflicts and the budget counts
// exactly what the recorded uses took.
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

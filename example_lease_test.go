package couponkit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// A till online: it leases 2 of the series' 3 uses, then asks the central
// to decide a sale. The use draws on its lease; the same sale uploaded
// later from the till's journal (its online answer was lost) is answered
// with the same record and counted once.
func ExampleEngine_RedeemAtTill() {
	ctx := context.Background()
	e, clk := newEngine()
	s := tenOff()
	s.Redemption.MaxPerSeries = limits.Limit(3)
	s = must(e.CreateSeries(ctx, s))
	c := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice")}))
	l := must(e.GrantLease(ctx, couponkit.LeaseRequest{Till: "till-7", SeriesID: s.ID, Key: "lease-1", Uses: 2, End: clk.now().Add(8 * time.Hour)}))
	fmt.Println("leased:", l.Lease.Granted.Uses, "left in the series:", l.Remaining)

	bill := series.Money{Amount: decimal.NewFromInt(80), Currency: "EUR"}
	r := must(e.RedeemAtTill(ctx, couponkit.TillRedeemRequest{
		Till: "till-7", Key: "sale-1001", SeriesID: s.ID, Code: c.Coupon.Code, Customer: "alice", Bill: bill, At: clk.now(),
	}))
	fmt.Println("discount:", r.Redemption.Discount.Amount, r.Redemption.Discount.Currency, "counted on:", r.Entry.Counted)

	ack := must(e.ApplyJournal(ctx, couponkit.JournalBatch{Till: "till-7", Entries: []couponkit.JournalEntry{{
		Key: "sale-1001", LeaseID: l.Lease.ID, Code: c.Coupon.Code, Customer: "alice", Bill: bill, At: clk.now().Add(time.Minute),
	}}}))
	fmt.Println("same record:", ack.Entries[0].RedemptionID == r.Redemption.Redemption.ID, "online:", ack.Entries[0].Online)
	counters := must(e.Counters(ctx, s.ID))
	fmt.Println("series uses counted:", counters.Uses)
	// Output:
	// leased: 2 left in the series: 1
	// discount: 10 EUR counted on: lease
	// same record: true online: true
	// series uses counted: 2
}

package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// Leases of a series with a money budget: a lease holds a slice of the
// budget beside its uses, counted on the series' budget counter under
// its cap.

// leaseMoneyTests are the money subtests of the lease engine tier.
var leaseMoneyTests = []test{
	{"GrantSpendReturnReclaim", testLeaseMoney},
	{"RaceAtBudget", testLeaseMoneyRace},
}

// budgetSeries creates a generated series of 10 EUR off with a use
// limit and a total budget.
func (e *env) budgetSeries(limit limits.Limit, total string) series.Series {
	return e.gen("budgeted", func(s *series.Series) {
		s.Redemption.MaxPerSeries = limit
		s.Budget.Total = decimal.NewNullDecimal(decimal.RequireFromString(total))
	})
}

// wantMoneyInvariants checks, for the series, that its budget counter is
// the money of its standing redemptions not made on a lease, plus what
// every lease holds of it, less the money of reversed uses counted on
// leases, and never past cap (cents).
func (e *env) wantMoneyInvariants(t *testing.T, seriesID string, cap int64) {
	t.Helper()
	ls := e.st.(store.LeaseStore)
	leases, err := ls.Leases(e.ctx, store.LeaseQuery{SeriesID: seriesID})
	mustOK(t, err, "Leases")
	entries, err := ls.TillEntries(e.ctx, store.TillEntryQuery{})
	mustOK(t, err, "TillEntries")
	reds, err := e.st.ListRedemptions(e.ctx, store.RedemptionQuery{SeriesID: seriesID, Status: coupon.StatusRedeemed})
	mustOK(t, err, "ListRedemptions")
	onLease := map[string]bool{}
	var want int64
	for _, x := range entries {
		if x.SeriesID != seriesID || x.Reverses != "" || x.Counted != lease.OnLease || x.Online {
			continue
		}
		onLease[x.RedemptionID] = true
		if !x.Reversed.IsZero() {
			want -= x.Budget
		}
	}
	for _, r := range reds {
		if !onLease[r.ID] {
			want += r.Budget
		}
	}
	for _, l := range leases {
		if err := l.Check(); err != nil {
			t.Errorf("lease %s: %v", l.ID, err)
		}
		want += l.Granted.Sub(l.Returned).Sub(l.Reclaimed).Money
	}
	got := e.count(key(limits.SeriesBudget, seriesID, "", "")).N
	if got != want || got > cap {
		t.Errorf("series budget counted %d, want %d (redemptions + what %d leases hold), within %d", got, want, len(leases), cap)
	}
}

func testLeaseMoney(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.budgetSeries(10, "25")
	end := e.clk.Now().Add(time.Hour)
	r, err := e.e.GrantLease(e.ctx, couponkit.LeaseRequest{Till: "till-1", SeriesID: s.ID, Key: "g1", Uses: 2, End: end})
	mustOK(t, err, "a grant of 2 uses of 10 EUR")
	l1 := r.Lease
	same(t, l1.Granted, lease.Slice{Uses: 2, Money: 2000}, "the lease holds two discounts of the budget")
	same(t, l1.Currency, "EUR", "in the series' currency")
	same(t, r.MoneyRemaining, int64(500), "and the call tells what the budget has left")
	l2 := e.grant(t, "till-2", s.ID, "g2", 2)
	same(t, l2.Granted, lease.Slice{Uses: 2, Money: 500}, "a grant takes no more than the budget has left")
	_, err = e.e.GrantLease(e.ctx, couponkit.LeaseRequest{Till: "till-3", SeriesID: s.ID, Key: "g3", Uses: 1, End: end})
	wantCode(t, err, errcode.BudgetExhausted, "a grant once the budget is leased out")
	_, err = e.e.Redeem(e.ctx, couponkit.RedeemRequest{Code: e.issue(s.ID, bob).Code, Customer: couponkit.ByID(bob), IdempotencyKey: "pos-1", Bill: eur("100")})
	wantCode(t, err, errcode.BudgetExhausted, "a central redemption once the budget is leased out")
	e.wantMoneyInvariants(t, s.ID, 2500)

	// till-1 spends one discount offline, returns its other use (and the
	// money left with it), then gives the use back.
	c := e.issue(s.ID, alice)
	use := couponkit.JournalEntry{Key: "sale-1", LeaseID: l1.ID, Code: c.Code, Customer: alice, Bill: eur("50"), At: e.clk.Now()}
	ack, err := e.e.ApplyJournal(e.ctx, couponkit.JournalBatch{Till: "till-1", Entries: []couponkit.JournalEntry{use}})
	if mustOK(t, err, "ApplyJournal"); len(ack.Entries) == 1 {
		same(t, ack.Entries[0].Counted, lease.OnLease, "the use is counted on its lease")
		same(t, ack.Entries[0].Budget, int64(1000), "with the money its discount took")
	}
	r, err = e.e.ReturnLease(e.ctx, couponkit.LeaseCall{Till: "till-1", LeaseID: l1.ID, Key: "r1", Uses: 1})
	mustOK(t, err, "a return of the last use")
	same(t, r.Lease.Returned, lease.Slice{Uses: 1, Money: 1000}, "a return of the last use gives back the money left")
	same(t, r.Lease.Used, lease.Slice{Uses: 1, Money: 1000}, "what was spent stays spent")
	e.wantMoneyInvariants(t, s.ID, 2500)
	back := couponkit.JournalEntry{Key: "void-1", LeaseID: l1.ID, Code: c.Code, Customer: alice, Bill: eur("50"), At: e.clk.Now(), Reverses: "sale-1"}
	_, err = e.e.ApplyJournal(e.ctx, couponkit.JournalBatch{Till: "till-1", Entries: []couponkit.JournalEntry{back}})
	mustOK(t, err, "a reversal")
	if n := e.count(key(limits.SeriesBudget, s.ID, "", "")).N; n != 500 {
		t.Errorf("after the return and the reversal the budget counts %d, want 500 (till-2's lease)", n)
	}
	e.wantMoneyInvariants(t, s.ID, 2500)

	// till-2's lease lapses: its money comes back.
	e.clk.Advance(time.Hour + 3*time.Minute)
	got, err := e.e.ReclaimLapsed(e.ctx, couponkit.ReclaimRequest{Skew: 2 * time.Minute})
	mustOK(t, err, "ReclaimLapsed")
	for _, l := range got {
		if l.ID == l2.ID {
			same(t, l.Reclaimed, lease.Slice{Uses: 2, Money: 500}, "a reclaim takes back the money left")
		}
	}
	if n := e.count(key(limits.SeriesBudget, s.ID, "", "")).N; n != 0 {
		t.Errorf("after every lease closed the budget counts %d, want 0", n)
	}
	e.wantMoneyInvariants(t, s.ID, 2500)
}

// testLeaseMoneyRace races grants and returns of 64 tills, started
// together, at a series' budget: the budget counter never passes the
// budget and equals what the leases hold.
func testLeaseMoneyRace(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.budgetSeries(limits.NoLimit, "55")
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 64 {
		wg.Go(func() {
			<-start
			till := fmt.Sprintf("till-%d", i)
			r, err := e.e.GrantLease(e.ctx, couponkit.LeaseRequest{Till: till, SeriesID: s.ID, Key: "g", Uses: 1, End: e.clk.Now().Add(time.Hour)})
			if err != nil {
				if c := errcode.CodeOf(err); c != errcode.BudgetExhausted && c != errcode.GuardFailed {
					t.Errorf("%s: grant: %v", till, err)
				}
				return
			}
			if i%3 == 0 {
				if _, err := e.e.ReturnLease(e.ctx, couponkit.LeaseCall{Till: till, LeaseID: r.Lease.ID, Key: "r", Uses: 1}); err != nil {
					t.Errorf("%s: return: %v", till, err)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	e.wantMoneyInvariants(t, s.ID, 5500)
}

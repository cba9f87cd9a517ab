package couponkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/series"
)

// DefaultLeaseMoney takes what the uses can give at most, within what the
// budget has left; half of what is left for a discount without a bound.
func TestDefaultLeaseMoney(t *testing.T) {
	capped := series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(20), Cap: decimal.NewNullDecimal(decimal.RequireFromString("7.5")), Currency: "EUR"}
	open := series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(20), Currency: "EUR"}
	yen := series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(500), Currency: "JPY"}
	for _, tc := range []struct {
		d          series.Discount
		uses, left int64
		want       int64
	}{
		{tenOff().Discount, 3, 10000, 3000},
		{tenOff().Discount, 3, 2500, 2500},
		{tenOff().Discount, 3, 0, 0},
		{capped, 2, 10000, 1500},
		{open, 2, 10000, 5000},
		{open, 2, 1, 1},
		{yen, 4, 100000, 2000},
		{tenOff().Discount, 1 << 62, 1 << 61, 1 << 61},
	} {
		s := series.Series{Discount: tc.d}
		if got := couponkit.DefaultLeaseMoney(&s, tc.uses, tc.left); got != tc.want {
			t.Errorf("%s %s, %d uses, %d left: %d, want %d", tc.d.Kind, tc.d.Currency, tc.uses, tc.left, got, tc.want)
		}
	}
}

// A grant may ask for an amount of the budget, in the series' currency and
// within what is left; money asked of a series without a budget, in
// another currency, finer than the currency's minor units or past what is
// left is refused, and changes nothing.
func TestGrantLeaseMoneyAsked(t *testing.T) {
	ctx := context.Background()
	e, clk := newEngine()
	s := tenOff()
	s.Budget.Total = decimal.NewNullDecimal(decimal.NewFromInt(30))
	s = must(e.CreateSeries(ctx, s))
	plain := must(e.CreateSeries(ctx, tenOff()))
	req := func(key, seriesID string, m series.Money) couponkit.LeaseRequest {
		return couponkit.LeaseRequest{Till: "till-1", SeriesID: seriesID, Key: key, Uses: 2, Money: m, End: clk.now().Add(time.Hour)}
	}
	for _, tc := range []struct {
		r    couponkit.LeaseRequest
		code errcode.Code
	}{
		{req("a", plain.ID, eur("5")), errcode.InvalidArgument},
		{req("b", s.ID, series.Money{Amount: decimal.NewFromInt(5), Currency: "USD"}), errcode.InvalidArgument},
		{req("c", s.ID, eur("5.005")), errcode.InvalidArgument},
		{req("d", s.ID, eur("-1")), errcode.InvalidArgument},
		{req("e", s.ID, eur("30.01")), errcode.BudgetExhausted},
	} {
		if _, err := e.GrantLease(ctx, tc.r); errcode.CodeOf(err) != tc.code {
			t.Errorf("grant %s asking %s: %v, want %s", tc.r.Key, tc.r.Money, err, tc.code)
		}
	}
	r, err := e.GrantLease(ctx, req("f", s.ID, eur("12.50")))
	if err != nil || r.Lease.Granted != (lease.Slice{Uses: 2, Money: 1250}) || r.MoneyRemaining != 1750 {
		t.Fatalf("a grant of 12.50 EUR: %+v, %v", r, err)
	}
	again, err := e.GrantLease(ctx, req("f", s.ID, eur("12.5")))
	if err != nil || !again.Replayed {
		t.Errorf("the same grant again (12.5 for 12.50): %+v, %v", again, err)
	}
	if _, err := e.GrantLease(ctx, req("f", s.ID, eur("12"))); !errors.Is(err, errcode.ErrKeyMismatch) {
		t.Errorf("the same key asking other money: %v", err)
	}
}

// A lease's JSON form: a slice without money is written as before money
// joined it, and one with money carries it in minor units beside the
// lease's currency; a LeaseRequest without money reads as before.
func TestLeaseMoneyJSON(t *testing.T) {
	b, _ := json.Marshal(lease.Slice{Uses: 3})
	m, _ := json.Marshal(lease.Slice{Uses: 3, Money: 1250})
	if string(b) != `{"uses":3}` || string(m) != `{"uses":3,"money":1250}` {
		t.Errorf("slices: %s, %s", b, m)
	}
	var r couponkit.LeaseRequest
	if err := json.Unmarshal([]byte(`{"till":"t","series_id":"s","key":"k","uses":2,"end":"2030-01-01T00:00:00Z"}`), &r); err != nil || !r.Money.Amount.IsZero() {
		t.Errorf("an old request: %+v, %v", r, err)
	}
	r.Money = eur("12.50")
	out, _ := json.Marshal(r)
	var back couponkit.LeaseRequest
	if err := json.Unmarshal(out, &back); err != nil || !back.Money.Amount.Equal(r.Money.Amount) || back.Money.Currency != "EUR" {
		t.Errorf("a request with money: %s -> %+v, %v", out, back, err)
	}
}

// A till does not sell offline under a budget per customer; a use that
// reaches the central all the same (a till of an older version) is
// counted against the customer's budget under its cap, and recorded as a
// conflict when the cap cannot take it, its money on the lease.
func TestJournalPerCustomerBudgetConflict(t *testing.T) {
	ctx := context.Background()
	e, clk := newEngine()
	s := tenOff()
	s.Redemption.MinBill = decimal.NullDecimal{}
	s.Issuance.MaxPerCustomer = 0
	s.Budget = series.Budget{Total: decimal.NewNullDecimal(decimal.NewFromInt(100)), PerCustomer: decimal.NewNullDecimal(decimal.NewFromInt(15))}
	s = must(e.CreateSeries(ctx, s))
	l := must(e.GrantLease(ctx, couponkit.LeaseRequest{Till: "till-1", SeriesID: s.ID, Key: "g", Uses: 3, End: clk.now().Add(time.Hour)}))
	var xs []couponkit.JournalEntry
	for i := range 2 {
		c := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice")}))
		xs = append(xs, couponkit.JournalEntry{Key: "sale-" + string(rune('a'+i)), LeaseID: l.Lease.ID, Code: c.Coupon.Code, Customer: "alice", Bill: eur("50"), At: clk.now()})
	}
	ack := must(e.ApplyJournal(ctx, couponkit.JournalBatch{Till: "till-1", Entries: xs}))
	if len(ack.Entries) != 2 || ack.Entries[0].Conflicted() || !ack.Entries[1].Conflicted() ||
		ack.Entries[1].Conflicts[0].Code != errcode.CustomerBudgetExhausted {
		t.Fatalf("the two uses: %+v", ack.Entries)
	}
	r := must(e.ReturnLease(ctx, couponkit.LeaseCall{Till: "till-1", LeaseID: l.Lease.ID, Key: "r", Uses: 1}))
	if got := r.Lease; got.Used != (lease.Slice{Uses: 2, Money: 2000}) || got.Conflicted != 1 || got.Returned != (lease.Slice{Uses: 1, Money: 1000}) {
		t.Errorf("the lease after the uses and the return of its last use: %+v", got)
	}
}

// A lease granted before its series had a budget holds no money; a
// top-up after the budget was set takes money for the uses it adds, in
// the series' currency.
func TestTopUpTakesMoneyOnceBudgeted(t *testing.T) {
	ctx := context.Background()
	e, clk := newEngine()
	s := must(e.CreateSeries(ctx, tenOff()))
	l := must(e.GrantLease(ctx, couponkit.LeaseRequest{Till: "till-1", SeriesID: s.ID, Key: "g", Uses: 2, End: clk.now().Add(time.Hour)}))
	if l.Lease.Granted != (lease.Slice{Uses: 2}) || l.Lease.Currency != "" || l.MoneyRemaining != -1 {
		t.Fatalf("a grant without a budget: %+v", l)
	}
	s.Budget.Total = decimal.NewNullDecimal(decimal.NewFromInt(100))
	must(e.UpdateSeries(ctx, s))
	r, err := e.TopUpLease(ctx, couponkit.LeaseCall{Till: "till-1", LeaseID: l.Lease.ID, Key: "u", Uses: 3})
	if err != nil || r.Lease.Granted != (lease.Slice{Uses: 5, Money: 3000}) || r.Lease.Currency != "EUR" || r.Lease.Check() != nil {
		t.Fatalf("a top-up once budgeted: %+v, %v", r, err)
	}
}

package till_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/till"
)

// TestOfflineSpendsLeaseMoney: on a series with a 5 EUR discount and a
// budget, the till spends each offline discount from its lease's money:
// a lease with 12 EUR gives two whole discounts, then refuses the third
// (the series refuses) or gives the 2 EUR left (the series reduces), and
// refuses every use once the money is spent; under a budget per customer
// it refuses offline use altogether.
func TestOfflineSpendsLeaseMoney(t *testing.T) {
	for _, tc := range []struct {
		name   string
		budget series.Budget
		want   string // each of four uses: its discount, or the refusal's code
	}{
		{"refuse", series.Budget{Total: eurAmount("100")}, "[5 5 1706 1706]"},
		{"reduce", series.Budget{Total: eurAmount("100"), OnExceed: series.BudgetReduce}, "[5 5 2 1706]"},
		{"per customer", series.Budget{Total: eurAmount("100"), PerCustomer: eurAmount("50")}, "[unavailable unavailable unavailable unavailable]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			j := openJournal(t, openDB(t, filepath.Join(t.TempDir(), "till.db")))
			s := permissive()
			s.Budget = tc.budget
			putSeries(t, j, s)
			l, err := lease.New(lease.Params{ID: "l1", Till: "till-1", SeriesID: "s1", Currency: "EUR",
				Slice: lease.Slice{Uses: 10, Money: 1200}, End: t0.Add(time.Hour)}, t0)
			if err != nil {
				t.Fatal(err)
			}
			l.Allowance = 10
			if err := j.PutLease(ctx, l); err != nil {
				t.Fatal(err)
			}
			var got []string
			spent := int64(0)
			for i := range 4 {
				e, err := j.Redeem(ctx, use(fmt.Sprintf("sale-%d", i), t0.Add(time.Duration(i)*time.Minute)), nil)
				var re *refusal.Error
				switch {
				case errors.As(err, &re):
					got = append(got, fmt.Sprint(int(re.Refusals[0].Code)))
				case errors.Is(err, errcode.ErrUnavailable):
					got = append(got, "unavailable")
				case err != nil:
					t.Fatalf("sale %d: %v", i, err)
				default:
					got = append(got, e.Discount.Amount.String())
					spent += e.Budget
				}
			}
			if fmt.Sprint(got) != tc.want {
				t.Errorf("the uses gave %v, want %s", got, tc.want)
			}
			states, err := j.Leases(ctx)
			if err != nil || len(states) != 1 {
				t.Fatalf("Leases: %v, %v", states, err)
			}
			if st := states[0]; st.MoneyUsed != spent || st.MoneyLeft() != 1200-spent || st.Money != 1200 {
				t.Errorf("the lease's money: %+v, want 1200 granted and %d spent", st, spent)
			}
		})
	}
}

func eurAmount(s string) decimal.NullDecimal {
	return decimal.NewNullDecimal(decimal.RequireFromString(s))
}

// TestTillSpendsAndReturnsLeaseMoney: a till of the library leases uses
// of a series with a 25 EUR budget (reducing), which takes the budget;
// offline it gives 10, 10 and the 5 EUR left, and refuses a fourth use;
// the uses are uploaded and counted on the lease with the discounts
// given; its sync returns the uses left of the spent lease, and a new
// grant is refused; the budget counts exactly what was given.
func TestTillSpendsAndReturnsLeaseMoney(t *testing.T) {
	ctx := context.Background()
	c := newCentral(t)
	s, err := c.e.CreateSeries(ctx, series.Series{Name: "budgeted", TimeZone: "UTC",
		Source:     series.Source{Kind: series.Generated, Length: 8, Alphabet: series.ConfusionFree},
		Redemption: limits.RedemptionRules{MaxPerSeries: 100}, Expiry: series.Expiry{Kind: series.Never},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"},
		Budget:   series.Budget{Total: eurAmount("25"), OnExceed: series.BudgetReduce}})
	if err != nil {
		t.Fatal(err)
	}
	c.s = s
	j, err := till.Open(ctx, openDB(t, filepath.Join(t.TempDir(), "till.db")), skew, till.WithTill("till-1"))
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for _, who := range []string{"alice", "bob", "carol", "dave"} {
		codes[who] = c.issue(t, who) // known to the till from the feed: verified
	}
	tl, err := till.New(till.Config{ID: "till-1", Journal: j, Central: unavailable{till.Local{Engine: c.e}}, Deadline: 50 * time.Millisecond,
		Now: c.clock.Now, Series: []string{s.ID}, Size: func(lease.SizeInput) int64 { return 10 }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tl.Sync(ctx); err != nil {
		t.Fatalf("the first sync: %v", err)
	}
	var gave []string
	for i, who := range []string{"alice", "bob", "carol", "dave"} {
		r, err := tl.Redeem(ctx, c.sale(fmt.Sprintf("s%d", i), codes[who], who), nil)
		if err != nil {
			gave = append(gave, "refused")
			continue
		}
		gave = append(gave, r.Entry.Discount.Amount.String())
	}
	if fmt.Sprint(gave) != "[10 10 5 refused]" {
		t.Errorf("offline the till gave %v, want [10 10 5 refused]", gave)
	}
	rep, err := tl.Sync(ctx)
	if !errors.Is(err, errcode.ErrBudgetExhausted) || len(rep.Leases) != 1 || rep.Leases[0].Kind != lease.Return || rep.Leases[0].Uses != 7 {
		t.Fatalf("the second sync: %+v, %v; want the 7 uses left returned, a new grant refused", rep, err)
	}
	if p, err := j.Pending(ctx, 0, 0); err != nil || len(p) != 0 {
		t.Errorf("pending after the sync: %+v, %v", p, err)
	}
	l, err := c.st.Lease(ctx, rep.Leases[0].LeaseID)
	if err != nil || l.Used != (lease.Slice{Uses: 3, Money: 2500}) || l.Returned != (lease.Slice{Uses: 7}) {
		t.Errorf("the central's lease: %+v, %v; want 3 uses and 25 EUR used, 7 uses returned", l, err)
	}
	cs, err := c.e.Counters(ctx, s.ID)
	if err != nil || !cs.BudgetSpent.Amount.Equal(decimal.NewFromInt(25)) {
		t.Errorf("the budget counts %v, %v; want the 25 EUR given", cs.BudgetSpent, err)
	}
}

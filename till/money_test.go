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
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
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

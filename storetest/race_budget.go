package storetest

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// Customers redeeming their own coupons of a series whose money budget
// runs out halfway: 7 EUR each on a basket, under a budget of 7 EUR for
// half the requests and 3 EUR more. Under BudgetRefuse (odd rounds) half
// succeed; under BudgetReduce (even rounds) one more gets the 3 EUR left,
// and the budget is spent to the cent. Never a cent over, and the budget
// counters equal the unreversed discounts, before and after reversals.
func raceBudget(t *testing.T, e *env, p, round int) {
	q := p/2 + p%2 // distinct requests (pairs share a key)
	full := q / 2
	policy, allowed := series.BudgetRefuse, full
	if round%2 == 0 {
		policy, allowed = series.BudgetReduce, full+1
	}
	capMinor := int64(700*full + 300)
	s := e.gen(raceName("budget", round), func(s *series.Series) {
		s.Discount = series.Discount{Kind: series.Fixed, Amount: dec("7"), Currency: "EUR"}
		s.Budget = series.Budget{Total: decimalNull(capMinor), PerCustomer: nullDec("1000"), OnExceed: policy}
	})
	codes := make([]string, q)
	for j := range codes {
		codes[j] = e.issue(s.ID, fmt.Sprintf("r%d", j)).Code
	}
	outs := run(p, func(i int) redeemOutcome {
		k := pairKey(round, i)
		req := couponkit.RedeemRequest{Code: codes[i/2], Customer: couponkit.ByID(fmt.Sprintf("r%d", i/2)), IdempotencyKey: k,
			Bill: series.Money{Currency: "EUR"}, Lines: []basket.Line{
				{ID: "1", Product: "shirt", Quantity: 1, UnitPrice: dec("20")},
				{ID: "2", Product: "tie", Quantity: 2, UnitPrice: dec("15")},
			}}
		r, err := e.e.Redeem(e.ctx, req)
		return redeemOutcome{key: k, res: r, err: err}
	})
	rule := fmt.Sprintf("%d customers at a %d-cent budget (%s)", q, capMinor, policy)
	checkRedeemRace(t, e, s.ID, outs, allowed, rule, refusedFor(errcode.BudgetExhausted))
	spent := checkBudget(t, e, s.ID, rule)
	if want := int64(700 * full); policy == series.BudgetReduce {
		if spent != capMinor {
			t.Errorf("%s: %d cents given, want the whole budget of %d", rule, spent, capMinor)
		}
	} else if spent != want {
		t.Errorf("%s: %d cents given, want %d", rule, spent, want)
	}
	// Give some back, concurrently, and count again.
	var ids []string
	for _, o := range outs {
		if o.err == nil && !o.res.Replayed && len(ids) < 3 {
			ids = append(ids, o.res.Redemption.ID)
		}
	}
	errs := run(len(ids), func(i int) error {
		_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: ids[i]}})
		return err
	})
	for _, err := range errs {
		wantOK(t, err, "%s: reversing a redemption", rule)
	}
	checkBudget(t, e, s.ID, rule+", after reversals")
}

// decimalNull is a cap of cents.
func decimalNull(cents int64) decimal.NullDecimal {
	return decimal.NewNullDecimal(decimal.New(cents, -2))
}

// checkBudget checks that the budget counters of a series equal what its
// unreversed redemptions and live holds took, in all and per customer,
// that none passes its cap, and that each record's parts sum to its
// discount; it returns what they took.
func checkBudget(t *testing.T, e *env, seriesID, rule string) int64 {
	t.Helper()
	s, err := e.st.Series(e.ctx, seriesID)
	mustOK(t, err, "Series")
	rs, err := e.st.ListRedemptions(e.ctx, store.RedemptionQuery{SeriesID: seriesID})
	mustOK(t, err, "ListRedemptions")
	var total int64
	per := map[string]int64{}
	for _, r := range rs {
		var parts int64
		for _, x := range r.Parts {
			parts += x.Discount
		}
		if got := r.Discount.Shift(2).IntPart(); len(r.Parts) > 0 && parts != got {
			t.Errorf("%s: redemption %s's parts sum to %d cents, its discount is %d", rule, r.ID, parts, got)
		}
		if r.Status != coupon.StatusRedeemed && r.Status != coupon.StatusHeld {
			continue
		}
		total += r.Budget
		per[r.Customer] += r.Budget
	}
	if c := e.count(key(limits.SeriesBudget, seriesID, "", "")).N; c != total {
		t.Errorf("%s: the series budget counter is %d, the live records took %d", rule, c, total)
	}
	if capMinor := s.Budget.Total.Decimal.Shift(2).IntPart(); total > capMinor {
		t.Errorf("%s: %d cents given past a budget of %d", rule, total, capMinor)
	}
	for cust, n := range per {
		if c := e.count(key(limits.CustomerBudget, seriesID, "", cust)).N; c != n {
			t.Errorf("%s: %s's budget counter is %d, their live records took %d", rule, cust, c, n)
		}
	}
	return total
}

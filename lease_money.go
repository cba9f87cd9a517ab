package couponkit

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// Money in leases: a lease of a series with a budget (series.Budget.Total)
// holds a slice of the budget beside its uses (lease.Slice.Money, in minor
// units of the series' currency). A grant or top-up counts the money
// against the series' budget counter (limits.SeriesBudget) at once, in the
// same change as the lease and under the guard a redemption's bump carries
// (counted + granted <= cap), so the budget holds whatever the tills spend
// offline; a return and a reclaim give the unspent money back, as they do
// the uses. A budget per customer is not leased: see package lease. A
// till's use decided online (RedeemAtTill) takes a use of its lease but
// its money from the series' budget counter, as any central redemption
// does, leaving the lease's money to the till's offline uses.

// askedMoney is m in minor units of its currency: 0 for the zero Money;
// a negative amount, an amount without a currency or one finer than the
// currency's minor units is an InvalidArgument error on "Money".
func askedMoney(m series.Money) (int64, error) {
	if m.Amount.IsZero() {
		return 0, nil
	}
	places := int32(series.MinorUnits(m.Currency))
	switch {
	case m.Currency == "":
		return 0, errcode.New(errcode.InvalidArgument, "Money.Currency", "is required with an amount")
	case m.Amount.IsNegative():
		return 0, errcode.New(errcode.InvalidArgument, "Money", "must not be negative")
	case m.Amount.Exponent() < -places && !m.Amount.Equal(m.Amount.Truncate(places)):
		return 0, errcode.New(errcode.InvalidArgument, "Money", fmt.Sprintf("has more decimal places than %s has (%d)", m.Currency, places))
	}
	minor := m.Amount.Shift(places)
	if minor.GreaterThan(moneyMax) {
		return 0, errcode.New(errcode.InvalidArgument, "Money", "is too large")
	}
	return minor.IntPart(), nil
}

// grantSlice is what a grant or a top-up of uses of the series takes: the
// uses, and on a series with a budget the money asked (in its currency) or
// DefaultLeaseMoney's, and the lease's currency. Money asked of a series
// without a budget, or more than its budget has left, is refused, and so
// is a grant on a budget with nothing left (errcode.BudgetExhausted on
// "Money").
func (e *Engine) grantSlice(ctx context.Context, seriesID string, uses int64, asked series.Money) (lease.Slice, string, error) {
	out := lease.Slice{Uses: uses}
	s, err := e.series(ctx, seriesID)
	if err != nil {
		return out, "", err
	}
	a, _ := askedMoney(asked) // checked by the call's validation
	if !s.Budget.Total.Valid {
		if a != 0 {
			return out, "", errcode.New(errcode.InvalidArgument, "Money", "the series has no budget to lease")
		}
		return out, "", nil
	}
	cur := s.Discount.Currency
	if a != 0 && asked.Currency != cur {
		return out, "", errcode.New(errcode.InvalidArgument, "Money.Currency", "must be the series' currency, "+cur)
	}
	left, err := e.budgetLeft(ctx, s)
	if err != nil {
		return out, "", err
	}
	switch {
	case a > left:
		return out, "", errcode.New(errcode.BudgetExhausted, "Money", fmt.Sprintf("the series' budget has %d left (minor units of %s), less than asked", left, cur))
	case a > 0:
		out.Money = a
	default:
		out.Money = DefaultLeaseMoney(s, uses, left)
	}
	if out.Money <= 0 {
		return out, "", errcode.New(errcode.BudgetExhausted, "Money", "the series' budget has nothing left to lease")
	}
	return out, cur, nil
}

// moneyMax bounds an amount of money in minor units.
var moneyMax = decimal.New(math.MaxInt64/4, 0)

// DefaultLeaseMoney is the money a lease of uses uses of s takes of its
// budget when the till asks for no amount, given what the budget has left
// (minor units of the series' currency): what those uses can give at most,
// uses times the largest discount of one use (a Fixed discount's amount, a
// Percent discount's cap, rounded up to minor units), within what is left.
// A discount without such a bound (a Percent discount without a cap, a
// PerUnit discount) takes half of what is left, so that the other tills
// and the central keep room; at least one minor unit while anything is
// left.
func DefaultLeaseMoney(s *series.Series, uses, left int64) int64 {
	if left <= 0 || uses <= 0 {
		return 0
	}
	per := perUseBound(&s.Discount)
	if per <= 0 {
		return max(left/2, 1)
	}
	if uses > left/per {
		return left
	}
	return min(uses*per, left)
}

// perUseBound is the largest discount one use of d gives, in minor units
// of d's currency rounded up; 0 when d bounds it not.
func perUseBound(d *series.Discount) int64 {
	places := int32(series.MinorUnits(d.Currency))
	var a = d.Amount
	switch {
	case d.Kind == series.Fixed:
	case d.Kind == series.Percent && d.Cap.Valid:
		a = d.Cap.Decimal
	default:
		return 0
	}
	m := a.Shift(places).Ceil()
	if m.GreaterThan(moneyMax) {
		return 0
	}
	return m.IntPart()
}

// budgetLeft is what s's total budget has left by its counter, in minor
// units; -1 for a series without one.
func (e *Engine) budgetLeft(ctx context.Context, s *series.Series) (int64, error) {
	if !s.Budget.Total.Valid {
		return -1, nil
	}
	var cur [1]store.Count
	if err := e.st.Counters(ctx, []store.CounterKey{{Counter: limits.SeriesBudget, Series: s.ID}}, cur[:]); err != nil {
		return 0, err
	}
	return max(0, budgetCap(s)-cur[0].N), nil
}

// budgetCap is s's total budget in minor units of its currency.
func budgetCap(s *series.Series) int64 {
	return s.Budget.Total.Decimal.Shift(int32(series.MinorUnits(s.Discount.Currency))).IntPart()
}

// returnSlice is what a return of uses and money asked gives back of l:
// those, and all the money left when the return leaves l no use.
func returnSlice(l *lease.Lease, uses int64, asked series.Money) (lease.Slice, error) {
	a, _ := askedMoney(asked) // checked by the call's validation
	if a != 0 && asked.Currency != l.Currency {
		return lease.Slice{}, errcode.New(errcode.InvalidArgument, "Money.Currency", "must be the lease's currency")
	}
	back := lease.Slice{Uses: uses, Money: a}
	if left := l.Left(); uses > 0 && uses == left.Uses && left.Money > a {
		back.Money = left.Money
	}
	return back, nil
}

// moneyBump is the bump of the series' budget counter by delta that a
// lease call makes: an increment guarded by the series' budget.
func (e *Engine) moneyBump(ctx context.Context, seriesID string, delta int64, now time.Time) (store.Bump, error) {
	b := store.Bump{Key: store.CounterKey{Counter: limits.SeriesBudget, Series: seriesID}, Delta: delta, At: now}
	if delta > 0 {
		s, err := e.series(ctx, seriesID)
		if err != nil {
			return b, err
		}
		if !s.Budget.Total.Valid {
			return b, errcode.New(errcode.InvalidArgument, "Money", "the series has no budget to lease")
		}
		b.Guard = limits.Guard{Counter: limits.SeriesBudget, Limit: limits.Limit(budgetCap(s))}
	}
	return b, nil
}

// remainingBoth is remaining, and what the series' budget has left (-1
// without a budget).
func (e *Engine) remainingBoth(ctx context.Context, seriesID string) (int64, int64, error) {
	n, err := e.remaining(ctx, seriesID)
	if err != nil {
		return 0, 0, err
	}
	s, err := e.series(ctx, seriesID)
	if err != nil {
		return 0, 0, err
	}
	m, err := e.budgetLeft(ctx, s)
	return n, m, err
}

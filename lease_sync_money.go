package couponkit

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// A till's use of a series with a budget takes the discount the till gave
// (JournalEntry.Discount, or the series' discount of the bill when the
// entry gives none) of the budget: of its lease's money when the lease
// can take the use and its money (lease.Lease.Use), the series' budget
// counter being then left out of the decision, as the use counter is;
// else of the series' budget counter, under its cap. What the central
// counts is the till's discount: when the central's own decision would
// count less (a per-customer budget, which a till does not keep offline,
// or the series' budget for a use its lease could not take), the use is
// recorded as a conflict (the money went out) and takes nothing of the
// series' counter, so that the counter never passes the cap.

// tillSpend is what a till's use takes of its series' budget.
type tillSpend struct {
	budgeted bool         // the series has a total budget
	given    series.Money // the discount the till gave
	minor    int64        // it in minor units of the series' currency
}

// entrySpend is what x, a use of the series, takes of its budget.
func (e *Engine) entrySpend(ctx context.Context, seriesID string, x *JournalEntry) tillSpend {
	s, err := e.series(ctx, seriesID)
	if err != nil || !s.Budget.Total.Valid || x.Reverses != "" {
		return tillSpend{}
	}
	cur := s.Discount.Currency
	d := x.Discount
	if d.Currency != cur || d.Amount.IsNegative() {
		d = e.entryDiscount(ctx, seriesID, x.Bill)
	}
	if d.Currency != cur {
		d = series.Money{Amount: decimal.Zero, Currency: cur}
	}
	places := int32(series.MinorUnits(cur))
	d.Amount = d.Amount.Truncate(places) // a budget counts whole minor units, rounded down
	return tillSpend{budgeted: true, given: d, minor: d.Amount.Shift(places).IntPart()}
}

// budgetPassed is the conflict of a till's use that gave more than the
// budget could count for it.
func budgetPassed(given, counted int64) refusal.Refusal {
	return refusal.Refusal{Code: errcode.BudgetExhausted, Rule: refusal.BudgetExhausted,
		Message: fmt.Sprintf("the till gave a discount of %d minor units; the budget could count %d for this use", given, counted)}
}

// giveBackLeaseMoney adds to ch the bump that gives back to the series'
// budget the money a conflicted use t took of its lease (a conflicted use
// has no redemption whose reversal would give it back).
func giveBackLeaseMoney(ch *store.Change, t *lease.Entry, at store.Bump) {
	if t.RedemptionID != "" || t.Counted != lease.OnLease || t.Budget <= 0 {
		return
	}
	at.Key = store.CounterKey{Counter: limits.SeriesBudget, Series: t.SeriesID}
	at.Delta = -t.Budget
	ch.Bumps = append(ch.Bumps, at)
}

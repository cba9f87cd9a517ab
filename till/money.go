package till

import (
	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
)

// Offline uses of a series with a budget (series.Budget): a lease of such
// a series holds a slice of the series' total budget beside its uses
// (lease.Slice.Money), and an offline use spends its discount from it.
// When the lease's money left cannot cover the discount, the till refuses
// the use (the central's refusal, refusal.BudgetSpent) or, when the series
// reduces a discount to what is left (series.BudgetReduce), gives what the
// lease has left. The journal entry keeps the discount given, which the
// central counts on the lease when the till syncs.
//
// A budget per customer cannot be kept offline (a customer may buy at
// several tills), so the till refuses offline every use of a series with
// one (errcode.ErrUnavailable on "Budget.PerCustomer"): such uses are
// decided online only.

// spendWant is what an offline use asks of its lease's money.
type spendWant struct {
	budgeted bool
	reduce   bool
	discount series.Money // the series' discount of the bill, in whole minor units
	full     int64        // it in minor units
	places   int32
}

// offlineSpend is what u, an offline use of s, asks of its lease's money:
// nothing for a series without a budget.
func offlineSpend(s *series.Series, u *Use) (spendWant, error) {
	switch {
	case !s.Budget.Capped():
		return spendWant{}, nil
	case s.Budget.PerCustomer.Valid:
		return spendWant{}, errcode.New(errcode.Unavailable, "Budget.PerCustomer",
			"the series has a budget per customer, which only the central keeps: redeem online")
	}
	bill, _, err := billOf(s, u)
	if err != nil {
		return spendWant{}, err
	}
	d, err := s.Discount.Apply(bill, nil)
	if err != nil {
		return spendWant{}, err
	}
	places := int32(series.MinorUnits(d.Currency))
	d.Amount = d.Amount.Truncate(places) // a budget counts whole minor units, rounded down
	return spendWant{budgeted: true, reduce: s.Budget.OnExceed == series.BudgetReduce, discount: d,
		full: d.Amount.Shift(places).IntPart(), places: places}, nil
}

// from reports whether a lease with money left (minor units) can take the
// use, and what the use then spends of it.
func (w *spendWant) from(money int64) (int64, bool) {
	switch {
	case !w.budgeted:
		return 0, true
	case money >= w.full:
		return w.full, true
	case w.reduce && money > 0:
		return money, true
	}
	return 0, false
}

// money is spend minor units in the discount's currency.
func (w *spendWant) money(spend int64) series.Money {
	return series.Money{Amount: decimal.New(spend, -w.places), Currency: w.discount.Currency}
}

// refused is the refusal of a use no lease's money can cover: the most a
// usable lease has left is most.
func (w *spendWant) refused(most int64) error {
	return &refusal.Error{Refusals: []refusal.Refusal{refusal.BudgetSpent(false, w.discount, w.money(most))}}
}

package basket

import (
	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
)

// Budget is what is left of a series' budgets when a coupon is applied,
// in minor units of the basket's currency (the caller converts from the
// series' currency), and the series' policy. The zero value caps nothing.
type Budget struct {
	// Total is what is left of the series' total budget, Customer what is
	// left of this customer's.
	Total, Customer Left
	// Policy says whether a discount past what is left is refused or
	// reduced.
	Policy series.BudgetPolicy
}

// Left is what is left of one budget: a number of minor units, or no cap.
// The zero value is no cap.
type Left struct {
	Capped bool
	Minor  int64
}

// Cap is a budget with minor units left.
func Cap(minor int64) Left { return Left{Capped: true, Minor: minor} }

// problem returns what is wrong with b and the field, or "".
func (b *Budget) problem() (msg, field string) {
	switch {
	case b.Total.Capped && b.Total.Minor < 0:
		return "must not be negative", "Total"
	case b.Customer.Capped && b.Customer.Minor < 0:
		return "must not be negative", "Customer"
	case b.Policy != series.BudgetRefuse && b.Policy != series.BudgetReduce:
		return "unknown budget policy " + b.Policy.String(), "Policy"
	}
	return "", ""
}

// Limit returns what the budget allows of a discount of minor units in the
// given currency: the discount itself when it passes no cap; under
// series.BudgetReduce, what is left of the tighter cap, reporting that it
// reduced it; otherwise, or when nothing is left, the refusals, one per
// cap passed (the series' total, then the customer's).
func (b *Budget) Limit(minor int64, currency string) (allowed int64, reduced bool, refusals []refusal.Refusal) {
	over := func(l Left) bool { return l.Capped && minor > l.Minor }
	if !over(b.Total) && !over(b.Customer) {
		return minor, false, nil
	}
	if b.Policy == series.BudgetReduce {
		m := minor
		for _, l := range []Left{b.Total, b.Customer} {
			if l.Capped {
				m = min(m, l.Minor)
			}
		}
		if m > 0 {
			return m, true, nil
		}
	}
	places := int32(series.MinorUnits(currency))
	money := func(n int64) series.Money { return series.Money{Amount: decimal.New(n, -places), Currency: currency} }
	for i, l := range []Left{b.Total, b.Customer} {
		if over(l) && (b.Policy != series.BudgetReduce || l.Minor <= 0) {
			refusals = append(refusals, refusal.BudgetSpent(i == 1, money(minor), money(l.Minor)))
		}
	}
	return 0, false, refusals
}

// Package basket computes what coupons give on a basket's lines: which
// lines a series' product rules select, the discount on them, its split
// per line, several coupons on one bill, budgets and partial returns.
//
// The package is pure: it reads no clock, does no I/O and keeps no state.
// Deciding counters (uses, budgets spent) and all-or-nothing semantics
// across several coupons are the engine's: here a call returns every
// coupon's decision and whether all were applied.
//
// # Money
//
// A [Basket]'s amounts are in its currency and exact in that currency's
// minor units (series.MinorUnits: cents for EUR, whole yen for JPY); a unit
// price with more decimal places is refused. Internally every amount is an
// int64 count of minor units, and a discount's parts per line ([Part]) are
// reported so, exact; a [Decision]'s total is also a decimal.Decimal.
//
// A basket discount is rounded to the currency's minor units, whatever
// series.Discount.Scale says: Scale governs the bill-level
// series.Discount.Apply, while a basket discount is money split over lines
// and counted against budgets. As in Apply, the raw discount is rounded half
// away from zero but never passes its bounds (the eligible lines' amount
// and, for a percentage, the cap), which are rounded down instead.
//
// Amounts of the series (a fixed or per-unit amount, a cap, a minimum
// eligible subtotal) are in the series' currency. When the basket is in
// another, they are converted with caller-supplied series.Rates, as Apply
// converts them; without rates such a basket is refused with an
// InvalidArgument error on "Currency".
//
// # Eligibility
//
// A line is eligible for a series when its product rules select it (see
// series.ProductRules: include rules, none meaning every product, and
// exclude rules, which win). A coupon is refused when no line is eligible
// (code 1703), or when the eligible units or the eligible lines' amount,
// before any discount, fall short of the series' minimum (1701, 1702).
//
// # Discounts and their split
//
// A fixed discount is its amount, at most the eligible lines' amount; a
// percentage is of the eligible lines' amount, at most its cap; a per-unit
// discount takes its amount off each eligible unit, at most the line's
// amount. A fixed or percent discount is split over the eligible lines in
// proportion to their amounts, by largest remainder: each line gets the
// floor of its exact share and the minor units left go one each to the
// lines with the largest remainders, ties broken by line id. So the parts
// sum exactly to the discount, no part exceeds its line's amount, and the
// result does not depend on the order the lines are given in. A discount
// that rounds to zero (a small percentage of a few minor units) is still
// applied; whether it uses the coupon is the caller's call.
//
// # Several coupons
//
// [Stack] applies coupons by series.Stacking.Priority, lower first, ties
// broken by code. Each discount is computed on what the coupons before it
// left of each line (a line never goes below zero); eligibility and the
// minimum quantity and subtotal are read on the basket as given. A coupon
// that does not combine with one applied before it (see series.Stacking:
// an exclusive coupon stands alone, others combine within one group) or
// that would bring the bill past a coupon's MaxPerBill is refused (1704,
// 1705), as is one whose eligible lines the coupons before it emptied
// (1708). A [Stacker] stacks one basket after another as Stack does, on
// buffers it keeps between calls.
//
// # Budgets
//
// A coupon may carry what is left of its series' budgets ([Budget]). A
// discount that passes what is left is refused (1706 for the series'
// total, 1707 for the customer's), or, under series.BudgetReduce, reduced
// to what is left and split again in proportion to the full discount's
// parts; nothing left is refused either way.
//
// # Returns
//
// [GiveBack] and [GiveBackAmount] compute the part of a redemption's
// discount that returned lines (or a returned amount) give back: exact in
// minor units, never more than was given, and, over successive partial
// returns, exactly the discount once everything is returned.
package basket

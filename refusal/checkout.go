package refusal

import (
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// The refusals of a redemption that carries a basket's lines (package
// basket): its eligible lines, several coupons on one bill, and budgets.
// They are not rules of package limits, so they do not match
// errcode.ErrLimitReached.

// The rules of a basket, several coupons and budgets.
const (
	MinEligibleQuantity     Rule = "min_eligible_quantity" // 1701
	MinEligibleSubtotal     Rule = "min_eligible_subtotal" // 1702
	NothingEligible         Rule = "no_eligible_product"   // 1703
	NotCombinable           Rule = "not_combinable"        // 1704
	CouponsPerBill          Rule = "coupons_per_bill"      // 1705
	BudgetExhausted         Rule = "budget"                // 1706
	CustomerBudgetExhausted Rule = "customer_budget"       // 1707
	NothingLeftToDiscount   Rule = "nothing_left"          // 1708
)

// FewEligibleUnits is the refusal of a basket holding got eligible units
// where the series asks for at least min.
func FewEligibleUnits(min, got int64) Refusal {
	return Refusal{Code: errcode.MinEligibleQuantity, Rule: MinEligibleQuantity,
		Params:  Params{MinQuantity: min, Quantity: got},
		Message: "This coupon needs at least " + itoa(min) + " eligible items (there are " + itoa(got) + ")."}
}

// SmallEligibleSubtotal is the refusal of a basket whose eligible lines
// come to got where the series asks for at least min (both in the series'
// currency).
func SmallEligibleSubtotal(min, got series.Money) Refusal {
	return Refusal{Code: errcode.MinEligibleSubtotal, Rule: MinEligibleSubtotal,
		Params:  Params{MinSubtotal: &min, Subtotal: &got},
		Message: "The eligible items must come to at least " + money(min) + " (they come to " + money(got) + ")."}
}

// NoEligibleProduct is the refusal of a basket none of whose lines the
// series' product rules select.
func NoEligibleProduct() Refusal {
	return Refusal{Code: errcode.NothingEligible, Rule: NothingEligible,
		Message: "No item in the basket is eligible for this coupon."}
}

// NotCombinableWith is the refusal of a coupon that does not combine with
// the coupon code with, applied before it on the same bill.
func NotCombinableWith(with string) Refusal {
	return Refusal{Code: errcode.NotCombinable, Rule: NotCombinable, Params: Params{With: with},
		Message: "This coupon cannot be combined with coupon " + with + " on the same bill."}
}

// TooManyOnBill is the refusal of a coupon that would bring a bill already
// holding used coupons past limit, a limit of the coupon with (this
// coupon's own code when the limit is its own).
func TooManyOnBill(limit, used int64, with string) Refusal {
	return Refusal{Code: errcode.CouponsPerBill, Rule: CouponsPerBill, Params: Params{Limit: limit, Used: used, With: with},
		Message: "At most " + itoa(limit) + " coupons can be used on this bill."}
}

// BudgetSpent is the refusal of a discount that would pass what is left of
// the series' total budget (customer false) or of the customer's budget in
// it (customer true).
func BudgetSpent(customer bool, discount, left series.Money) Refusal {
	r := Refusal{Code: errcode.BudgetExhausted, Rule: BudgetExhausted, Params: Params{Discount: &discount, BudgetLeft: &left},
		Message: "This offer's budget has " + money(left) + " left, less than the discount of " + money(discount) + "."}
	if customer {
		r.Code, r.Rule = errcode.CustomerBudgetExhausted, CustomerBudgetExhausted
		r.Message = "Your budget for this offer has " + money(left) + " left, less than the discount of " + money(discount) + "."
	}
	return r
}

// NothingLeft is the refusal of a coupon whose eligible lines the coupons
// applied before it on the bill brought to zero.
func NothingLeft() Refusal {
	return Refusal{Code: errcode.NothingLeftToDiscount, Rule: NothingLeftToDiscount,
		Message: "The coupons applied before this one leave nothing for it to discount."}
}

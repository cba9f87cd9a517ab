package refusal

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/couponkit/couponkit/errcode"
)

// Each refusal of a basket, several coupons or a budget has its code, its
// rule, a message with its figures and the parameters that explain it.
func TestCheckoutRefusals(t *testing.T) {
	for _, tc := range []struct {
		r        Refusal
		code     errcode.Code
		rule     Rule
		msg      string
		params   string
		sentinel error
	}{
		{FewEligibleUnits(6, 5), 1701, "min_eligible_quantity", "This coupon needs at least 6 eligible items (there are 5).",
			`{"min_quantity":6,"quantity":5}`, errcode.ErrMinEligibleQuantity},
		{SmallEligibleSubtotal(eur("50"), eur("45")), 1702, "min_eligible_subtotal",
			"The eligible items must come to at least 50.00 EUR (they come to 45.00 EUR).",
			`{"min_subtotal":{"amount":"50","currency":"EUR"},"subtotal":{"amount":"45","currency":"EUR"}}`, errcode.ErrMinEligibleSubtotal},
		{NoEligibleProduct(), 1703, "no_eligible_product", "No item in the basket is eligible for this coupon.", `{}`, errcode.ErrNothingEligible},
		{NotCombinableWith("SPRING"), 1704, "not_combinable", "This coupon cannot be combined with coupon SPRING on the same bill.",
			`{"with":"SPRING"}`, errcode.ErrNotCombinable},
		{TooManyOnBill(2, 2, "SPRING"), 1705, "coupons_per_bill", "At most 2 coupons can be used on this bill.",
			`{"limit":2,"used":2,"with":"SPRING"}`, errcode.ErrCouponsPerBill},
		{BudgetSpent(false, eur("12.5"), eur("3")), 1706, "budget",
			"This offer's budget has 3.00 EUR left, less than the discount of 12.50 EUR.",
			`{"discount":{"amount":"12.5","currency":"EUR"},"budget_left":{"amount":"3","currency":"EUR"}}`, errcode.ErrBudgetExhausted},
		{BudgetSpent(true, eur("12.5"), eur("0")), 1707, "customer_budget",
			"Your budget for this offer has 0.00 EUR left, less than the discount of 12.50 EUR.",
			`{"discount":{"amount":"12.5","currency":"EUR"},"budget_left":{"amount":"0","currency":"EUR"}}`, errcode.ErrCustomerBudgetExhausted},
		{NothingLeft(), 1708, "nothing_left", "The coupons applied before this one leave nothing for it to discount.", `{}`,
			errcode.ErrNothingLeftToDiscount},
	} {
		t.Run(string(tc.rule), func(t *testing.T) {
			r := tc.r
			if r.Code != tc.code || r.Rule != tc.rule || r.Message != tc.msg {
				t.Errorf("got %d %s %q, want %d %s %q", r.Code, r.Rule, r.Message, tc.code, tc.rule, tc.msg)
			}
			b, err := json.Marshal(r.Params)
			if err != nil || string(b) != tc.params {
				t.Errorf("params %s, %v; want %s", b, err, tc.params)
			}
			err = &Error{Refusals: []Refusal{r}}
			if !errors.Is(err, tc.sentinel) || errors.Is(err, errcode.ErrLimitReached) {
				t.Errorf("%v must match %v and not LimitReached", err, tc.sentinel)
			}
			if strings.HasPrefix(tc.code.String(), "code ") {
				t.Errorf("code %d has no name", tc.code)
			}
		})
	}
}

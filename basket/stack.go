package basket

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
)

// Coupon is one coupon to apply to a basket: its code and its series'
// settings, with what is left of the series' budgets.
type Coupon struct {
	// Code is the coupon's code, unique among the coupons of one call.
	Code     string
	Discount series.Discount
	Products series.ProductRules
	Stacking series.Stacking
	// Budget is what is left of the series' budgets for this customer,
	// and the series' policy; the zero value caps nothing.
	Budget Budget
}

// CouponOf returns the coupon of code in series s, with budget b.
func CouponOf(code string, s *series.Series, b Budget) Coupon {
	return Coupon{Code: code, Discount: s.Discount, Products: s.Products, Stacking: s.Stacking, Budget: b}
}

// Decision is what became of one coupon on a basket.
type Decision struct {
	// Code is the coupon's code.
	Code string `json:"code"`
	// Applied says whether the coupon was applied; when it was not,
	// Refusals say why, each fact once.
	Applied  bool              `json:"applied"`
	Refusals []refusal.Refusal `json:"refusals,omitempty"`
	// Discount is the discount given, in the basket's currency, and Minor
	// the same in minor units.
	Discount decimal.Decimal `json:"discount"`
	Minor    int64           `json:"minor"`
	// Reduced says that a budget reduced the discount (series.BudgetReduce).
	Reduced bool `json:"reduced,omitempty"`
	// Parts split the discount over the eligible lines, in the basket's
	// order; they sum to Minor.
	Parts []Part `json:"parts,omitempty"`
}

// Part is one line's share of a discount, in minor units of the basket's
// currency: Line is the line's id and Quantity its units, Base what the
// line came to before this discount (after those applied before it on the
// bill), and Discount the line's share. It is what a redemption records of
// the split (coupon.Redemption.Parts), the same type, so that an engine
// records a decision's parts as they are.
type Part = coupon.Part

// Result is the outcome of applying coupons to a basket.
type Result struct {
	// Currency is the basket's currency.
	Currency string `json:"currency"`
	// Decisions hold one decision per coupon, in the order they were
	// applied (by priority, then code).
	Decisions []Decision `json:"decisions"`
	// AllApplied says whether every coupon was applied.
	AllApplied bool `json:"all_applied"`
	// Minor is the discounts' sum in minor units; Left what each line
	// comes to after them, in the basket's order.
	Minor int64   `json:"minor"`
	Left  []int64 `json:"left"`
}

// Apply applies one coupon to b: [Stack] with one coupon.
func Apply(b *Basket, c Coupon, rates series.Rates) (Decision, error) {
	r, err := Stack(b, []Coupon{c}, rates)
	if err != nil {
		return Decision{}, err
	}
	return r.Decisions[0], nil
}

// Stack applies coupons to b, in order of series.Stacking.Priority (lower
// first, then by code), each on what the ones before it left of each line,
// and reports every coupon's decision (see the package documentation for
// the rules). A refused coupon changes nothing for those after it.
//
// Errors, each an *errcode.Error: those of [Basket.Validate];
// InvalidArgument on "Coupons[i].Code" for an empty, malformed or repeated
// code; InvalidConfig on "Coupons[i].Discount.<field>" or
// "Coupons[i].Products.<field>" for settings that do not validate;
// InvalidArgument on "Coupons[i].Budget.<field>" for a negative budget
// left; InvalidArgument on "Currency" when a conversion is needed and rates
// has none. A call with more than MaxCoupons coupons is refused with
// TooMany on "Coupons".
func Stack(b *Basket, coupons []Coupon, rates series.Rates) (*Result, error) {
	s := &Stacker{st: stacker{handOver: true}}
	return s.Stack(b, coupons, rates)
}

// Stacker applies coupons to baskets as [Stack] does, keeping its buffers
// from one call to the next: a caller that stacks many baskets, one at a
// time, allocates little more than the decisions' parts. The zero value
// is ready to use; a Stacker is not safe for concurrent use.
type Stacker struct {
	st stacker
}

// Stack is [Stack] on the stacker's buffers. The result, its Decisions and
// Left are the stacker's: they hold until its next Stack or Reset. Each
// decision's Parts and Refusals are the caller's to keep.
func (s *Stacker) Stack(b *Basket, coupons []Coupon, rates series.Rates) (*Result, error) {
	st := &s.st
	if err := b.prepareInto(&st.pb); err != nil {
		return nil, err
	}
	if err := checkCoupons(coupons); err != nil {
		return nil, err
	}
	st.init(rates, len(coupons))
	for _, i := range byPriority(coupons, st.order[:0]) {
		if err := st.apply(&coupons[i]); err != nil {
			return nil, err
		}
	}
	return st.result(), nil
}

// Reset drops what the stacker holds of its last call (the basket, the
// coupons, the decisions) and keeps its buffers.
func (s *Stacker) Reset() {
	st := &s.st
	st.pb.b, st.rates = nil, nil
	clear(st.res.Decisions[:cap(st.res.Decisions)])
	clear(st.applied[:cap(st.applied)])
	clear(st.split[:cap(st.split)])
	st.res = Result{Decisions: st.res.Decisions[:0]}
}

// MaxCoupons is the most coupons one call applies.
const MaxCoupons = series.MaxPerBill

// checkCoupons checks the coupons' codes, settings and budgets.
func checkCoupons(coupons []Coupon) error {
	if len(coupons) > MaxCoupons {
		return errcode.New(errcode.TooMany, "Coupons", fmt.Sprintf("%d coupons; at most %d on one bill", len(coupons), MaxCoupons))
	}
	var f errcode.Fields
	for i := range coupons {
		c := &coupons[i]
		pre := func() string { return "Coupons[" + strconv.Itoa(i) + "]." }
		switch {
		case c.Code == "":
			f.Add(errcode.InvalidArgument, pre()+"Code", "is required")
		case input.Text("", input.Code, c.Code) != nil:
			f.Add(errcode.InvalidArgument, pre()+"Code", "is not a valid code")
		case slices.ContainsFunc(coupons[:i], func(o Coupon) bool { return o.Code == c.Code }):
			f.Add(errcode.InvalidArgument, pre()+"Code", fmt.Sprintf("coupon %q is given twice", c.Code))
		}
		if err := c.Discount.Validate(); err != nil {
			addPrefixed(&f, pre(), err)
		}
		if err := c.Products.Validate(); err != nil {
			addPrefixed(&f, pre(), err)
		}
		if msg, field := c.Budget.problem(); msg != "" {
			f.Add(errcode.InvalidArgument, pre()+"Budget."+field, msg)
		}
	}
	return f.Err()
}

// byPriority returns the coupons' indices in the order they apply,
// appended to order.
func byPriority(coupons []Coupon, order []int) []int {
	for i := range coupons {
		order = append(order, i)
	}
	slices.SortFunc(order, func(a, b int) int {
		x, y := &coupons[a], &coupons[b]
		return cmp.Or(cmp.Compare(x.Stacking.Priority, y.Stacking.Priority), strings.Compare(x.Code, y.Code))
	})
	return order
}

// addPrefixed adds each error of err to f, its field prefixed.
func addPrefixed(f *errcode.Fields, prefix string, err error) {
	for _, e := range errcode.All(err) {
		f.Add(e.Code, prefix+e.Field, e.Message)
	}
}

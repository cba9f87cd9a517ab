package series

import (
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/errcode"
)

// The settings of this file concern a redemption that carries the basket's
// lines (see package basket). A series that leaves them all zero works as
// before: every product is eligible, nothing caps the money it gives away,
// its coupons combine with any other coupon without a group, and a return
// gives back the budget.

// MaxProductRules bounds each list of [ProductRules].
const MaxProductRules = 1000

// ProductRules restrict a series to some products of a basket. A line is
// eligible when it matches the include rules and no exclude rule: it
// matches the include rules when its product is in Include or one of its
// categories is in IncludeCategories, or when both lists are empty (every
// product); an exclude rule matches when its product is in Exclude or one of
// its categories is in ExcludeCategories. Exclude wins.
//
// An id or category is non-empty, at most 128 bytes, and listed once per
// list; the same product or category cannot be both included and excluded.
type ProductRules struct {
	Include           []string `json:"include,omitempty"`
	Exclude           []string `json:"exclude,omitempty"`
	IncludeCategories []string `json:"include_categories,omitempty"`
	ExcludeCategories []string `json:"exclude_categories,omitempty"`
	// MinQuantity, when positive, is the fewest eligible units a basket
	// must hold.
	MinQuantity int64 `json:"min_quantity,omitempty"`
	// MinSubtotal, when valid, is the least the eligible lines must come to
	// (before any discount), in the series' currency (Discount.Currency);
	// positive.
	MinSubtotal decimal.NullDecimal `json:"min_subtotal,omitzero"`
}

// Restricted reports whether the rules select fewer than every product.
func (p *ProductRules) Restricted() bool {
	return len(p.Include) > 0 || len(p.IncludeCategories) > 0 || len(p.Exclude) > 0 || len(p.ExcludeCategories) > 0
}

func (p *ProductRules) validateInto(f *errcode.Fields, pre string) {
	lists := []struct {
		name string
		ids  []string
	}{{"Include", p.Include}, {"Exclude", p.Exclude}, {"IncludeCategories", p.IncludeCategories}, {"ExcludeCategories", p.ExcludeCategories}}
	for _, l := range lists {
		checkIDList(f, pre, l.name, l.ids, MaxProductRules)
	}
	bothWays(f, pre, "Exclude", p.Include, p.Exclude, "product")
	bothWays(f, pre, "ExcludeCategories", p.IncludeCategories, p.ExcludeCategories, "category")
	if p.MinQuantity < 0 {
		f.Add(errcode.InvalidConfig, pre+"MinQuantity", "must not be negative")
	}
	if p.MinSubtotal.Valid && checkDigits(f, pre, "MinSubtotal", p.MinSubtotal.Decimal) && p.MinSubtotal.Decimal.Sign() <= 0 {
		f.Add(errcode.InvalidConfig, pre+"MinSubtotal", "must be positive")
	}
}

// checkIDList adds an error for each empty or repeated entry of a list of
// ids, the field pre+name, and for a list longer than most; input.Text
// checks each entry's bytes (validateInput). (The field's name is built
// only for an error: a coupon's rules are checked at every checkout.)
func checkIDList(f *errcode.Fields, pre, name string, ids []string, most int) {
	field := func() string { return pre + name }
	if len(ids) > most {
		f.Add(errcode.InvalidConfig, field(), fmt.Sprintf("lists %d entries; at most %d", len(ids), most))
		return
	}
	var seen map[string]bool // for a long list
	if len(ids) > 16 {
		seen = make(map[string]bool, len(ids))
	}
	for i, id := range ids {
		switch {
		case id == "":
			f.Add(errcode.InvalidConfig, fmt.Sprintf("%s[%d]", field(), i), "is empty")
		case seen[id] || seen == nil && slices.Contains(ids[:i], id):
			f.Add(errcode.InvalidConfig, fmt.Sprintf("%s[%d]", field(), i), fmt.Sprintf("%q is listed twice", id))
		}
		if seen != nil {
			seen[id] = true
		}
	}
}

// bothWays adds an error for each entry of exclude that include lists too.
func bothWays(f *errcode.Fields, pre, name string, include, exclude []string, what string) {
	if len(include) == 0 || len(exclude) == 0 || len(include) > MaxProductRules || len(exclude) > MaxProductRules {
		return
	}
	in := make(map[string]bool, len(include))
	for _, id := range include {
		in[id] = true
	}
	for i, id := range exclude {
		if in[id] {
			f.Add(errcode.InvalidConfig, fmt.Sprintf("%s%s[%d]", pre, name, i), fmt.Sprintf("%s %q is both included and excluded", what, id))
		}
	}
}

// Budget caps the money a series gives away, in its currency
// (Discount.Currency): in total, and per customer. The store keeps what was
// given as a guarded counter, exact under concurrency and given back on
// reversal (see [ReturnPolicy] for returns).
type Budget struct {
	// Total and PerCustomer, when valid, are the caps; positive, and
	// exact in the currency's minor units (MinorUnits).
	Total       decimal.NullDecimal `json:"total,omitzero"`
	PerCustomer decimal.NullDecimal `json:"per_customer,omitzero"`
	// OnExceed says what happens to a discount that would pass what is
	// left of a cap. The zero value is BudgetRefuse; BudgetReduce needs a
	// cap.
	OnExceed BudgetPolicy `json:"on_exceed,omitzero"`
}

// Capped reports whether the budget caps anything.
func (b *Budget) Capped() bool { return b.Total.Valid || b.PerCustomer.Valid }

func (b *Budget) validateInto(f *errcode.Fields, pre, currency string) {
	for _, c := range []struct {
		name string
		v    decimal.NullDecimal
	}{{"Total", b.Total}, {"PerCustomer", b.PerCustomer}} {
		switch {
		case !c.v.Valid || !checkDigits(f, pre, c.name, c.v.Decimal):
		case c.v.Decimal.Sign() <= 0:
			f.Add(errcode.InvalidConfig, pre+c.name, "must be positive")
		case isCurrency(currency) && c.v.Decimal.Exponent() < -int32(MinorUnits(currency)):
			f.Add(errcode.InvalidConfig, pre+c.name, fmt.Sprintf("has more decimal places than %s has (%d)", currency, MinorUnits(currency)))
		}
	}
	checkEnum(f, pre+"OnExceed", budgetPolicyNames, b.OnExceed, "budget policy")
	if b.OnExceed == BudgetReduce && !b.Capped() {
		f.Add(errcode.InvalidConfig, pre+"OnExceed", "needs Total or PerCustomer")
	}
}

// BudgetPolicy says what happens to a discount that would pass what is left
// of a budget.
type BudgetPolicy uint8

// The policies.
const (
	// BudgetRefuse refuses the redemption. It is the zero value.
	BudgetRefuse BudgetPolicy = iota
	// BudgetReduce gives what is left instead, refusing only when nothing
	// is.
	BudgetReduce
)

var budgetPolicyNames = []string{BudgetRefuse: "refuse", BudgetReduce: "reduce"}

// String returns "refuse" or "reduce", or "BudgetPolicy(n)".
func (v BudgetPolicy) String() string { return enumString(budgetPolicyNames, v, "BudgetPolicy") }

// MarshalText implements encoding.TextMarshaler; an unknown value fails.
func (v BudgetPolicy) MarshalText() ([]byte, error) {
	return enumText(budgetPolicyNames, v, "BudgetPolicy")
}

// UnmarshalText implements encoding.TextUnmarshaler, ignoring the case of
// ASCII letters.
func (v *BudgetPolicy) UnmarshalText(b []byte) error {
	return parseEnum(budgetPolicyNames, b, "BudgetPolicy", v)
}

// Bounds of [Stacking].
const (
	MaxPerBill  = 100       // most Stacking.MaxPerBill may say
	MaxPriority = 1_000_000 // Stacking.Priority is within ±MaxPriority
)

// Stacking says how a series' coupons combine with others on one bill.
//
// Two coupons combine when neither is exclusive and their groups are equal.
// The empty group is a group like any other: a coupon without a group
// combines with every other non-exclusive coupon without a group, and with
// no coupon of a named group. (So "combines with" is the same on both sides
// and runs through: coupons that pairwise combine all sit in one group.)
//
// Coupons on one bill are applied by Priority, lower first, ties broken by
// code; a coupon that does not combine with those applied before it, or
// would bring the bill past the MaxPerBill of one of them (its own
// included), is refused.
type Stacking struct {
	// Exclusive coupons stand alone on a bill. An exclusive coupon has no
	// Group and no MaxPerBill (it is one by itself).
	Exclusive bool `json:"exclusive,omitempty"`
	// Group names the coupons this one combines with (at most 128 bytes).
	Group string `json:"group,omitempty"`
	// MaxPerBill, when positive, is the most coupons a bill holding this
	// one may carry, this one included; at most MaxPerBill. Zero: no limit.
	MaxPerBill int `json:"max_per_bill,omitempty"`
	// Priority orders the coupons of a bill, lower first; within
	// ±MaxPriority.
	Priority int `json:"priority,omitempty"`
}

func (s *Stacking) validateInto(f *errcode.Fields, pre string) {
	if s.Exclusive && s.Group != "" {
		f.Add(errcode.InvalidConfig, pre+"Group", "an exclusive coupon combines with no other")
	}
	switch {
	case s.MaxPerBill < 0 || s.MaxPerBill > MaxPerBill:
		f.Add(errcode.InvalidConfig, pre+"MaxPerBill", fmt.Sprintf("%d is outside 0..%d", s.MaxPerBill, MaxPerBill))
	case s.Exclusive && s.MaxPerBill != 0:
		f.Add(errcode.InvalidConfig, pre+"MaxPerBill", "an exclusive coupon is alone on its bill")
	}
	if s.Priority < -MaxPriority || s.Priority > MaxPriority {
		f.Add(errcode.InvalidConfig, pre+"Priority", fmt.Sprintf("%d is outside ±%d", s.Priority, MaxPriority))
	}
}

// ReturnPolicy says what a return (a redemption reversed in part, for the
// returned lines or an amount) gives back to the series' counters: the
// budget, the returned share of the discount; the use, once, with the
// return that brings everything back. A chargeback follows the policy for
// the budget and never gives back the use; a whole reversal gives back
// both, whatever the policy.
type ReturnPolicy uint8

// The policies.
const (
	// ReturnBudget gives back the returned lines' part of the discount to
	// the budgets and keeps the use. It is the zero value.
	ReturnBudget ReturnPolicy = iota
	// ReturnUse gives back the use and keeps the budget.
	ReturnUse
	// ReturnBoth gives back the use and the budget.
	ReturnBoth
	// ReturnNeither gives back nothing: the return is only recorded.
	ReturnNeither
)

var returnPolicyNames = []string{ReturnBudget: "budget", ReturnUse: "use", ReturnBoth: "both", ReturnNeither: "neither"}

// GivesBackUse reports whether a return gives back the use.
func (v ReturnPolicy) GivesBackUse() bool { return v == ReturnUse || v == ReturnBoth }

// GivesBackBudget reports whether a return gives back the budget.
func (v ReturnPolicy) GivesBackBudget() bool { return v == ReturnBudget || v == ReturnBoth }

// String returns "budget", "use", "both" or "neither", or "ReturnPolicy(n)".
func (v ReturnPolicy) String() string { return enumString(returnPolicyNames, v, "ReturnPolicy") }

// MarshalText implements encoding.TextMarshaler; an unknown value fails.
func (v ReturnPolicy) MarshalText() ([]byte, error) {
	return enumText(returnPolicyNames, v, "ReturnPolicy")
}

// UnmarshalText implements encoding.TextUnmarshaler, ignoring the case of
// ASCII letters.
func (v *ReturnPolicy) UnmarshalText(b []byte) error {
	return parseEnum(returnPolicyNames, b, "ReturnPolicy", v)
}

// validateCheckout adds the errors of the checkout settings.
func (s *Series) validateCheckout(f *errcode.Fields) {
	s.Products.validateInto(f, "Products.")
	s.Budget.validateInto(f, "Budget.", s.Discount.Currency)
	s.Stacking.validateInto(f, "Stacking.")
	checkEnum(f, "Returns", returnPolicyNames, s.Returns, "return policy")
}

// Validate reports every field of d that breaks a rule, each an
// *errcode.Error with code InvalidConfig on "Discount.<field>", as
// [Series.Validate] does; nil when d is valid.
func (d *Discount) Validate() error {
	var f errcode.Fields
	d.validateInto(&f, "Discount.")
	return f.Err()
}

// Validate reports every field of p that breaks a rule, each an
// *errcode.Error with code InvalidConfig on "Products.<field>", as
// [Series.Validate] does, but for the bytes of the ids (which the series'
// input rules check); nil when p is valid.
func (p *ProductRules) Validate() error {
	var f errcode.Fields
	p.validateInto(&f, "Products.")
	return f.Err()
}

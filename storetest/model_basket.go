package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// The model's checkout: series B, whose coupons are used on a basket's
// lines under product rules and money budgets, and the rules of a use on a
// basket restated for any series of the world (which lines are eligible,
// the discount on them, its split per line, the budgets), in whole cents:
// every series of the world and every basket is in EUR.
//
// Partial returns are the Return action (model_return.go): it draws a
// redemption and some of the lines of its Parts (or an amount), and the
// model gives back, as the series' return policy (series.Series.Returns,
// drawn per run as OnExceed is) says, the use (the use counters of
// giveBackUse) and the returned lines' share of Budget (bumpBudgets with
// minus that share), then compares the result and the state as Reverse
// does.

// modelBasketSeries is series B: generated codes that anyone may redeem
// (code level 3, customer level 2 with repeat), at most 2 issues per
// customer and 4 in all, valid to the end of the second day; on shoes but
// not the sale boot, at least 2 eligible units coming to at least 20 EUR;
// a budget of 40 EUR in all and 20 EUR per customer. Its discount (20%
// capped at 15 EUR, or 1.50 EUR off each eligible unit), its budget
// policy (reduce or refuse) and its return policy are drawn per run.
func modelBasketSeries(perUnit, refuse bool, returns series.ReturnPolicy) series.Series {
	return baseSeries("model B", series.Source{Kind: series.Generated, Length: 6, Alphabet: series.Alphanumeric}, func(s *series.Series) {
		s.Issuance.MaxPerCustomer = 2
		s.Issuance.MaxTotal = 4
		s.Redemption = limits.RedemptionRules{AnyoneMayRedeem: true, MaxPerCode: 3, Repeat: true, MaxPerCustomer: 2}
		s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 2}
		s.Discount = series.Discount{Kind: series.Percent, Percent: dec("20"), Cap: nullDec("15"), Currency: "EUR"}
		if perUnit {
			s.Discount = series.Discount{Kind: series.PerUnit, Amount: dec("1.50"), Currency: "EUR"}
		}
		s.Products = series.ProductRules{IncludeCategories: []string{"shoes"}, Exclude: []string{"sale-boot"},
			MinQuantity: 2, MinSubtotal: nullDec("20")}
		s.Budget = series.Budget{Total: nullDec("40"), PerCustomer: nullDec("20"), OnExceed: series.BudgetReduce}
		if refuse {
			s.Budget.OnExceed = series.BudgetRefuse
		}
		s.Returns = returns
	})
}

// modelCatalog is what the model's baskets hold: prices with odd cents, so
// that splits leave remainders.
var modelCatalog = []struct {
	product string
	cats    []string
	price   string
}{
	{"boot", []string{"shoes"}, "39.90"},
	{"sale-boot", []string{"shoes", "sale"}, "24.99"},
	{"lace", []string{"shoes", "care"}, "2.35"},
	{"polish", []string{"care"}, "3.33"},
	{"sandal", []string{"summer", "shoes"}, "17.77"},
}

// mbasket is a drawn basket and the bill amount a request gives with it
// (zero: none).
type mbasket struct {
	lines []basket.Line
	bill  decimal.Decimal
}

// drawBasket draws one to four lines of the catalog, their ids in any
// order, and now and then bad input: a quantity not positive, a negative
// unit price, two lines with one id, or a bill amount that is not the
// lines' total.
func drawBasket(t *rapid.T) *mbasket {
	n := rapid.IntRange(1, 4).Draw(t, "lines")
	ids := rapid.Permutation([]string{"a", "b", "c", "d"}).Draw(t, "line ids")
	b := &mbasket{}
	for i := range n {
		p := modelCatalog[rapid.IntRange(0, len(modelCatalog)-1).Draw(t, "product")]
		b.lines = append(b.lines, basket.Line{ID: ids[i], Product: p.product, Categories: p.cats,
			Quantity: rapid.Int64Range(1, 3).Draw(t, "quantity"), UnitPrice: dec(p.price)})
	}
	i := rapid.IntRange(0, n-1).Draw(t, "bad line")
	switch rapid.IntRange(0, 29).Draw(t, "basket input") { // away from the ends, which rapid favours
	case 11:
		b.lines[i].Quantity = -b.lines[i].Quantity + 1 // zero or negative
	case 12:
		b.lines[i].UnitPrice = b.lines[i].UnitPrice.Neg()
	case 13:
		b.lines = append(b.lines, b.lines[i]) // a line id twice
	case 14:
		b.bill = decimal.New(b.total()+1, -2)
	case 15, 16, 17, 18:
		b.bill = decimal.New(b.total(), -2)
	}
	return b
}

// total is what the lines come to, in cents.
func (b *mbasket) total() int64 {
	var t int64
	for _, l := range b.lines {
		t += l.Quantity * l.UnitPrice.Shift(2).IntPart()
	}
	return t
}

// String shows the lines in their order. It is the basket's identity: a
// request repeating a key must repeat the lines exactly (the bill amount
// given with them is their total, or none).
func (b *mbasket) String() string {
	var s strings.Builder
	for _, l := range b.lines {
		fmt.Fprintf(&s, "%s:%s%vx%d@%s ", l.ID, l.Product, l.Categories, l.Quantity, l.UnitPrice)
	}
	return strings.TrimSpace(s.String())
}

// inputError is the code of the typed error a request with basket b gets
// (0: none): every quantity positive, every unit price not negative and in
// whole cents, each line id once, and a bill amount given with the lines
// that is their total.
func (b *mbasket) inputError() errcode.Code {
	for i, l := range b.lines {
		if l.Quantity <= 0 || l.UnitPrice.Sign() < 0 || !l.UnitPrice.Equal(l.UnitPrice.Truncate(2)) ||
			slices.ContainsFunc(b.lines[:i], func(o basket.Line) bool { return o.ID == l.ID }) {
			return errcode.InvalidArgument
		}
	}
	if !b.bill.IsZero() && !b.bill.Equal(decimal.New(b.total(), -2)) {
		return errcode.InvalidArgument
	}
	return 0
}

// checkoutPlan is what a use decides on its basket (or bill) and its
// series' budgets, in cents.
type checkoutPlan struct {
	err      errcode.Code    // the typed error of bad input (0: none)
	bill     decimal.Decimal // the bill: the lines' total, or 100 EUR alone
	basket   string          // the basket (mbasket.String); "" for a bill alone
	discount int64
	parts    []coupon.Part
	reduced  bool
	spend    int64 // what the use takes of the budgets
	// refs are the refusals of the basket or the budgets; budget says a
	// budget refused.
	refs   []errcode.Code
	budget bool
}

// checkout decides a use of series s by cust on basket b (nil: a bill of
// 100 EUR alone): the eligible lines are those on an included category or
// product (none included: all) and on no excluded one; none eligible is
// refused alone (1703), else too few eligible units (1701) and too small
// an eligible amount (1702) each; then the discount on the eligible lines
// and the budgets.
func (m *model) checkout(s *mseries, cust string, b *mbasket) checkoutPlan {
	if b == nil {
		return m.billCheckout(s, cust)
	}
	if code := b.inputError(); code != 0 {
		return checkoutPlan{err: code}
	}
	co := checkoutPlan{bill: decimal.New(b.total(), -2), basket: b.String()}
	pr := &s.s.Products
	included := len(pr.Include) == 0 && len(pr.IncludeCategories) == 0
	elig := make([]bool, len(b.lines))
	var units, subtotal int64
	for i, l := range b.lines {
		in := included || slices.Contains(pr.Include, l.Product) || slices.ContainsFunc(l.Categories, func(c string) bool { return slices.Contains(pr.IncludeCategories, c) })
		out := slices.Contains(pr.Exclude, l.Product) || slices.ContainsFunc(l.Categories, func(c string) bool { return slices.Contains(pr.ExcludeCategories, c) })
		elig[i] = in && !out
		if elig[i] {
			units += l.Quantity
			subtotal += l.Quantity * l.UnitPrice.Shift(2).IntPart()
		}
	}
	switch {
	case units == 0:
		co.refs = []errcode.Code{errcode.NothingEligible}
		return co
	case pr.MinQuantity > 0 && units < pr.MinQuantity:
		co.refs = append(co.refs, errcode.MinEligibleQuantity)
	}
	if pr.MinSubtotal.Valid && decimal.New(subtotal, -2).LessThan(pr.MinSubtotal.Decimal) {
		co.refs = append(co.refs, errcode.MinEligibleSubtotal)
	}
	if len(co.refs) > 0 {
		return co
	}
	full, total := lineDiscounts(&s.s.Discount, b.lines, elig)
	m.budgets(s, cust, total, &co)
	if co.refs != nil {
		return co
	}
	parts := full
	if co.reduced {
		parts = splitLargest(co.discount, full, b.lines)
	}
	for i, l := range b.lines {
		if elig[i] {
			co.parts = append(co.parts, coupon.Part{Line: l.ID, Quantity: l.Quantity, Base: l.Quantity * l.UnitPrice.Shift(2).IntPart(), Discount: parts[i]})
		}
	}
	return co
}

// billCheckout decides a use on a bill of 100 EUR alone: a fixed discount
// is its amount, a percentage of the bill at most its cap, each at most
// the bill; a discount per unit needs lines (a typed error).
func (m *model) billCheckout(s *mseries, cust string) checkoutPlan {
	co := checkoutPlan{bill: decimal.NewFromInt(100)}
	d := &s.s.Discount
	var minor int64
	switch d.Kind {
	case series.Fixed:
		minor = d.Amount.Shift(2).Round(0).IntPart()
	case series.Percent:
		minor = decimal.NewFromInt(10000).Mul(d.Percent).Shift(-2).Round(0).IntPart()
		if d.Cap.Valid {
			minor = min(minor, d.Cap.Decimal.Shift(2).IntPart())
		}
	default:
		return checkoutPlan{err: errcode.InvalidArgument}
	}
	m.budgets(s, cust, min(minor, 10000), &co)
	return co
}

// lineDiscounts is discount d on the eligible lines of ls, each line's
// part (in the lines' order) and their sum. A fixed amount, at most the
// eligible lines' amount, and a percentage of that amount (rounded half
// away from zero) at most its cap (whole cents, rounded down) are split
// over the eligible lines by splitLargest; a discount per unit is its
// amount times each eligible line's units, at most the line's amount.
func lineDiscounts(d *series.Discount, ls []basket.Line, elig []bool) ([]int64, int64) {
	amounts := make([]int64, len(ls))
	var sum int64
	for i, l := range ls {
		if elig[i] {
			amounts[i] = l.Quantity * l.UnitPrice.Shift(2).IntPart()
			sum += amounts[i]
		}
	}
	var total int64
	switch d.Kind {
	case series.Fixed:
		total = min(d.Amount.Shift(2).Round(0).IntPart(), sum)
	case series.Percent:
		total = decimal.NewFromInt(sum).Mul(d.Percent).Shift(-2).Round(0).IntPart()
		if d.Cap.Valid {
			total = min(total, d.Cap.Decimal.Shift(2).IntPart())
		}
		total = min(total, sum)
	default: // per unit
		parts := make([]int64, len(ls))
		each := d.Amount.Shift(2).Round(0).IntPart()
		for i, l := range ls {
			if elig[i] {
				parts[i] = min(l.Quantity*each, amounts[i])
				total += parts[i]
			}
		}
		return parts, total
	}
	return splitLargest(total, amounts, ls), total
}

// splitLargest divides total cents over the lines in proportion to their
// weights: each line gets the whole cents of its exact share
// total×weight/Σweights, rounded down, and the cents still missing go one
// each to the lines whose shares lost the most, equal losses to the line
// with the smaller id first. A total of at least Σweights gives each line
// its weight.
func splitLargest(total int64, weights []int64, ls []basket.Line) []int64 {
	parts := make([]int64, len(weights))
	var sum int64
	for _, w := range weights {
		sum += w
	}
	if total <= 0 || sum == 0 {
		return parts
	}
	if total >= sum {
		copy(parts, weights)
		return parts
	}
	type loss struct {
		rem  int64
		line int
	}
	var losses []loss
	missing := total
	for i, w := range weights {
		parts[i] = total * w / sum
		missing -= parts[i]
		if r := total * w % sum; r > 0 {
			losses = append(losses, loss{r, i})
		}
	}
	slices.SortFunc(losses, func(a, b loss) int {
		return cmp.Or(cmp.Compare(b.rem, a.rem), strings.Compare(ls[a.line].ID, ls[b.line].ID))
	})
	for _, l := range losses[:missing] {
		parts[l.line]++
	}
	return parts
}

// budgetKeysOf are the budget counters a use of s by cust takes from: the
// series' total, then the customer's (both in cents).
func budgetKeysOf(seriesID, cust string) [2]store.CounterKey {
	return [2]store.CounterKey{key(limits.SeriesBudget, seriesID, "", ""), key(limits.CustomerBudget, seriesID, "", cust)}
}

// budgets decides a discount of minor cents of series s to cust under its
// budgets into co. What is left of a cap is the cap less what its counter
// holds (at least zero); a discount passing what is left of either cap is
// refused, or under the reduce policy brought down to the least left, and
// refused when that is nothing. A refusal names each cap passed (1706 for
// the series' total, then 1707 for the customer's), under the reduce
// policy only those with nothing left. The use takes the discount it gives
// from both budgets.
func (m *model) budgets(s *mseries, cust string, minor int64, co *checkoutPlan) {
	co.discount = minor
	b := &s.s.Budget
	if !b.Capped() {
		return
	}
	caps := [2]decimal.NullDecimal{b.Total, b.PerCustomer}
	codes := [2]errcode.Code{errcode.BudgetExhausted, errcode.CustomerBudgetExhausted}
	reduce := b.OnExceed == series.BudgetReduce
	var lefts []int64
	var over []errcode.Code
	for i, k := range budgetKeysOf(s.id(), cust) {
		if !caps[i].Valid {
			continue
		}
		left := max(0, caps[i].Decimal.Shift(2).IntPart()-m.count(k).N)
		if minor > left {
			co.discount = min(co.discount, left)
			if !reduce || left == 0 {
				over = append(over, codes[i])
			}
			lefts = append(lefts, left)
		}
	}
	switch {
	case len(lefts) == 0:
	case reduce && co.discount > 0:
		co.reduced = true
	default:
		co.discount, co.refs, co.budget = 0, over, true
		return
	}
	co.spend = co.discount
}

// bumpBudgets adds delta cents to both budgets of use r's series that
// its redeemer takes from: what the use takes (Budget), or minus what is
// given back (what is left of it for a whole reversal; a return's share
// for a return).
func (m *model) bumpBudgets(r *coupon.Redemption, delta int64, now time.Time) {
	if delta == 0 {
		return
	}
	for _, k := range budgetKeysOf(r.SeriesID, r.Customer) {
		m.bump(k, delta, now)
	}
}

// settledCodes reports whether refusal codes are a coupon's own state that
// stands alone (revoked, expired, never issued, used up): then a basket's
// and the budgets' refusals are not told.
func settledCodes(cs []errcode.Code) bool {
	return len(cs) == 1 && slices.Contains([]errcode.Code{errcode.Revoked, errcode.Expired, errcode.NotIssued, errcode.Redeemed}, cs[0])
}

// checkDigest checks the digest the engine recorded for a use on basket
// bk ("" for a bill alone) and returns what is wrong, or "": the model
// does not compute digests, it learns each basket's from its first use
// and then wants the same digest for the same basket and a different one
// for every other.
func (m *model) checkDigest(bk, got string) string {
	switch want, known := m.digests[bk]; {
	case bk == "" && got != "":
		return fmt.Sprintf("a use on the bill alone records lines %q", got)
	case bk == "":
		return ""
	case known && got != want:
		return fmt.Sprintf("basket %s was recorded as %q before, now as %q", bk, want, got)
	case got == "":
		return fmt.Sprintf("a use on basket %s records no lines", bk)
	}
	for other, d := range m.digests {
		if d == got && other != bk {
			return fmt.Sprintf("baskets %s and %s are both recorded as %q", other, bk, got)
		}
	}
	m.digests[bk] = got
	return ""
}

// label shows the basket in an operation's name.
func (b *mbasket) label() string {
	if b == nil {
		return ""
	}
	if !b.bill.IsZero() {
		return ", basket " + b.String() + " bill " + b.bill.String()
	}
	return ", basket " + b.String()
}

// request is the use of code by cust with key k on the basket, or on a
// bill of 100 EUR alone when b is nil.
func (b *mbasket) request(code, cust, k string) couponkit.RedeemRequest {
	req := redeemReq(code, cust, k, "100")
	if b != nil {
		req.Bill.Amount, req.Lines = b.bill, b.lines
	}
	return req
}

// cents is n cents in EUR.
func cents(n int64) series.Money { return series.Money{Amount: decimal.New(n, -2), Currency: "EUR"} }

package couponkit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// A use (Redeem, Hold, Validate) may carry the basket's lines, and its
// series may cap the money it gives away (series.Budget). Both are decided
// here, after the rules of package limits, by package basket:
//
//   - With lines, the bill is the basket: its amount is the lines' total
//     and its currency the basket's. The series' product rules select the
//     eligible lines, the discount applies to them alone and is split per
//     line (coupon.Redemption.Parts), and a basket that falls short is
//     refused with the refusals of package basket, beside those of the
//     other rules.
//   - Under a budget, the use reads what is left of the series' total and
//     of the customer's budget (two counters, limits.SeriesBudget and
//     limits.CustomerBudget, in minor units of the series' currency) and
//     refuses the discount or reduces it (series.BudgetReduce) to fit. The
//     write bumps both counters by what the use takes, guarded by the caps
//     (n + k <= cap), in the same change as the use: a race that the read
//     did not see is refused by the store and decided again on a fresh
//     read, so no cap is ever passed. Giving the use back (Reverse,
//     Release, a lapsed hold) gives the same amount back.

// budgetKeys are the counters of the budgets of a series that a use by
// customer takes from: the series' total, then the customer's.
func budgetKeys(seriesID, customer string) [2]store.CounterKey {
	return [2]store.CounterKey{
		{Counter: limits.SeriesBudget, Series: seriesID},
		{Counter: limits.CustomerBudget, Series: seriesID, Customer: customer},
	}
}

// checkout is what a use decides on its basket and its series' budgets.
type checkout struct {
	lines   string        // digest of the basket (basketDigest); "" for a bill-only use
	parts   []coupon.Part // the discount's split over the eligible lines
	reduced bool          // a budget reduced the discount
	// spend is what the use takes of the budgets, in minor units of the
	// series' currency, and guards the guards of their two counters.
	spend  int64
	guards [2]limits.Guard
	// refs are the refusals of the basket or the budgets; budget says
	// that a budget refused, which a released hold may change.
	refs   []refusal.Refusal
	budget bool
}

// decideBasket applies the series' coupon to the basket of req's lines,
// in the bill's currency (already defaulted), within what is left of the
// series' budgets, and sets the plan's bill to the lines' total: a bill
// amount given with lines must be that total. The decision is decided
// further by decideCheckout.
func decideBasket(p *useplan, snap *useSnapshot, req *RedeemRequest) (*basket.Decision, error) {
	bk := &basket.Basket{Currency: p.bill.Currency, Lines: req.Lines}
	var b basket.Budget
	if snap.s.Budget.Capped() {
		var err error
		if b, err = budgetLeft(p, snap); err != nil {
			return nil, err
		}
	}
	c := basket.CouponOf(p.c.Code, snap.s, b)
	res, err := basket.Stack(bk, []basket.Coupon{c}, snap.rates)
	if err != nil {
		return nil, requestField(err)
	}
	total := res.Minor // what the lines came to: what is left of them, and the discount
	for _, x := range res.Left {
		total += x
	}
	amount := decimal.New(total, -int32(series.MinorUnits(bk.Currency)))
	if !p.bill.Amount.IsZero() && !p.bill.Amount.Equal(amount) {
		return nil, errcode.New(errcode.InvalidArgument, "Bill.Amount",
			"with lines, the bill is their total ("+amount.String()+" "+bk.Currency+"): leave it zero or give that")
	}
	p.bill.Amount = amount
	p.co.lines = basketDigest(bk)
	return &res.Decisions[0], nil
}

// requestField names the fields of package basket's errors as the
// request's: the basket's currency is the bill's, and the settings of the
// one coupon applied are the series'.
func requestField(err error) error {
	es := errcode.All(err)
	if len(es) == 0 {
		return err
	}
	var f errcode.Fields
	for _, e := range es {
		field := strings.TrimPrefix(e.Field, "Coupons[0].")
		if field == "Currency" {
			field = "Bill.Currency"
		}
		f.Add(e.Code, field, e.Message)
	}
	return f.Err()
}

// decideCheckout decides the basket's decision d (nil for a bill-only
// use) and the series' budgets for plan p, whose bill and, without lines,
// discount are set: it sets p.discount and p.co.
func decideCheckout(p *useplan, snap *useSnapshot, d *basket.Decision) error {
	var minor int64
	if d != nil {
		p.discount = series.Money{Amount: d.Discount, Currency: p.bill.Currency}
		if !d.Applied {
			p.co.refs = d.Refusals
			p.co.budget = budgetRefused(d.Refusals)
			return nil
		}
		// The redemption records the decision's parts as they are: the
		// result's decision and redemption share them.
		minor, p.co.reduced, p.co.parts = d.Minor, d.Reduced, d.Parts
	} else {
		b, err := budgetLeft(p, snap)
		if err != nil {
			return err
		}
		// A bill discount counted against a budget is in whole minor
		// units, rounded down.
		places := int32(series.MinorUnits(p.bill.Currency))
		amt := p.discount.Amount.Truncate(places)
		minor = amt.Shift(places).IntPart()
		allowed, reduced, refs := b.Limit(minor, p.bill.Currency)
		if refs != nil {
			p.co.refs, p.co.budget = refs, true
			return nil
		}
		if reduced {
			amt = decimal.New(allowed, -places)
		}
		p.discount.Amount, minor, p.co.reduced = amt, allowed, reduced
	}
	if snap.s.Budget.Capped() {
		return spendOf(p, snap, minor)
	}
	return nil
}

// budgetRefused reports whether refs hold a budget's refusal.
func budgetRefused(refs []refusal.Refusal) bool {
	for _, r := range refs {
		if r.Code == errcode.BudgetExhausted || r.Code == errcode.CustomerBudgetExhausted {
			return true
		}
	}
	return false
}

// budgetLeft returns what is left of the series' budgets for the use of
// p, converted to minor units of the bill's currency (rounded down), and
// sets the guards of the budget counters.
func budgetLeft(p *useplan, snap *useSnapshot) (basket.Budget, error) {
	s := snap.s
	b := basket.Budget{Policy: s.Budget.OnExceed}
	ps := int32(series.MinorUnits(s.Discount.Currency))
	var r decimal.Decimal
	if p.bill.Currency != s.Discount.Currency {
		var err error
		if r, err = series.RateFor("Bill.Currency", s.Discount.Currency, p.bill.Currency, snap.rates); err != nil {
			return b, err
		}
	}
	pb := int32(series.MinorUnits(p.bill.Currency))
	caps := [2]decimal.NullDecimal{s.Budget.Total, s.Budget.PerCustomer}
	left := [2]*basket.Left{&b.Total, &b.Customer}
	counters := [2]limits.Counter{limits.SeriesBudget, limits.CustomerBudget}
	for i, c := range caps {
		p.co.guards[i] = limits.Guard{Counter: counters[i]}
		if !c.Valid {
			continue
		}
		capMinor := c.Decimal.Shift(ps).IntPart()
		p.co.guards[i].Limit = limits.Limit(capMinor)
		n := max(0, capMinor-snap.spent[i].N)
		if p.bill.Currency != s.Discount.Currency {
			n = decimal.New(n, -ps).Mul(r).Shift(pb).Floor().IntPart()
		}
		*left[i] = basket.Cap(n)
	}
	return b, nil
}

// spendOf sets what the discount of minor units of the bill's currency
// takes of the budgets, in minor units of the series' currency: the same
// number in the same currency; else converted, rounded half away from
// zero, and never more than what is left of a cap, so that rounding alone
// never makes the store refuse the use.
func spendOf(p *useplan, snap *useSnapshot, minor int64) error {
	s := snap.s
	if p.bill.Currency == s.Discount.Currency {
		p.co.spend = minor
		return nil
	}
	r, err := series.RateFor("Bill.Currency", p.bill.Currency, s.Discount.Currency, snap.rates)
	if err != nil {
		return err
	}
	pb, ps := int32(series.MinorUnits(p.bill.Currency)), int32(series.MinorUnits(s.Discount.Currency))
	spend := decimal.New(minor, -pb).Mul(r).Shift(ps).Round(0).IntPart()
	for i, g := range p.co.guards {
		if !g.Limit.Unlimited() {
			spend = min(spend, max(0, int64(g.Limit)-snap.spent[i].N))
		}
	}
	p.co.spend = spend
	return nil
}

// budgetBumps appends to dst the bumps of the budgets that plan p takes
// from, at at: both counters by what the use takes, each guarded by its
// cap.
func budgetBumps(dst []store.Bump, p *useplan, at time.Time) []store.Bump {
	if p.co.spend <= 0 {
		return dst
	}
	for i, k := range budgetKeys(p.s.ID, p.customer) {
		dst = append(dst, store.Bump{Key: k, Delta: p.co.spend, Guard: p.co.guards[i], At: at})
	}
	return dst
}

// budgetBumpsBack appends to dst the bumps that give back amount of what
// use r took of its series' budgets.
func budgetBumpsBack(dst []store.Bump, r *coupon.Redemption, amount int64, at time.Time) []store.Bump {
	if amount <= 0 {
		return dst
	}
	for _, k := range budgetKeys(r.SeriesID, r.Customer) {
		dst = append(dst, store.Bump{Key: k, Delta: -amount, At: at})
	}
	return dst
}

// basketDigest is a digest of bk's currency and lines, in their order, by
// which a repeated request is told from one with other lines: 128 bits of
// SHA-256, in hex. Each string is written with its length, so that
// different lines never write the same bytes; a unit price is written in
// its shortest form (9.9 and 9.90 are one price).
func basketDigest(bk *basket.Basket) string {
	var out [32]byte
	return string(appendBasketDigest(out[:0], bk))
}

// appendBasketDigest appends basketDigest(bk) to dst.
func appendBasketDigest(dst []byte, bk *basket.Basket) []byte {
	var room [2048]byte
	buf := appendString(room[:0], bk.Currency)
	buf = binary.AppendUvarint(buf, uint64(len(bk.Lines)))
	for i := range bk.Lines {
		l := &bk.Lines[i]
		buf = appendString(buf, l.ID)
		buf = appendString(buf, l.Product)
		buf = binary.AppendUvarint(buf, uint64(len(l.Categories)))
		for _, c := range l.Categories {
			buf = appendString(buf, c)
		}
		buf = binary.AppendVarint(buf, l.Quantity)
		buf = appendPrice(buf, l.UnitPrice)
	}
	sum := sha256.Sum256(buf)
	return hex.AppendEncode(dst, sum[:16])
}

// appendString appends s, preceded by its length.
func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// txDigest is what each redemption of a basket transaction records in
// coupon.Redemption.Lines: the digest of its basket (basketDigest), "/",
// and the digest of its coupons' codes in any order, 64 bits of SHA-256
// in hex.
func txDigest(basketDigest []byte, cs []basket.Coupon) string {
	var out [32 + 1 + 16]byte
	dst := append(append(out[:0], basketDigest...), '/')
	var room [8]string
	codes := room[:0]
	for i := range cs {
		codes = append(codes, cs[i].Code)
	}
	slices.Sort(codes)
	var text [512]byte
	buf := text[:0]
	for _, c := range codes {
		buf = strconv.AppendInt(buf, int64(len(c)), 10)
		buf = append(buf, ':')
		buf = append(buf, c...)
	}
	sum := sha256.Sum256(buf)
	return string(hex.AppendEncode(dst, sum[:8]))
}

// appendPrice appends a price in its shortest form: its coefficient
// without trailing zeros and its exponent, or its text when the
// coefficient does not fit an int64.
func appendPrice(buf []byte, d decimal.Decimal) []byte {
	if d.NumDigits() > 18 {
		s := d.String()
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		return append(buf, s...)
	}
	c, e := d.CoefficientInt64(), d.Exponent()
	for c != 0 && c%10 == 0 {
		c, e = c/10, e+1
	}
	if c == 0 {
		e = 0
	}
	buf = append(buf, 0) // no text is empty: this tells the forms apart
	buf = binary.AppendVarint(buf, c)
	return binary.AppendVarint(buf, int64(e))
}

// settled reports whether refs are a coupon's own refusal that stands
// alone (revoked, expired, never issued, used up): then the basket's and
// the budgets' are not told.
func settled(refs []refusal.Refusal) bool {
	if len(refs) != 1 {
		return false
	}
	switch refs[0].Code {
	case errcode.Revoked, errcode.Expired, errcode.NotIssued, errcode.Redeemed:
		return true
	}
	return false
}

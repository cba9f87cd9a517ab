package storetest

import (
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
	"github.com/couponkit/couponkit/series"
)

// The model's returns (Reverse with lines, an amount, a chargeback or an
// idempotency key), restated plainly, in cents:
//
//   - A return names a redemption and hands back units of its lines, an
//     amount of its lines' total before the discount, or everything left
//     (neither). It is recorded on the redemption under its key.
//   - A line's share of the discount, after n of its u units are back, is
//     its part times n over u, rounded down; an amount's share, after x of
//     the lines' base b is back, is the discount times x over b, rounded
//     down. A return carries back the share after it less the share before
//     it; everything left, the discount less what came back before.
//   - The budgets: the redemption's Budget times the discount back so far
//     over the discount, rounded down, all of Budget once everything is
//     back; a return gives back that less what returns gave back before,
//     when the series' return policy gives back the budget (ReturnBudget,
//     ReturnBoth).
//   - The use: given back by the return that brings everything back, when
//     the policy gives back the use (ReturnUse, ReturnBoth), never by a
//     chargeback; then the redemption is reversed (event Reversed, else
//     Returned, each with what the return gave back). A return of
//     everything left that is not a chargeback is a whole reversal: it
//     gives back the use and what is left of the budget, whatever the
//     policy.
//   - A key recorded on the redemption answers its first return when the
//     input is the same (before any other check), else KeyMismatch.
//   - Refused: a reversed redemption (AlreadyReversed), one not confirmed
//     or not there (RedemptionNotFound); in part (InvalidArgument) one
//     made on the bill alone, one whose everything was returned, one
//     returned by amount asked by lines or the other way round, a line it
//     does not hold, more units or more amount than are left, and a
//     chargeback when everything is back; then the coupon's own state, as
//     for a reversal.

// returnAsk is a drawn return: the request's fields (amount in cents).
type returnAsk struct {
	lines      []basket.Return
	amount     int64
	chargeback bool
	key        string
}

// request is the return a asks of redemption id.
func (a *returnAsk) request(id string) couponkit.ReverseRequest {
	req := couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: id}, Actor: "support", Lines: a.lines,
		Chargeback: a.chargeback, IdempotencyKey: a.key}
	if a.amount > 0 {
		req.Amount = decimal.New(a.amount, -2)
	}
	return req
}

// recorded is the return a asks as a redemption records it, before it is
// decided: its lines in line order, or its amount, or Whole.
func (a *returnAsk) recorded() coupon.Return {
	ret := coupon.Return{Key: a.key, Chargeback: a.chargeback}
	switch {
	case len(a.lines) > 0:
		for _, l := range a.lines {
			ret.Lines = append(ret.Lines, coupon.ReturnLine{Line: l.Line, Quantity: l.Quantity})
		}
		slices.SortStableFunc(ret.Lines, func(x, y coupon.ReturnLine) int { return strings.Compare(x.Line, y.Line) })
	case a.amount > 0:
		ret.Amount = a.amount
	default:
		ret.Whole = true
	}
	return ret
}

// returnPlan is what the model says of a return.
type returnPlan struct {
	want   want
	r      *coupon.Redemption
	ret    coupon.Return
	replay bool
}

func (mc *machine) returnB(t *rapid.T) {
	id := mc.drawReturned(t)
	a := mc.drawReturn(t, mc.m.reds[id])
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Return(%s: lines %v amount %d chargeback %v key %q) at %s", id, a.lines, a.amount, a.chargeback, a.key, now.Format(time.DateTime))
	p := mc.m.returnUse(id, a, now)
	res, err := mc.e.e.Reverse(mc.e.ctx, a.request(id))
	mc.expect(t, op, err, p.want)
	if err != nil {
		return
	}
	if res.Replayed != p.replay {
		t.Fatalf("%s: Replayed is %v, the model says %v", op, res.Replayed, p.replay)
	}
	switch {
	case p.replay:
		mc.stats["Return: replayed"]++
	case p.ret.Use:
		mc.stats["Return: ok, the use given back"]++
	case p.ret.Budget > 0:
		mc.stats["Return: ok, budget given back"]++
	}
	match(t, op+": the return", res.Return, p.ret)
	match(t, op+": the redemption", res.Redemption, *p.r)
	match(t, op+": the coupon", res.Coupon, *mc.m.coupons[p.r.CouponID])
	match(t, op+": the discount", res.Discount, series.Money{Amount: p.r.Discount, Currency: p.r.Currency})
}

// drawReturned draws the redemption a return names: mostly a confirmed
// one of series B made on a basket, sometimes any, now and then none.
func (mc *machine) drawReturned(t *rapid.T) string {
	var bs []string
	for _, r := range mc.m.sortedReds(func(r *coupon.Redemption) bool {
		return r.SeriesID == mc.m.b.id() && r.Status == coupon.StatusRedeemed && len(r.Parts) > 0
	}) {
		bs = append(bs, r.ID)
	}
	if len(bs) == 0 || rapid.IntRange(0, 4).Draw(t, "any redemption") == 2 {
		return mc.drawRedemption(t, coupon.StatusRedeemed)
	}
	return rapid.SampledFrom(bs).Draw(t, "B redemption")
}

// drawReturn draws a return of r (nil: none): a key, sometimes one r
// recorded with its input again (now and then with the other chargeback
// flag); else lines (mostly within what is left,
// now and then past it or one r does not hold), an amount, or everything
// left, sometimes as a chargeback.
func (mc *machine) drawReturn(t *rapid.T, r *coupon.Redemption) *returnAsk {
	a := &returnAsk{key: rapid.SampledFrom([]string{"r1", "r2", "r3"}).Draw(t, "return key")}
	if r != nil && len(r.Returns) > 0 && rapid.IntRange(0, 2).Draw(t, "repeat a return") == 1 {
		x := r.Returns[rapid.IntRange(0, len(r.Returns)-1).Draw(t, "repeated return")]
		a.key, a.amount, a.chargeback = x.Key, x.Amount, x.Chargeback
		if rapid.IntRange(0, 3).Draw(t, "other chargeback") == 2 {
			a.chargeback = !a.chargeback // a mismatch on the flag alone
		}
		for _, l := range x.Lines {
			a.lines = append(a.lines, basket.Return{Line: l.Line, Quantity: l.Quantity})
		}
		return a
	}
	a.chargeback = rapid.IntRange(0, 2).Draw(t, "chargeback") == 1
	var parts []coupon.Part
	var rets []coupon.Return
	if r != nil {
		parts, rets = r.Parts, r.Returns
	}
	switch mode := rapid.IntRange(0, 9).Draw(t, "return mode"); {
	case mode == 3 || mode == 4:
		return a // everything left
	case mode == 5 || mode == 6:
		left := max(1, baseOf(parts)-amountReturned(rets))
		a.amount = rapid.Int64Range(1, left).Draw(t, "amount")
		if rapid.IntRange(0, 9).Draw(t, "amount past") == 5 {
			a.amount = left + 1
		}
		return a
	}
	for _, p := range parts {
		if !rapid.Bool().Draw(t, "return line "+p.Line) {
			continue
		}
		left := p.Quantity - unitsReturned(rets, p.Line)
		q := rapid.Int64Range(1, max(1, left)).Draw(t, "units")
		if rapid.IntRange(0, 9).Draw(t, "units past") == 5 {
			q = left + 1
		}
		a.lines = append(a.lines, basket.Return{Line: p.Line, Quantity: q})
	}
	if len(a.lines) == 0 || rapid.IntRange(0, 14).Draw(t, "line not held") == 7 {
		a.lines = append(a.lines, basket.Return{Line: "z", Quantity: 1})
	}
	return a
}

// baseOf is what parts come to before the discount.
func baseOf(parts []coupon.Part) int64 {
	var n int64
	for _, p := range parts {
		n += p.Base
	}
	return n
}

// amountReturned is the amount rets handed back.
func amountReturned(rets []coupon.Return) int64 {
	var n int64
	for _, x := range rets {
		n += x.Amount
	}
	return n
}

// unitsReturned is the units of line rets handed back.
func unitsReturned(rets []coupon.Return, line string) int64 {
	var n int64
	for _, x := range rets {
		for _, l := range x.Lines {
			if l.Line == line {
				n += l.Quantity
			}
		}
	}
	return n
}

// returnUse decides the return a of redemption id at now and, when it is
// made, applies it.
func (m *model) returnUse(id string, a *returnAsk, now time.Time) returnPlan {
	r := m.reds[id]
	if r == nil {
		return returnPlan{want: fail(errcode.RedemptionNotFound)}
	}
	asked := a.recorded()
	for _, x := range r.Returns {
		if x.Key != asked.Key {
			continue
		}
		if slices.Equal(x.Lines, asked.Lines) && x.Amount == asked.Amount && x.Whole == asked.Whole && x.Chargeback == asked.Chargeback {
			return returnPlan{want: ok(), r: r, ret: x, replay: true}
		}
		return returnPlan{want: fail(errcode.KeyMismatch)}
	}
	c := m.coupons[r.CouponID]
	if code := returnRefusal(r, &asked); code != 0 {
		return returnPlan{want: fail(code)}
	}
	switch {
	case c.Redemptions < 1:
		return returnPlan{want: fail(errcode.RedemptionNotFound)}
	case c.State == coupon.Revoked:
		return returnPlan{want: fail(errcode.Revoked)}
	case c.ReissuedTo != "":
		return returnPlan{want: fail(errcode.AlreadyReissued)}
	}
	ret := m.decideReturn(r, asked)
	ret.At = now
	back := evRec{Returned: ret.Discount, BudgetBack: ret.Budget, UseBack: ret.Use}
	if ret.Use {
		m.reverseUse(r, c, now, back)
		m.giveBackUse(r, c, now, ret.Budget)
	} else {
		c.Version++
		ev := useEvent(coupon.EventReturned, c, r, now)
		ev.Returned, ev.BudgetBack = ret.Discount, ret.Budget
		m.event(c, ev)
		m.bumpBudgets(r, -ret.Budget, now)
	}
	r.Returns = append(r.Returns, ret)
	return returnPlan{want: ok(), r: r, ret: ret}
}

// returnRefusal is the code of the refusal of return ret of r by its own
// input (0: none), before the coupon's state is looked at.
func returnRefusal(r *coupon.Redemption, ret *coupon.Return) errcode.Code {
	switch {
	case r.Status == coupon.StatusReversed:
		return errcode.AlreadyReversed
	case r.Status != coupon.StatusRedeemed:
		return errcode.RedemptionNotFound
	case ret.Whole:
		if ret.Chargeback && allReturned(r) {
			return errcode.InvalidArgument
		}
		return 0
	case len(r.Parts) == 0 || slices.ContainsFunc(r.Returns, func(x coupon.Return) bool { return x.Whole }):
		return errcode.InvalidArgument
	}
	for _, x := range r.Returns {
		if (ret.Lines != nil && x.Amount > 0) || (ret.Amount > 0 && x.Lines != nil) {
			return errcode.InvalidArgument
		}
	}
	if ret.Amount > 0 {
		if ret.Amount > baseOf(r.Parts)-amountReturned(r.Returns) {
			return errcode.InvalidArgument
		}
		return 0
	}
	for i, l := range ret.Lines {
		p := slices.IndexFunc(r.Parts, func(p coupon.Part) bool { return p.Line == l.Line })
		if p < 0 || l.Quantity <= 0 || l.Quantity > r.Parts[p].Quantity-unitsReturned(r.Returns, l.Line) ||
			slices.ContainsFunc(ret.Lines[:i], func(o coupon.ReturnLine) bool { return o.Line == l.Line }) {
			return errcode.InvalidArgument
		}
	}
	return 0
}

// allReturned reports whether everything of r is back: a return of
// everything left, every unit of its lines, or the whole amount.
func allReturned(r *coupon.Redemption) bool {
	switch {
	case slices.ContainsFunc(r.Returns, func(x coupon.Return) bool { return x.Whole }):
		return true
	case len(r.Parts) == 0 || len(r.Returns) == 0:
		return false
	case amountReturned(r.Returns) > 0:
		return amountReturned(r.Returns) == baseOf(r.Parts)
	}
	for _, p := range r.Parts {
		if unitsReturned(r.Returns, p.Line) != p.Quantity {
			return false
		}
	}
	return true
}

// decideReturn fills in what return ret (its input checked) of r gives
// back under r's series' return policy: the share of the discount, of
// the budgets, and the use.
func (m *model) decideReturn(r *coupon.Redemption, ret coupon.Return) coupon.Return {
	var total, before int64
	for _, p := range r.Parts {
		total += p.Discount
	}
	if len(r.Parts) == 0 {
		total = r.Discount.Shift(2).Floor().IntPart()
	}
	for _, x := range r.Returns {
		before += x.Discount
	}
	final := true
	switch {
	case ret.Lines != nil:
		for _, l := range ret.Lines {
			p := r.Parts[slices.IndexFunc(r.Parts, func(p coupon.Part) bool { return p.Line == l.Line })]
			was := unitsReturned(r.Returns, l.Line)
			ret.Discount += p.Discount*(was+l.Quantity)/p.Quantity - p.Discount*was/p.Quantity
		}
		r2 := *r
		r2.Returns = append(slices.Clone(r.Returns), ret)
		final = allReturned(&r2)
	case ret.Amount > 0:
		base, was := baseOf(r.Parts), amountReturned(r.Returns)
		ret.Discount = total*(was+ret.Amount)/base - total*was/base
		final = was+ret.Amount == base
	default:
		ret.Discount = max(0, total-before)
	}
	policy := m.series[r.SeriesID].s.Returns
	if ret.Whole && !ret.Chargeback {
		ret.Budget, ret.Use = r.Budget-r.ReturnedBudget(), true
		return ret
	}
	if policy == series.ReturnBudget || policy == series.ReturnBoth {
		after := r.Budget
		if !final {
			after = 0
			if total > 0 {
				after = r.Budget * (before + ret.Discount) / total
			}
		}
		ret.Budget = after - r.ReturnedBudget()
	}
	ret.Use = final && !ret.Chargeback && (policy == series.ReturnUse || policy == series.ReturnBoth)
	return ret
}

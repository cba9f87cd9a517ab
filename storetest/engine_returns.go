package storetest

import (
	"testing"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// Returns: a redemption made on a basket's lines reversed in part, for
// some of its lines or an amount of its bill, under the series' return
// policy.

var returnTests = []test{
	{"BudgetPolicyKeepsUse", testReturnBudgetPolicy},
	{"UsePolicyKeepsBudget", testReturnUsePolicy},
	{"BothPolicyEndsAsWholeReversal", testReturnBothPolicy},
	{"NeitherPolicyRecordsOnly", testReturnNeitherPolicy},
	{"ChargebackKeepsUse", testReturnChargeback},
	{"RepeatAndMismatch", testReturnRepeat},
	{"OverReturnChangesNothing", testReturnOver},
	{"ByAmount", testReturnAmount},
	{"BillOnlyWholeOnly", testReturnBillOnly},
}

// returnSeries creates a series giving 10% off under a 100 EUR budget,
// its returns under policy p.
func (e *env) returnSeries(name string, p series.ReturnPolicy) series.Series {
	e.t.Helper()
	return e.gen(name, func(s *series.Series) {
		s.Discount = series.Discount{Kind: series.Percent, Percent: dec("10"), Currency: "EUR"}
		s.Budget = series.Budget{Total: nullDec("100")}
		s.Returns = p
	})
}

// returnBasket redeems a fresh coupon of s by alice under key on two
// lines, A: 3 at 10 EUR, B: 1 at 20 EUR, so 5 EUR off, split 3 and 2.
func (e *env) returnBasket(s series.Series, key string) (coupon.Coupon, couponkit.RedeemResult) {
	e.t.Helper()
	c := e.issue(s.ID, alice)
	r, err := e.e.Redeem(e.ctx, basketReq(c.Code, alice, key, "EUR", line("A", "plate", 3, "10"), line("B", "bowl", 1, "20")))
	if err != nil {
		e.t.Fatalf("setup: Redeem on lines: %v", err)
	}
	same(e.t, r.Redemption.Parts, []coupon.Part{{Line: "A", Quantity: 3, Base: 3000, Discount: 300}, {Line: "B", Quantity: 1, Base: 2000, Discount: 200}},
		"setup: the split")
	return c, r
}

// giveBack returns units of lines of redemption id under key.
func (e *env) giveBack(id, key string, lines ...basket.Return) (couponkit.RedeemResult, error) {
	return e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: id}, IdempotencyKey: key, Lines: lines})
}

// wantReturn checks a return's answer (what it gave back), that the
// stored redemption is the one answered, and the last event of the
// coupon: kind, and what it says was given back.
func (e *env) wantReturn(t *testing.T, r couponkit.RedeemResult, err error, discount, budget int64, use bool, rule string) {
	t.Helper()
	if !wantOK(t, err, "%s", rule) {
		return
	}
	same(t, [3]any{r.Return.Discount, r.Return.Budget, r.Return.Use}, [3]any{discount, budget, use}, "%s: discount, budget and use given back", rule)
	same(t, e.storedRedemption(r.Redemption.ID), r.Redemption, "%s: the stored redemption keeps its returns", rule)
	evs := e.history(r.Coupon.ID)
	ev := evs[len(evs)-1]
	kind := coupon.EventReturned
	if use {
		kind = coupon.EventReversed
	}
	same(t, [4]any{ev.Kind, ev.Returned, ev.BudgetBack, ev.UseBack}, [4]any{kind, discount, budget, use}, "%s: the return's event", rule)
}

func testReturnBudgetPolicy(t *testing.T, e *env) {
	s := e.returnSeries("ret-budget", series.ReturnBudget)
	c, r := e.returnBasket(s, "pos-1")
	uses := e.uses(s.ID, c.Canonical, alice)
	x, err := e.giveBack(r.Redemption.ID, "ret-1", basket.Return{Line: "A", Quantity: 1})
	e.wantReturn(t, x, err, 100, 100, false, "one plate of three back: a third of its 3 EUR")
	same(t, e.budgetSpent(s.ID, alice), [2]int64{400, 400}, "the budget gets the plate's share back")
	same(t, e.uses(s.ID, c.Canonical, alice), uses, "the use is kept")
	x, err = e.giveBack(r.Redemption.ID, "ret-2", basket.Return{Line: "B", Quantity: 1}, basket.Return{Line: "A", Quantity: 2})
	e.wantReturn(t, x, err, 400, 400, false, "the rest back")
	same(t, e.budgetSpent(s.ID, alice), [2]int64{0, 0}, "everything back: the whole discount is back in the budget")
	same(t, [2]any{x.Redemption.Status, len(x.Redemption.Returns)}, [2]any{coupon.StatusRedeemed, 2}, "the use stays: still redeemed, two returns")
	same(t, e.uses(s.ID, c.Canonical, alice), uses, "the use is kept after everything is back")
	w, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}})
	mustOK(t, err, "a whole reversal after the returns")
	same(t, w.Redemption.Status, coupon.StatusReversed, "the whole reversal reverses it")
	same(t, e.budgetSpent(s.ID, alice), [2]int64{0, 0}, "the whole reversal gives back no budget twice")
	same(t, e.uses(s.ID, c.Canonical, alice)[0], uses[0]-1, "the whole reversal gives back the use")
}

func testReturnUsePolicy(t *testing.T, e *env) {
	s := e.returnSeries("ret-use", series.ReturnUse)
	c, r := e.returnBasket(s, "pos-1")
	uses := e.uses(s.ID, c.Canonical, alice)
	x, err := e.giveBack(r.Redemption.ID, "ret-1", basket.Return{Line: "B", Quantity: 1})
	e.wantReturn(t, x, err, 200, 0, false, "the bowl back: the budget is kept, the use too until all is back")
	same(t, e.uses(s.ID, c.Canonical, alice), uses, "part of the basket back keeps the use")
	x, err = e.giveBack(r.Redemption.ID, "ret-2", basket.Return{Line: "A", Quantity: 3})
	e.wantReturn(t, x, err, 300, 0, true, "the plates back: the use goes back")
	same(t, e.uses(s.ID, c.Canonical, alice)[0], uses[0]-1, "the use is back on the code's counter")
	same(t, e.budgetSpent(s.ID, alice), [2]int64{500, 500}, "the budget keeps the 5 EUR")
	same(t, e.stored(c.ID).State, coupon.Issued, "the coupon is usable again")
	_, err = e.giveBack(r.Redemption.ID, "ret-3", basket.Return{Line: "A", Quantity: 1})
	wantCode(t, err, errcode.AlreadyReversed, "a return of a reversed redemption")
}

func testReturnBothPolicy(t *testing.T, e *env) {
	s := e.returnSeries("ret-both", series.ReturnBoth)
	c1, r1 := e.returnBasket(s, "pos-1")
	c2, r2 := e.returnBasket(s, "pos-2")
	x, err := e.giveBack(r1.Redemption.ID, "ret-1", basket.Return{Line: "A", Quantity: 2})
	e.wantReturn(t, x, err, 200, 200, false, "two plates back")
	x, err = e.giveBack(r1.Redemption.ID, "ret-2", basket.Return{Line: "A", Quantity: 1}, basket.Return{Line: "B", Quantity: 1})
	e.wantReturn(t, x, err, 300, 300, true, "the rest back: the use and the rest of the budget")
	w, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r2.Redemption.ID}})
	mustOK(t, err, "the twin reversed whole")
	same(t, e.budgetSpent(s.ID, alice), [2]int64{0, 0}, "both give back their whole budget")
	same(t, e.uses(s.ID, c1.Canonical, alice), e.uses(s.ID, c2.Canonical, alice), "returns of everything and a whole reversal leave the same use counters")
	a, b := e.stored(c1.ID), e.stored(c2.ID)
	same(t, [3]any{a.State, a.Redemptions, a.Reversed}, [3]any{b.State, b.Redemptions, b.Reversed}, "and the same coupon")
	same(t, [2]any{x.Redemption.Status, x.Redemption.ReversedAt}, [2]any{w.Redemption.Status, w.Redemption.ReversedAt}, "and the same redemption status")
}

func testReturnNeitherPolicy(t *testing.T, e *env) {
	s := e.returnSeries("ret-neither", series.ReturnNeither)
	c, r := e.returnBasket(s, "pos-1")
	uses := e.uses(s.ID, c.Canonical, alice)
	x, err := e.giveBack(r.Redemption.ID, "ret-1", basket.Return{Line: "A", Quantity: 3}, basket.Return{Line: "B", Quantity: 1})
	e.wantReturn(t, x, err, 500, 0, false, "everything back under neither: recorded, nothing given back")
	same(t, e.budgetSpent(s.ID, alice), [2]int64{500, 500}, "the budget is kept")
	same(t, e.uses(s.ID, c.Canonical, alice), uses, "the use is kept")
}

func testReturnChargeback(t *testing.T, e *env) {
	s := e.returnSeries("ret-chargeback", series.ReturnBoth)
	c, r := e.returnBasket(s, "pos-1")
	uses := e.uses(s.ID, c.Canonical, alice)
	x, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}, IdempotencyKey: "cb-1",
		Lines: []basket.Return{{Line: "A", Quantity: 3}, {Line: "B", Quantity: 1}}, Chargeback: true})
	e.wantReturn(t, x, err, 500, 500, false, "a chargeback of every line under both: the budget, never the use")
	same(t, e.uses(s.ID, c.Canonical, alice), uses, "a chargeback keeps the use")
	_, r2 := e.returnBasket(s, "pos-2")
	x, err = e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r2.Redemption.ID}, IdempotencyKey: "cb-2", Chargeback: true})
	e.wantReturn(t, x, err, 500, 500, false, "a chargeback of everything left, without lines")
	_, err = e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r2.Redemption.ID}, IdempotencyKey: "cb-3", Chargeback: true})
	wantField(t, err, errcode.InvalidArgument, "Chargeback", "nothing left to charge back")
	same(t, e.budgetSpent(s.ID, alice), [2]int64{0, 0}, "both chargebacks gave the budget back")
}

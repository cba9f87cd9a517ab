package storetest

import (
	"testing"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// returnState is what a refused return must leave as it was.
type returnState struct {
	R      coupon.Redemption
	C      coupon.Coupon
	Budget [2]int64
	Uses   [4]int64
	Events int
}

func (e *env) returnState(c coupon.Coupon, redemptionID string) returnState {
	e.t.Helper()
	return returnState{R: e.storedRedemption(redemptionID), C: e.stored(c.ID), Budget: e.budgetSpent(c.SeriesID, alice),
		Uses: e.uses(c.SeriesID, c.Canonical, alice), Events: len(e.history(c.ID))}
}

func testReturnRepeat(t *testing.T, e *env) {
	s := e.returnSeries("ret-repeat", series.ReturnBudget)
	c, r := e.returnBasket(s, "pos-1")
	first, err := e.giveBack(r.Redemption.ID, "ret-1", basket.Return{Line: "B", Quantity: 1}, basket.Return{Line: "A", Quantity: 1})
	mustOK(t, err, "a return")
	before := e.returnState(c, r.Redemption.ID)
	again, err := e.giveBack(r.Redemption.ID, "ret-1", basket.Return{Line: "A", Quantity: 1}, basket.Return{Line: "B", Quantity: 1})
	if wantOK(t, err, "the same return again, its lines in another order") && !again.Replayed {
		t.Errorf("a repeat says it replays: %+v", again)
	}
	same(t, again.Return, first.Return, "a repeat answers the first return")
	same(t, e.returnState(c, r.Redemption.ID), before, "a repeat changes nothing")
	_, err = e.giveBack(r.Redemption.ID, "ret-1", basket.Return{Line: "A", Quantity: 2})
	wantField(t, err, errcode.KeyMismatch, "Lines", "other lines under the key")
	_, err = e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}, IdempotencyKey: "ret-1",
		Lines: []basket.Return{{Line: "A", Quantity: 1}, {Line: "B", Quantity: 1}}, Chargeback: true})
	wantField(t, err, errcode.KeyMismatch, "Chargeback", "a chargeback under a return's key")
	_, err = e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}, IdempotencyKey: "ret-1", Amount: dec("5")})
	wantField(t, err, errcode.KeyMismatch, "Lines", "an amount under a return's key")
	same(t, e.returnState(c, r.Redemption.ID), before, "mismatches change nothing")
	w, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}, IdempotencyKey: "ret-2"})
	mustOK(t, err, "a keyed whole reversal")
	w2, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}, IdempotencyKey: "ret-2"})
	if wantOK(t, err, "the keyed whole reversal again answers the first") {
		same(t, [2]any{w2.Replayed, w2.Return}, [2]any{true, w.Return}, "the repeat of a whole reversal")
	}
	old, err := e.giveBack(r.Redemption.ID, "ret-1", basket.Return{Line: "B", Quantity: 1}, basket.Return{Line: "A", Quantity: 1})
	if wantOK(t, err, "the first return repeated after the reversal") {
		same(t, old.Return, first.Return, "its first answer")
	}
}

func testReturnOver(t *testing.T, e *env) {
	s := e.returnSeries("ret-over", series.ReturnBoth)
	c, r := e.returnBasket(s, "pos-1")
	_, err := e.giveBack(r.Redemption.ID, "ret-1", basket.Return{Line: "A", Quantity: 2})
	mustOK(t, err, "two plates back")
	before := e.returnState(c, r.Redemption.ID)
	bad := []struct {
		name  string
		req   couponkit.ReverseRequest
		code  errcode.Code
		field string
	}{
		{"more plates than are left", couponkit.ReverseRequest{Lines: []basket.Return{{Line: "A", Quantity: 2}}}, errcode.InvalidArgument, "Lines[0].Quantity"},
		{"a line the redemption does not hold", couponkit.ReverseRequest{Lines: []basket.Return{{Line: "Z", Quantity: 1}}}, errcode.InvalidArgument, "Lines[0].Line"},
		{"a line twice", couponkit.ReverseRequest{Lines: []basket.Return{{Line: "B", Quantity: 1}, {Line: "B", Quantity: 1}}}, errcode.InvalidArgument, "Lines[1].Line"},
		{"no units", couponkit.ReverseRequest{Lines: []basket.Return{{Line: "B", Quantity: 0}}}, errcode.InvalidArgument, "Lines[0].Quantity"},
		{"negative units", couponkit.ReverseRequest{Lines: []basket.Return{{Line: "B", Quantity: -1}}}, errcode.InvalidArgument, "Lines[0].Quantity"},
		{"an amount on a redemption returned by lines", couponkit.ReverseRequest{Amount: dec("1")}, errcode.InvalidArgument, "Amount"},
		{"lines and an amount", couponkit.ReverseRequest{Amount: dec("1"), Lines: []basket.Return{{Line: "B", Quantity: 1}}}, errcode.InvalidArgument, "Amount"},
		{"a negative amount", couponkit.ReverseRequest{Amount: dec("-1")}, errcode.InvalidArgument, "Amount"},
		{"an empty line id", couponkit.ReverseRequest{Lines: []basket.Return{{Quantity: 1}}}, errcode.InvalidArgument, "Lines[0].Line"},
		{"no key", couponkit.ReverseRequest{Lines: []basket.Return{{Line: "B", Quantity: 1}}, IdempotencyKey: "-"}, errcode.InvalidArgument, "IdempotencyKey"},
	}
	for i, b := range bad {
		b.req.Redemption = couponkit.UseRef{ID: r.Redemption.ID}
		b.req.IdempotencyKey = "bad-" + string(rune('a'+i))
		if i == len(bad)-1 {
			b.req.IdempotencyKey = ""
		}
		_, err := e.e.Reverse(e.ctx, b.req)
		wantField(t, err, b.code, b.field, "%s", b.name)
	}
	same(t, e.returnState(c, r.Redemption.ID), before, "refused returns change nothing")
	x, err := e.giveBack(r.Redemption.ID, "bad-a", basket.Return{Line: "A", Quantity: 1})
	e.wantReturn(t, x, err, 100, 100, false, "a refused return's key is still free")
}

func testReturnAmount(t *testing.T, e *env) {
	s := e.returnSeries("ret-amount", series.ReturnBudget)
	c, r := e.returnBasket(s, "pos-1")
	amount := func(key, a string) (couponkit.RedeemResult, error) {
		return e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}, IdempotencyKey: key, Amount: dec(a)})
	}
	x, err := amount("ret-1", "12.34")
	e.wantReturn(t, x, err, 123, 123, false, "12.34 of 50 EUR back: 1.23 of the 5 EUR off, rounded down")
	before := e.returnState(c, r.Redemption.ID)
	_, err = amount("ret-2", "37.67")
	wantField(t, err, errcode.InvalidArgument, "Amount", "a cent more than is left")
	_, err = amount("ret-2", "0.001")
	wantField(t, err, errcode.InvalidArgument, "Amount", "a tenth of a cent")
	_, err = e.giveBack(r.Redemption.ID, "ret-2", basket.Return{Line: "A", Quantity: 1})
	wantField(t, err, errcode.InvalidArgument, "Lines", "lines on a redemption returned by amount")
	same(t, e.returnState(c, r.Redemption.ID), before, "refused amounts change nothing")
	x, err = amount("ret-2", "37.66")
	e.wantReturn(t, x, err, 377, 377, false, "the rest of the amount: the rest of the discount")
	same(t, e.budgetSpent(s.ID, alice), [2]int64{0, 0}, "amounts add up to the whole discount")
}

func testReturnBillOnly(t *testing.T, e *env) {
	s := e.returnSeries("ret-bill", series.ReturnBoth)
	c := e.issue(s.ID, alice)
	r, err := e.e.Redeem(e.ctx, redeemReq(c.Code, alice, "pos-1", "80"))
	mustOK(t, err, "a bill-only redemption")
	_, err = e.giveBack(r.Redemption.ID, "ret-1", basket.Return{Line: "1", Quantity: 1})
	wantField(t, err, errcode.InvalidArgument, "Lines", "lines of a redemption without lines")
	x, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}, IdempotencyKey: "ret-2"})
	e.wantReturn(t, x, err, 800, 800, true, "a keyed whole reversal of a bill-only redemption")
	same(t, e.budgetSpent(s.ID, alice), [2]int64{0, 0}, "it gives back the budget")
}

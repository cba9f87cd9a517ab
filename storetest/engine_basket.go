package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// Several coupons on one basket (Engine.RedeemBasket): stacked, all or
// nothing, under one transaction key.

var basketTests = []test{
	{"BasketStacking", testBasketStacking},
	{"BasketReplayAndMismatch", testBasketReplay},
	{"BasketValidateChangesNothing", testBasketValidate},
}

// stackSeries makes a series of 10 EUR (or pct percent) off with the
// given stacking.
func (e *env) stackSeries(name string, pct string, st series.Stacking) series.Series {
	e.t.Helper()
	return e.gen(name, func(s *series.Series) {
		if pct != "" {
			s.Discount = series.Discount{Kind: series.Percent, Percent: dec(pct), Currency: "EUR"}
		}
		s.Stacking = st
	})
}

// perUnitSeries makes a series of 1 EUR off per unit, in group "spring"
// after the others; with budget, under a customer's budget of 2 EUR that
// reduces the discount.
func (e *env) perUnitSeries(name string, budget bool) series.Series {
	e.t.Helper()
	return e.gen(name, func(s *series.Series) {
		s.Discount = series.Discount{Kind: series.PerUnit, Amount: dec("1"), Currency: "EUR"}
		s.Stacking = series.Stacking{Group: "spring", Priority: 3}
		if budget {
			s.Budget = series.Budget{Total: nullDec("50"), PerCustomer: nullDec("2"), OnExceed: series.BudgetReduce}
		}
	})
}

// shopLines is a basket of 100 EUR over two lines.
func shopLines() []basket.Line {
	return []basket.Line{line("1", "coat", 1, "80", "clothes"), line("2", "hat", 2, "10", "clothes")}
}

func basketOf(key string, codes ...string) couponkit.BasketRequest {
	return couponkit.BasketRequest{Codes: codes, Customer: couponkit.ByID(alice), IdempotencyKey: key, Currency: "EUR", Lines: shopLines()}
}

// basketState is what a basket transaction may change of its coupons:
// each coupon's record, its history's length, and the series' counters.
func (e *env) basketState(seriesIDs []string, couponIDs []string) string {
	e.t.Helper()
	out := ""
	for _, id := range couponIDs {
		c := e.stored(id)
		out += fmt.Sprintf("%s v%d %s r%d h%d events %d; ", id, c.Version, c.State, c.Redemptions, c.Holds, len(e.history(id)))
	}
	for _, id := range seriesIDs {
		out += fmt.Sprintf("%s %+v; ", id, e.counters(id))
	}
	return out
}

func testBasketStacking(t *testing.T, e *env) {
	excl := e.stackSeries("exclusive", "", series.Stacking{Exclusive: true})
	comb := e.stackSeries("combinable", "10", series.Stacking{Priority: 1})
	g1 := e.stackSeries("group-a", "", series.Stacking{Group: "spring", Priority: 1})
	g2 := e.stackSeries("group-b", "10", series.Stacking{Group: "spring", Priority: 2})
	m1 := e.stackSeries("max-a", "", series.Stacking{Group: "max", MaxPerBill: 2})
	m2 := e.stackSeries("max-b", "", series.Stacking{Group: "max", Priority: 1})
	m3 := e.stackSeries("max-c", "", series.Stacking{Group: "max", Priority: 2})
	pu, puBudget := e.perUnitSeries("per-unit", false), e.perUnitSeries("per-unit-budget", true)
	for _, tc := range []struct {
		name    string
		series  []series.Series
		applied bool
		total   string   // with applied: the discounts' sum
		refused []string // without: the codes refused, by index in series
		code    errcode.Code
	}{
		{name: "two coupons: one exclusive, one combinable", series: []series.Series{excl, comb}, refused: []string{"1"}, code: errcode.NotCombinable},
		{name: "two combinable in one group: 10 EUR then 10% of the 90 left", series: []series.Series{g1, g2}, applied: true, total: "19"},
		{name: "three coupons where one allows two per bill", series: []series.Series{m1, m2, m3}, refused: []string{"2"}, code: errcode.CouponsPerBill},
		{name: "10 EUR, then 1 EUR on each of the 3 units", series: []series.Series{g1, pu}, applied: true, total: "13"},
		{name: "10 EUR, then 1 EUR per unit reduced to the customer's budget of 2 EUR", series: []series.Series{g1, puBudget}, applied: true, total: "12"},
	} {
		var codes, ids, sids []string
		for _, s := range tc.series {
			c := e.issue(s.ID, alice)
			codes, ids, sids = append(codes, c.Code), append(ids, c.ID), append(sids, s.ID)
		}
		before := e.basketState(sids, ids)
		r, err := e.e.RedeemBasket(e.ctx, basketOf("pos-"+tc.name, codes...))
		if tc.applied {
			if !wantOK(t, err, "%s", tc.name) {
				continue
			}
			same(t, r.Discount, eur(tc.total), "%s: the total discount", tc.name)
			for i, bc := range r.Coupons {
				if !bc.Decision.Applied || bc.Redemption.ID == "" {
					t.Errorf("%s: coupon %d not applied: %+v", tc.name, i, bc)
					continue
				}
				same(t, e.storedRedemption(bc.Redemption.ID), bc.Redemption, "%s: the stored redemption", tc.name)
				if got := e.stored(bc.Coupon.ID).Redemptions; got != 1 {
					t.Errorf("%s: coupon %s used %d times, want once", tc.name, bc.Coupon.Code, got)
				}
			}
			if len(r.Coupons) != len(codes) {
				t.Errorf("%s: %d coupons in the result, want %d", tc.name, len(r.Coupons), len(codes))
			}
			continue
		}
		var be *couponkit.BasketRefusedError
		if !errors.As(err, &be) {
			t.Errorf("%s: got %v, want a *BasketRefusedError", tc.name, err)
			continue
		}
		if !errors.Is(err, &errcode.Error{Code: tc.code}) {
			t.Errorf("%s: %v does not match code %d", tc.name, err, tc.code)
		}
		if len(be.Decisions) != len(codes) {
			t.Errorf("%s: %d decisions, want one per coupon (%d)", tc.name, len(be.Decisions), len(codes))
		}
		var refused []string
		for _, d := range be.Decisions {
			if !d.Applied {
				for i, c := range codes {
					if c == d.Code {
						refused = append(refused, fmt.Sprint(i))
					}
				}
			}
		}
		same(t, refused, tc.refused, "%s: the coupons refused", tc.name)
		same(t, e.basketState(sids, ids), before, "%s: a refused basket writes nothing (coupons, events, counters)", tc.name)
	}
}

func testBasketReplay(t *testing.T, e *env) {
	a := e.stackSeries("replay-a", "", series.Stacking{})
	b := e.stackSeries("replay-b", "10", series.Stacking{Priority: 1})
	ca, cb, cc := e.issue(a.ID, alice), e.issue(b.ID, alice), e.issue(b.ID, alice)
	first, err := e.e.RedeemBasket(e.ctx, basketOf("pos-1", ca.Code, cb.Code))
	if !wantOK(t, err, "a basket of two coupons") {
		return
	}
	before := e.basketState([]string{a.ID, b.ID}, []string{ca.ID, cb.ID, cc.ID})
	again, err := e.e.RedeemBasket(e.ctx, basketOf("pos-1", cb.Code, ca.Code))
	if wantOK(t, err, "the same basket again, codes in another order") {
		if !again.Replayed {
			t.Errorf("a repeat is not marked Replayed")
		}
		again.Replayed = false
		for i := range first.Coupons {
			same(t, again.Coupons[i].Redemption, first.Coupons[i].Redemption, "a repeat answers the first redemptions")
			same(t, again.Coupons[i].Decision, first.Coupons[i].Decision, "a repeat answers the first decisions")
		}
		same(t, again.Discount, first.Discount, "a repeat answers the first discount")
	}
	_, err = e.e.RedeemBasket(e.ctx, basketOf("pos-1", ca.Code, cc.Code))
	wantField(t, err, errcode.KeyMismatch, "Codes", "the key with another pair of codes")
	_, err = e.e.RedeemBasket(e.ctx, basketOf("pos-1", ca.Code))
	wantField(t, err, errcode.KeyMismatch, "Codes", "the key with fewer codes")
	other := basketOf("pos-1", ca.Code, cb.Code)
	other.Lines = other.Lines[:1]
	_, err = e.e.RedeemBasket(e.ctx, other)
	wantField(t, err, errcode.KeyMismatch, "Lines", "the key with another basket")
	same(t, e.basketState([]string{a.ID, b.ID}, []string{ca.ID, cb.ID, cc.ID}), before, "repeats and mismatches write nothing")
	_, err = e.e.RedeemBasket(e.ctx, basketOf("", ca.Code))
	wantField(t, err, errcode.InvalidArgument, "IdempotencyKey", "a basket without a key")
}

func testBasketValidate(t *testing.T, e *env) {
	a := e.stackSeries("validate-a", "", series.Stacking{})
	b := e.stackSeries("validate-b", "10", series.Stacking{Priority: 1})
	ca, cb := e.issue(a.ID, alice), e.issue(b.ID, alice)
	before := e.basketState([]string{a.ID, b.ID}, []string{ca.ID, cb.ID})
	r, err := e.e.ValidateBasket(e.ctx, basketOf("", ca.Code, cb.Code))
	if wantOK(t, err, "validating a basket") {
		same(t, r.Discount, eur("19"), "the discount validation announces")
	}
	same(t, e.basketState([]string{a.ID, b.ID}, []string{ca.ID, cb.ID}), before, "validation writes nothing")
	got, err := e.e.RedeemBasket(e.ctx, basketOf("pos-v", ca.Code, cb.Code))
	if wantOK(t, err, "redeeming what was validated") {
		same(t, got.Discount, r.Discount, "the redemption gives what validation announced")
	}
}

package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

// Baskets of two single-use coupons, overlapping in a ring (basket k holds
// coupons k and k+1), redeemed concurrently, each basket sent twice under
// its key. Every coupon is used at most once, and every basket is applied
// whole or not at all: both its coupons are redeemed under its key, or
// neither is; its two requests agree.
func raceBasket(t *testing.T, e *env, p, round int) {
	q := max(2, p/2+p%2) // distinct baskets (pairs share a key)
	s := e.gen(raceName("basket", round))
	cs := make([]coupon.Coupon, q)
	for j := range cs {
		cs[j] = e.issue(s.ID, "h")
	}
	pair := func(k int) [2]coupon.Coupon { return [2]coupon.Coupon{cs[k%q], cs[(k+1)%q]} }
	type outcome struct {
		res couponkit.BasketResult
		err error
	}
	outs := run(2*q, func(i int) outcome {
		cp := pair(i / 2)
		req := basketOf(pairKey(round, i), cp[0].Code, cp[1].Code)
		req.Customer = couponkit.ByID("h")
		r, err := e.e.RedeemBasket(e.ctx, req)
		return outcome{r, err}
	})
	rule := fmt.Sprintf("%d baskets over a ring of %d single-use coupons", q, q)
	applied := 0
	for k := range q {
		a, b := outs[2*k], outs[2*k+1]
		for _, o := range []outcome{a, b} {
			var be *couponkit.BasketRefusedError
			if o.err != nil && !(errors.As(o.err, &be) && (errors.Is(o.err, errcode.ErrRedeemed) || errors.Is(o.err, errcode.ErrLimitReached))) {
				t.Errorf("%s: basket %d: unexpected error %v", rule, k, o.err)
			}
		}
		if (a.err == nil) != (b.err == nil) {
			t.Errorf("%s: basket %d's two requests disagree: %v and %v", rule, k, a.err, b.err)
		}
		ok := a.err == nil || b.err == nil
		if ok {
			applied++
		}
		key := pairKey(round, 2*k)
		for _, c := range pair(k) {
			_, err := e.st.RedemptionByKey(e.ctx, c.ID, couponkit.BasketKey(key, c.Code))
			found := err == nil
			if err != nil && !errors.Is(err, errcode.ErrNotFound) {
				t.Fatalf("RedemptionByKey: %v", err)
			}
			if found != ok {
				t.Errorf("%s: basket %d applied=%v but coupon %s redeemed under its key=%v: not all or nothing", rule, k, ok, c.Code, found)
			}
		}
	}
	if applied == 0 {
		t.Errorf("%s: no basket was applied", rule)
	}
	for _, c := range cs {
		rs, err := e.st.ListRedemptions(e.ctx, store.RedemptionQuery{CouponID: c.ID})
		mustOK(t, err, "ListRedemptions")
		if got := e.stored(c.ID).Redemptions; len(rs) > 1 || got > 1 {
			t.Errorf("%s: coupon %s used %d times (%d records), at most once", rule, c.Code, got, len(rs))
		}
	}
	if n, want := e.counters(s.ID), 2*applied; n.Uses != int64(want) {
		t.Errorf("%s: the series counts %d uses, the applied baskets made %d", rule, n.Uses, want)
	}
}

package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// testContractCancelled checks the contract's rule on contexts: a call
// with a context already done fails with an error wrapping the context's
// error, and writes nothing.
func testContractCancelled(t *testing.T, e *env) {
	s := rawSeries("s-cancel")
	e.apply(&store.Change{Series: &store.SeriesWrite{Series: s}})
	done, cancel := context.WithCancel(e.ctx)
	cancel()
	rule := "store contract: a call with a context already done fails with the context's error"
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %s: got %v", rule, what, err)
		}
	}
	_, err := e.st.Series(done, s.ID)
	check("Series", err)
	_, err = e.st.ListSeries(done, store.SeriesQuery{})
	check("ListSeries", err)
	_, err = e.st.CouponsByCode(done, s.ID, "X")
	check("CouponsByCode", err)
	_, err = e.st.ListCoupons(done, store.CouponQuery{})
	check("ListCoupons", err)
	_, err = e.st.ListRedemptions(done, store.RedemptionQuery{})
	check("ListRedemptions", err)
	_, err = e.st.Events(done, store.EventQuery{SeriesID: s.ID})
	check("Events", err)
	out := make([]store.Count, 1)
	check("Counters", e.st.Counters(done, []store.CounterKey{{Counter: limits.SeriesUses, Series: s.ID}}, out))

	c, ev := rawCoupon("c-cancel", s.ID, "CANCEL1")
	check("Apply", e.st.Apply(done, &store.Change{NewCoupons: []coupon.Coupon{c}, Events: []coupon.Event{ev},
		Bumps: []store.Bump{{Key: store.CounterKey{Counter: limits.SeriesUses, Series: s.ID}, Delta: 1, At: t0}}}))
	_, err = e.st.InsertCoupons(done, []coupon.Coupon{c}, []coupon.Event{ev})
	check("InsertCoupons", err)
	_, err = e.st.UpdateWhere(done, store.CouponFilter{SeriesID: s.ID}, store.BulkUpdate{To: coupon.Revoked, At: t0})
	check("UpdateWhere", err)
	if cs, err := e.st.CouponsByCode(e.ctx, s.ID, "CANCEL1"); err != nil || len(cs) != 0 {
		t.Errorf("%s: the cancelled writes must write nothing: %v, %v", rule, cs, err)
	}
	if n := e.count(store.CounterKey{Counter: limits.SeriesUses, Series: s.ID}).N; n != 0 {
		t.Errorf("%s: the cancelled Apply must bump nothing: %d", rule, n)
	}
}

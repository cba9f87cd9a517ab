package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// keyTests are the idempotency rules: a key names one use of one coupon;
// the same key with the same parameters replays, with other parameters it
// is refused, and a key whose hold is gone says so.
var keyTests = []test{
	{"OtherBill", testKeyOtherBill},
	{"OtherCustomer", testKeyOtherCustomer},
	{"OtherPlace", testKeyOtherPlace},
	{"HoldVersusRedemption", testKeyHoldVersusRedemption},
	{"HoldLapsed", testKeyHoldLapsed},
	{"ConfirmAndReleaseByCodeAndKey", testKeyConfirmReleaseByKey},
	{"ConfirmAfterCleanup", testKeyConfirmAfterCleanup},
	{"UseOfAnotherCustomer", testKeyUseOfAnotherCustomer},
}

// keySeries is a series whose coupons may be used three times by anyone,
// so that a repeated key is never refused by a limit.
func keySeries(e *env, name string) series.Series {
	return e.gen(name, func(s *series.Series) {
		s.Redemption.AnyoneMayRedeem = true
		s.Redemption.Repeat = true
		s.Redemption.MaxPerCustomer = 3
	})
}

// wantUnchangedBy fails the test unless err is a KeyMismatch naming field
// and the coupon and its series' counters are as before.
func (e *env) wantMismatch(t *testing.T, err error, field string, c coupon.Coupon, rule string) {
	t.Helper()
	wantField(t, err, errcode.KeyMismatch, field, "%s: refused, naming the parameter", rule)
	same(t, e.stored(c.ID), c, "%s: the coupon is unchanged", rule)
}

func testKeyOtherBill(t *testing.T, e *env) {
	s := keySeries(e, "bill")
	c := e.issue(s.ID, alice)
	first := e.redeem(c.Code, alice, "pos-1")
	counters := e.counters(s.ID)
	_, err := e.e.Redeem(e.ctx, redeemReq(c.Code, alice, "pos-1", "999"))
	e.wantMismatch(t, err, "Bill", first.Coupon, "the same key with a bill of 999 instead of 100 is another request, refused")
	same(t, e.counters(s.ID), counters, "a refused repeat counts nothing")
	again, err := e.e.Redeem(e.ctx, redeemReq(c.Code, alice, "pos-1", "100.0"))
	if wantOK(t, err, "the same bill written otherwise (100.0) is the same request") && !again.Replayed {
		t.Errorf("a repeat with the same parameters replays: %+v", again)
	}
}

func testKeyOtherCustomer(t *testing.T, e *env) {
	s := keySeries(e, "customer")
	c := e.issue(s.ID, alice)
	first := e.redeem(c.Code, alice, "pos-1")
	_, err := e.tryRedeem(c.Code, bob, "pos-1")
	e.wantMismatch(t, err, "Customer", first.Coupon, "the same key by another customer is refused")
	if err != nil && strings.Contains(err.Error(), alice) {
		t.Errorf("the mismatch must not name the first customer: %v", err)
	}
}

func testKeyOtherPlace(t *testing.T, e *env) {
	s := keySeries(e, "place")
	c := e.issue(s.ID, alice)
	req := redeemReq(c.Code, alice, "pos-1", "100")
	req.Place = limits.Place{Till: "t1", Store: "s1"}
	first, err := e.e.Redeem(e.ctx, req)
	mustOK(t, err, "Redeem")
	req.Place.Till = "t2"
	_, err = e.e.Redeem(e.ctx, req)
	e.wantMismatch(t, err, "Place", first.Coupon, "the same key at another till is refused")
}

func testKeyHoldVersusRedemption(t *testing.T, e *env) {
	s := keySeries(e, "kind")
	c := e.issue(s.ID, alice)
	r := e.redeem(c.Code, alice, "pos-1")
	_, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(c.Code, alice, "pos-1", "100"), TTL: time.Minute})
	e.wantMismatch(t, err, "IdempotencyKey", r.Coupon, "a hold with the key of a redemption is refused")
	h := e.hold(c.Code, alice, "cart-1", time.Minute)
	_, err = e.tryRedeem(c.Code, alice, "cart-1")
	e.wantMismatch(t, err, "IdempotencyKey", h.Coupon, "a redemption with the key of a hold is refused")
	again, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(c.Code, alice, "cart-1", "100"), TTL: time.Minute})
	if wantOK(t, err, "a live hold's key repeated with its parameters replays") && (!again.Replayed || again.Redemption.ID != h.Redemption.ID) {
		t.Errorf("a repeated hold returns the first: %+v", again)
	}
}

func testKeyHoldLapsed(t *testing.T, e *env) {
	s := keySeries(e, "lapsed")
	c := e.issue(s.ID, alice)
	e.hold(c.Code, alice, "cart-1", 10*time.Minute)
	e.clk.Advance(11 * time.Minute)
	_, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(c.Code, alice, "cart-1", "100"), TTL: 10 * time.Minute})
	wantCode(t, err, errcode.HoldExpired, "the key of a hold that lapsed (not yet cleaned up) says so, not a replay of a dead hold")
	n, err := e.e.ReleaseLapsedHolds(e.ctx)
	if wantOK(t, err, "ReleaseLapsedHolds") && n != 1 {
		t.Errorf("the sweep releases the lapsed hold: %d", n)
	}
	_, err = e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(c.Code, alice, "cart-1", "100"), TTL: 10 * time.Minute})
	wantCode(t, err, errcode.HoldExpired, "the key of a hold that lapsed and was cleaned up still says it lapsed")
}

func testKeyConfirmReleaseByKey(t *testing.T, e *env) {
	s := keySeries(e, "by key")
	c := e.issue(s.ID, alice)
	h1 := e.hold(c.Code, alice, "cart-1", time.Hour)
	h2 := e.hold(c.Code, alice, "cart-2", time.Hour)
	ref := func(k string) couponkit.UseRef {
		return couponkit.UseRef{Code: strings.ToLower(c.Code), IdempotencyKey: k, Customer: couponkit.ByID(alice)}
	}
	r, err := e.e.Confirm(e.ctx, couponkit.ConfirmRequest{Hold: ref("cart-1"), Actor: "till"})
	if wantOK(t, err, "a hold is confirmed by its code and key") && r.Redemption.ID != h1.Redemption.ID {
		t.Errorf("confirming by code and key confirms that hold: %s, want %s", r.Redemption.ID, h1.Redemption.ID)
	}
	mustOK(t, e.e.Release(e.ctx, couponkit.ReleaseRequest{Hold: ref("cart-2"), Actor: "till"}), "Release by code and key")
	if got := e.storedRedemption(h2.Redemption.ID); got.Status != coupon.StatusReleased {
		t.Errorf("releasing by code and key releases that hold: %+v", got)
	}
	_, err = e.e.Confirm(e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{Code: c.Code, IdempotencyKey: "cart-9"}})
	wantCode(t, err, errcode.RedemptionNotFound, "a key never used names no hold")
	_, err = e.e.Confirm(e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{Code: c.Code}})
	wantCode(t, err, errcode.InvalidArgument, "a code without a key names no hold")
}

func testKeyConfirmAfterCleanup(t *testing.T, e *env) {
	s := e.gen("cleanup")
	c := e.issue(s.ID, alice)
	h := e.hold(c.Code, alice, "cart-1", 10*time.Minute)
	e.clk.Advance(11 * time.Minute)
	// Another redemption attempt releases the lapsed hold on demand.
	e.redeem(c.Code, alice, "pos-2")
	if got := e.storedRedemption(h.Redemption.ID); got.Status != coupon.StatusReleased {
		t.Fatalf("the lapsed hold was released on demand: %+v", got)
	}
	_, err := e.e.Confirm(e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{ID: h.Redemption.ID}})
	wantCode(t, err, errcode.HoldExpired, "confirming a hold the cleanup released gives HoldExpired, as confirming at the time to live does")
}

func testKeyUseOfAnotherCustomer(t *testing.T, e *env) {
	s := keySeries(e, "owner")
	c := e.issue(s.ID, alice)
	r := e.redeem(c.Code, alice, "pos-1")
	h := e.hold(c.Code, alice, "cart-1", time.Hour)
	bobs := couponkit.UseRef{ID: r.Redemption.ID, Customer: couponkit.ByID(bob)}
	_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: bobs})
	wantCode(t, err, errcode.RedemptionNotFound, "reversing a use of another customer than the one named is refused as not found")
	_, err = e.e.Confirm(e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{ID: h.Redemption.ID, Customer: couponkit.ByID(bob)}})
	wantCode(t, err, errcode.RedemptionNotFound, "confirming a hold of another customer is refused as not found")
	err = e.e.Release(e.ctx, couponkit.ReleaseRequest{Hold: couponkit.UseRef{ID: h.Redemption.ID, Customer: couponkit.ByID(bob)}})
	wantCode(t, err, errcode.RedemptionNotFound, "releasing a hold of another customer is refused as not found")
	same(t, e.storedRedemption(r.Redemption.ID).Status, coupon.StatusRedeemed, "the redemption is untouched")
	same(t, e.storedRedemption(h.Redemption.ID).Status, coupon.StatusHeld, "the hold is untouched")
	_, err = e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID, Customer: couponkit.ByID(alice)}})
	wantOK(t, err, "the customer the use was made for may be named")
}

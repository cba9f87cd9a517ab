package storetest

import (
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

var holdTests = []test{
	{"HoldConfirm", testHoldConfirm},
	{"Release", testHoldRelease},
	{"HoldCountsAgainstLimits", testHoldCounts},
	{"LapsedHoldFreesUse", testHoldLapsed},
	{"ConfirmLapsed", testHoldConfirmLapsed},
	{"ReleaseLapsedSweep", testHoldSweep},
	{"HoldReplay", testHoldReplay},
	{"BadTTL", testHoldBadTTL},
	{"UnknownHold", testHoldUnknown},
	{"ReleaseGivesGapBack", testHoldReleaseGap},
	{"ReleaseOvertakenKeepsGap", testReleaseOvertaken},
}

var reverseTests = []test{
	{"ByID", testReverseByID},
	{"ByCodeAndKey", testReverseByKey},
	{"Twice", testReverseTwice},
	{"GivesBackSeriesLevel", testReverseGivesBack},
	{"Errors", testReverseErrors},
	{"ExpiredStaysExpired", testReverseExpired},
	{"GapAfterReversal", testReverseGap},
	{"GapFromEarlierUse", testReverseGapEarlier},
	{"OvertakenKeepsGap", testReverseOvertaken},
}

func (e *env) hold(code, customer, key string, ttl time.Duration) couponkit.RedeemResult {
	e.t.Helper()
	r, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(code, customer, key, "100"), TTL: ttl})
	if err != nil {
		e.t.Fatalf("setup: Hold(%s by %s): %v", code, customer, err)
	}
	return r
}

func testHoldConfirm(t *testing.T, e *env) {
	s := e.gen("hold")
	c := e.issue(s.ID, alice)
	h := e.hold(c.Code, alice, "cart-1", 15*time.Minute)
	if h.Redemption.Status != coupon.StatusHeld || !h.Redemption.HoldExpiresAt.Equal(t0.Add(15*time.Minute)) || h.Coupon.Holds != 1 || h.Coupon.State != coupon.Issued {
		t.Errorf("a hold is Held until now+ttl and reserves a use without changing the state: %+v / %+v", h.Redemption, h.Coupon)
	}
	same(t, e.stored(c.ID), h.Coupon, "the store holds the coupon with its hold")
	same(t, e.storedRedemption(h.Redemption.ID), h.Redemption, "the store holds the hold")
	e.wantUses(t, s.ID, c.Canonical, alice, [4]int64{1, 1, 1, 1}, "a hold counts on every counter")
	e.clk.Advance(5 * time.Minute)
	r, err := e.e.Confirm(e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{ID: h.Redemption.ID}, Actor: "checkout"})
	if !wantOK(t, err, "confirming a live hold") {
		return
	}
	if r.Redemption.Status != coupon.StatusRedeemed || !r.Redemption.ConfirmedAt.Equal(e.clk.Now()) || r.Coupon.State != coupon.Redeemed ||
		r.Coupon.Holds != 0 || r.Coupon.Redemptions != 1 || r.Replayed {
		t.Errorf("confirming the hold on a single-use coupon redeems it: %+v / %+v", r.Redemption, r.Coupon)
	}
	same(t, e.stored(c.ID), r.Coupon, "the store holds the confirmed coupon")
	same(t, e.storedRedemption(h.Redemption.ID), r.Redemption, "the store holds the confirmed redemption")
	e.wantUses(t, s.ID, c.Canonical, alice, [4]int64{1, 1, 1, 1}, "confirming does not count the use again")
	again, err := e.e.Confirm(e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{ID: h.Redemption.ID}, Actor: "checkout"})
	if wantOK(t, err, "confirming a confirmed hold again is a replay") && (!again.Replayed || again.Redemption.ID != h.Redemption.ID) {
		t.Errorf("a second Confirm returns the redemption with Replayed: %+v", again)
	}
	same(t, kinds(e.history(c.ID)), []coupon.EventKind{coupon.EventIssued, coupon.EventHeld, coupon.EventHoldConfirmed}, "the history of a held then confirmed coupon")
	err = e.e.Release(e.ctx, couponkit.ReleaseRequest{Hold: couponkit.UseRef{ID: h.Redemption.ID}, Actor: "op"})
	wantCode(t, err, errcode.InvalidTransition, "a confirmed hold cannot be released (reverse it instead)")
}

func testHoldRelease(t *testing.T, e *env) {
	s := e.gen("release")
	c := e.issue(s.ID, alice)
	h := e.hold(c.Code, alice, "cart-1", 15*time.Minute)
	e.clk.Advance(time.Minute)
	mustOK(t, e.e.Release(e.ctx, couponkit.ReleaseRequest{Hold: couponkit.UseRef{ID: h.Redemption.ID}, Actor: "cart abandoned"}), "Release")
	got := e.storedRedemption(h.Redemption.ID)
	if got.Status != coupon.StatusReleased || !got.ReleasedAt.Equal(e.clk.Now()) {
		t.Errorf("a released hold is Released at now: %+v", got)
	}
	if sc := e.stored(c.ID); sc.Holds != 0 || sc.State != coupon.Issued {
		t.Errorf("releasing gives the use back: %+v", sc)
	}
	e.wantUses(t, s.ID, c.Canonical, alice, [4]int64{0, 0, 0, 0}, "releasing a hold gives back every counter")
	evs := len(e.history(c.ID))
	err := e.e.Release(e.ctx, couponkit.ReleaseRequest{Hold: couponkit.UseRef{ID: h.Redemption.ID}, Actor: "again"})
	wantOK(t, err, "releasing a released hold again succeeds, so a release can be retried")
	if n := len(e.history(c.ID)); n != evs {
		t.Errorf("a repeated release changes nothing: %d events, had %d", n, evs)
	}
	_, err = e.e.Confirm(e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{ID: h.Redemption.ID}, Actor: "checkout"})
	wantCode(t, err, errcode.HoldReleased, "confirming a released hold says it was released")
	_, err = e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(c.Code, alice, "cart-1", "100"), TTL: 15 * time.Minute})
	wantCode(t, err, errcode.HoldReleased, "repeating the key of a released hold says it was released, not a silent replay")
	_, err = e.tryRedeem(c.Code, alice, "pos-2")
	wantOK(t, err, "after a release the coupon can be redeemed")
}

func testHoldCounts(t *testing.T, e *env) {
	s := e.gen("series level", func(s *series.Series) { s.Redemption.MaxPerSeries = 1 })
	a, b := e.issue(s.ID, alice), e.issue(s.ID, bob)
	e.hold(a.Code, alice, "cart-a", 15*time.Minute)
	_, err := e.tryRedeem(b.Code, bob, "pos-b")
	wantDenied(t, err, reasons(limits.SeriesLimit), "a live hold takes the only use of a series level of 1")
	_, err = e.tryRedeem(a.Code, alice, "pos-a2")
	wantRefused(t, err, codes(errcode.HeldElsewhere, limits.SeriesLimit.Code()), "a live hold takes the single use of its coupon: held elsewhere once (not also 1201 and 1204), and the series level")
	if n := e.counters(s.ID); n.Uses != 1 || n.RemainingUses != 0 {
		t.Errorf("Counters count live holds as uses: %+v", n)
	}
}

func testHoldLapsed(t *testing.T, e *env) {
	s := e.gen("lapse", func(s *series.Series) { s.Redemption.MaxPerSeries = 1 })
	a, b := e.issue(s.ID, alice), e.issue(s.ID, bob)
	h := e.hold(a.Code, alice, "cart-a", 15*time.Minute)
	e.clk.Advance(15 * time.Minute)
	r, err := e.tryRedeem(b.Code, bob, "pos-b")
	if !wantOK(t, err, "a hold lapsed at its time to live no longer holds the series' only use: the redemption releases it and succeeds") {
		return
	}
	if got := e.storedRedemption(h.Redemption.ID); got.Status != coupon.StatusReleased {
		t.Errorf("the lapsed hold in the way is released: %s", got.Status)
	}
	if sc := e.stored(a.ID); sc.Holds != 0 {
		t.Errorf("the lapsed hold's coupon has no hold left: %+v", sc)
	}
	e.wantUses(t, s.ID, a.Canonical, alice, [4]int64{0, 0, 1, 0}, "the lapsed hold's uses are given back; only bob's redemption counts")
	if r.Coupon.State != coupon.Redeemed {
		t.Errorf("bob's coupon is redeemed")
	}
	hist := kinds(e.history(a.ID))
	if hist[len(hist)-1] != coupon.EventHoldReleased {
		t.Errorf("releasing a lapsed hold appends HoldReleased: %v", hist)
	}
}

func testHoldConfirmLapsed(t *testing.T, e *env) {
	s := e.gen("confirm lapsed")
	c := e.issue(s.ID, alice)
	h := e.hold(c.Code, alice, "cart", 10*time.Minute)
	e.clk.Advance(11 * time.Minute)
	_, err := e.e.Confirm(e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{ID: h.Redemption.ID}, Actor: "checkout"})
	wantCode(t, err, errcode.HoldExpired, "confirming a hold after its time to live is HoldExpired (1114)")
	if got := e.storedRedemption(h.Redemption.ID); got.Status != coupon.StatusReleased {
		t.Errorf("a lapsed hold refused at Confirm is released: %s", got.Status)
	}
	e.wantUses(t, s.ID, c.Canonical, alice, [4]int64{}, "the lapsed hold's uses are given back")
	_, err = e.tryRedeem(c.Code, alice, "pos-2")
	wantOK(t, err, "the use the lapsed hold had is free again")
}

func testHoldSweep(t *testing.T, e *env) {
	s := e.gen("sweep")
	c1, c2, c3 := e.issue(s.ID, alice), e.issue(s.ID, bob), e.issue(s.ID, carol)
	e.hold(c1.Code, alice, "k", 5*time.Minute)
	e.hold(c2.Code, bob, "k", 5*time.Minute)
	e.hold(c3.Code, carol, "k", time.Hour)
	e.clk.Advance(10 * time.Minute)
	held, err := e.st.ListRedemptions(e.ctx, store.RedemptionQuery{Status: coupon.StatusHeld, HoldExpiresBefore: e.clk.Now()})
	mustOK(t, err, "ListRedemptions")
	if len(held) != 2 {
		t.Errorf("ListRedemptions of holds lapsed by now finds the two 5-minute holds: %d", len(held))
	}
	n, err := e.e.ReleaseLapsedHolds(e.ctx)
	if wantOK(t, err, "ReleaseLapsedHolds") && n != 2 {
		t.Errorf("the sweep releases the two lapsed holds, not the live one: %d", n)
	}
	if got := e.counters(s.ID); got.Uses != 1 {
		t.Errorf("after the sweep only the live hold counts: %d", got.Uses)
	}
	n, err = e.e.ReleaseLapsedHolds(e.ctx)
	if wantOK(t, err, "ReleaseLapsedHolds again") && n != 0 {
		t.Errorf("a second sweep finds nothing: %d", n)
	}
}

func testHoldReplay(t *testing.T, e *env) {
	s := e.gen("hold replay")
	c := e.issue(s.ID, alice)
	h := e.hold(c.Code, alice, "cart", 15*time.Minute)
	again, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(c.Code, alice, "cart", "100"), TTL: 15 * time.Minute})
	if wantOK(t, err, "repeating a hold with its key is a replay") && (!again.Replayed || again.Redemption.ID != h.Redemption.ID) {
		t.Errorf("a repeated hold returns the first: %+v", again)
	}
	_, err = e.tryRedeem(c.Code, alice, "cart")
	wantCode(t, err, errcode.KeyMismatch, "a Redeem with a hold's key is another request, refused as a key mismatch")
	e.wantUses(t, s.ID, c.Canonical, alice, [4]int64{1, 1, 1, 1}, "replays count nothing")
}

func testHoldBadTTL(t *testing.T, e *env) {
	s := e.gen("ttl")
	c := e.issue(s.ID, alice)
	_, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(c.Code, alice, "k", "10"), TTL: 0})
	wantCode(t, err, errcode.InvalidArgument, "a hold needs a positive time to live")
}

func testHoldUnknown(t *testing.T, e *env) {
	_, err := e.e.Confirm(e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{ID: "no-such-hold"}, Actor: "x"})
	wantCode(t, err, errcode.RedemptionNotFound, "confirming an unknown hold is RedemptionNotFound")
	err = e.e.Release(e.ctx, couponkit.ReleaseRequest{Hold: couponkit.UseRef{ID: "no-such-hold"}, Actor: "x"})
	wantCode(t, err, errcode.RedemptionNotFound, "releasing an unknown hold is RedemptionNotFound")
}

func testReverseByID(t *testing.T, e *env) {
	s := e.gen("reverse")
	c := e.issue(s.ID, alice)
	r := e.redeem(c.Code, alice, "pos-1")
	e.clk.Advance(time.Hour)
	out, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}, Actor: "support", Reason: "returned"})
	if !wantOK(t, err, "reversing a redemption by id") {
		return
	}
	now := e.clk.Now()
	if out.Redemption.Status != coupon.StatusReversed || !out.Redemption.ReversedAt.Equal(now) {
		t.Errorf("the reversed redemption is Reversed at now: %+v", out.Redemption)
	}
	if out.Coupon.State != coupon.Issued || out.Coupon.Redemptions != 0 || !out.Coupon.Reversed || !out.Coupon.LastStatusChange.Equal(now) {
		t.Errorf("after reversal the coupon is Issued again with no redemption, Reversed set, LastStatusChange now: %+v", out.Coupon)
	}
	same(t, e.stored(c.ID), out.Coupon, "the store holds the reversed coupon")
	same(t, e.storedRedemption(r.Redemption.ID), out.Redemption, "the store holds the reversed redemption")
	e.wantUses(t, s.ID, c.Canonical, alice, [4]int64{0, 0, 0, 0}, "a reversal gives back every counter")
	evs := e.history(c.ID)
	if last := evs[len(evs)-1]; last.Kind != coupon.EventReversed || last.Reason != "returned" || last.Actor != "support" || last.RedemptionID != r.Redemption.ID {
		t.Errorf("a reversal appends a Reversed event with actor, reason and redemption: %+v", last)
	}
	_, err = e.tryRedeem(c.Code, alice, "pos-2")
	wantOK(t, err, "a reversed single-use coupon can be redeemed again")
}

func testReverseByKey(t *testing.T, e *env) {
	s := e.gen("by key")
	c := e.issue(s.ID, alice)
	r := e.redeem(c.Code, alice, "pos-7")
	out, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{Code: c.Code, IdempotencyKey: "pos-7"}})
	if wantOK(t, err, "reversing by code and idempotency key") && out.Redemption.ID != r.Redemption.ID {
		t.Errorf("the code and key name the redemption %s: got %s", r.Redemption.ID, out.Redemption.ID)
	}
	_, err = e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{Code: c.Code, IdempotencyKey: "pos-8"}})
	wantCode(t, err, errcode.RedemptionNotFound, "a key never used on the code names no redemption")
}

func testReverseTwice(t *testing.T, e *env) {
	s := e.gen("twice")
	c := e.issue(s.ID, alice)
	r := e.redeem(c.Code, alice, "pos-1")
	_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}})
	mustOK(t, err, "Reverse")
	_, err = e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}})
	wantCode(t, err, errcode.AlreadyReversed, "a redemption is reversed once; again is AlreadyReversed (1113)")
	_, err = e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{Code: c.Code, IdempotencyKey: "pos-1"}})
	wantCode(t, err, errcode.AlreadyReversed, "reversing by code and key again is AlreadyReversed too")
	e.wantUses(t, s.ID, c.Canonical, alice, [4]int64{0, 0, 0, 0}, "a refused second reversal gives nothing back twice")
	// The replayed key returns the reversed redemption: it is still that
	// transaction's result.
	rr, err := e.tryRedeem(c.Code, alice, "pos-1")
	if wantOK(t, err, "a Redeem repeating a reversed redemption's key") && (!rr.Replayed || rr.Redemption.Status != coupon.StatusReversed) {
		t.Errorf("repeating the key of a reversed redemption replays it, reversed: %+v", rr.Redemption)
	}
}

func testReverseGivesBack(t *testing.T, e *env) {
	s := e.gen("give back", func(s *series.Series) { s.Redemption.MaxPerSeries = 1 })
	a, b := e.issue(s.ID, alice), e.issue(s.ID, bob)
	r := e.redeem(a.Code, alice, "k")
	_, err := e.tryRedeem(b.Code, bob, "k")
	wantDenied(t, err, reasons(limits.SeriesLimit), "series level 1 used")
	_, err = e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}})
	mustOK(t, err, "Reverse")
	_, err = e.tryRedeem(b.Code, bob, "k")
	wantOK(t, err, "a reversal gives the series-level use back")
	if n := e.counters(s.ID); n.Uses != 1 {
		t.Errorf("series uses after redeem, reverse, redeem: %d", n.Uses)
	}
}

func testReverseErrors(t *testing.T, e *env) {
	s := e.gen("errors")
	c := e.issue(s.ID, alice)
	_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: "no-such-redemption"}})
	wantCode(t, err, errcode.RedemptionNotFound, "reversing an unknown redemption id")
	_, err = e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{Code: c.Code}})
	wantCode(t, err, errcode.InvalidArgument, "reversing by code needs the idempotency key")
	_, err = e.e.Reverse(e.ctx, couponkit.ReverseRequest{})
	wantCode(t, err, errcode.InvalidArgument, "a reversal needs the redemption id or the code and key")
	h := e.hold(c.Code, alice, "cart", time.Hour)
	_, err = e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: h.Redemption.ID}})
	wantCode(t, err, errcode.RedemptionNotFound, "a hold is not a redemption and cannot be reversed")
	e.wantUses(t, s.ID, c.Canonical, alice, [4]int64{1, 1, 1, 1}, "refused reversals change no counter")
}

func testReverseExpired(t *testing.T, e *env) {
	s := e.gen("expired", func(s *series.Series) {
		s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 0}
		s.Redemption.Repeat = true
		s.Redemption.MaxPerCustomer = 2
	})
	c := e.issue(s.ID, alice)
	r := e.redeem(c.Code, alice, "k")
	e.clk.Advance(24 * time.Hour)
	out, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}})
	if wantOK(t, err, "a redemption of a coupon past its expiry may be reversed") && out.Coupon.StateAt(e.clk.Now()) != coupon.Expired {
		t.Errorf("the reversal does not make an expired coupon usable: state now %s", out.Coupon.StateAt(e.clk.Now()))
	}
	_, err = e.tryRedeem(c.Code, alice, "k2")
	wantCode(t, err, errcode.Expired, "the reversed expired coupon still cannot be redeemed")
}

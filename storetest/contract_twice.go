package storetest

import (
	"errors"
	"testing"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// testContractWrittenTwice: a change writes each record at most once
// (store.Change.Validate). A store refuses one that writes a coupon, a
// redemption, a counter or an audience member twice, with the
// *store.TwiceError naming it, and writes nothing of it, whatever it
// holds: an insert and an update of one record are refused even where the
// update would see the insert, and two bumps of one counter even where
// both guards pass.
func testContractWrittenTwice(t *testing.T, e *env) {
	e.putRawSeries("s1")
	stored := rawIssued("c1", "s1", "C1", alice)
	red := coupon.Redemption{ID: "r1", CouponID: "c1", SeriesID: "s1", Customer: alice, IdempotencyKey: "k1", Status: coupon.StatusHeld, At: t0}
	e.apply(&store.Change{NewCoupons: []coupon.Coupon{stored}, NewRedemptions: []coupon.Redemption{red},
		Audience: []store.AudienceUpdate{addMember("s1", alice, t0)}})

	fresh := rawIssued("c2", "s1", "C2", bob)
	freshNext := fresh
	freshNext.Version++
	storedNext := stored
	storedNext.Version++
	storedLast := storedNext
	storedLast.Version++
	newRed := coupon.Redemption{ID: "r2", CouponID: "c1", SeriesID: "s1", Customer: alice, IdempotencyKey: "k2", Status: coupon.StatusHeld, At: t0}
	confirmed := newRed
	confirmed.Status = coupon.StatusRedeemed
	redConfirmed := red
	redConfirmed.Status = coupon.StatusRedeemed
	uses := key(limits.SeriesUses, "s1", "", "")
	other := key(limits.SeriesIssued, "s1", "", "")
	for _, tc := range []struct {
		what, kind, key string
		ch              store.Change
	}{
		{"a coupon inserted twice", "coupon", "c2", store.Change{NewCoupons: []coupon.Coupon{fresh, fresh}}},
		{"a coupon inserted and updated", "coupon", "c2", store.Change{NewCoupons: []coupon.Coupon{fresh},
			Coupons: []store.CouponUpdate{{Coupon: freshNext, ExpectVersion: fresh.Version}}}},
		{"a coupon updated twice", "coupon", "c1", store.Change{Coupons: []store.CouponUpdate{
			{Coupon: storedNext, ExpectVersion: stored.Version}, {Coupon: storedLast, ExpectVersion: storedNext.Version}}}},
		{"a redemption inserted twice", "redemption", "r2", store.Change{NewRedemptions: []coupon.Redemption{newRed, newRed}}},
		{"a redemption inserted and updated", "redemption", "r2", store.Change{NewRedemptions: []coupon.Redemption{newRed},
			Redemptions: []store.RedemptionUpdate{{Redemption: confirmed, ExpectStatus: coupon.StatusHeld}}}},
		{"a redemption updated twice", "redemption", "r1", store.Change{Redemptions: []store.RedemptionUpdate{
			{Redemption: redConfirmed, ExpectStatus: coupon.StatusHeld}, {Redemption: red, ExpectStatus: coupon.StatusRedeemed}}}},
		{"a counter bumped twice", "counter", uses.String(), store.Change{Bumps: []store.Bump{
			{Key: other, Delta: 1, At: t0}, {Key: uses, Delta: 1, At: t0}, {Key: uses, Delta: 1, At: t0}}}},
		{"a counter bumped up and down", "counter", uses.String(), store.Change{Bumps: []store.Bump{
			{Key: uses, Delta: 1, At: t0}, {Key: uses, Delta: -1, At: t0}}}},
		{"a member added twice", "audience", "s1/" + carol, store.Change{Audience: []store.AudienceUpdate{
			addMember("s1", carol, t0), addMember("s1", carol, t0)}}},
		{"a member removed and added", "audience", "s1/" + alice, store.Change{Audience: []store.AudienceUpdate{
			removeMember("s1", alice), addMember("s1", alice, t0)}}},
	} {
		tc.ch.Events = append(tc.ch.Events, audienceEvent("ev-twice", coupon.EventAudienceAdded, "s1", dave))
		err := e.st.Apply(e.ctx, &tc.ch)
		wantCode(t, err, errcode.InvalidArgument, "%s in one change is refused", tc.what)
		var te *store.TwiceError
		if !errors.As(err, &te) || te.Kind != tc.kind || te.Key != tc.key {
			t.Errorf("%s: the error is a *store.TwiceError naming %s %q: %#v", tc.what, tc.kind, tc.key, err)
		}
		e.wantUnwritten(t, tc.what)
	}
}

// wantUnwritten fails t unless the store holds what testContractWrittenTwice
// stored before its refused changes, and nothing of them.
func (e *env) wantUnwritten(t *testing.T, what string) {
	t.Helper()
	if c := e.stored("c1"); c.Version != rawIssued("c1", "s1", "C1", alice).Version {
		t.Errorf("%s: a refused change updates no coupon: c1 at version %d", what, c.Version)
	}
	if _, err := e.st.Coupon(e.ctx, "c2"); errcode.CodeOf(err) != errcode.NotFound {
		t.Errorf("%s: a refused change inserts no coupon: %v", what, err)
	}
	if r, err := e.st.Redemption(e.ctx, "r1"); err != nil || r.Status != coupon.StatusHeld {
		t.Errorf("%s: a refused change updates no redemption: %+v, %v", what, r, err)
	}
	if _, err := e.st.Redemption(e.ctx, "r2"); errcode.CodeOf(err) != errcode.NotFound {
		t.Errorf("%s: a refused change inserts no redemption: %v", what, err)
	}
	for _, k := range []store.CounterKey{key(limits.SeriesUses, "s1", "", ""), key(limits.SeriesIssued, "s1", "", "")} {
		if c := e.count(k); c != (store.Count{}) {
			t.Errorf("%s: a refused change bumps no counter: %v at %+v", what, k, c)
		}
	}
	same(t, e.members("s1"), []store.AudienceMember{{Customer: alice, AddedAt: t0}}, "%s: a refused change updates no audience member", what)
	if evs := e.events(store.EventQuery{Customer: dave}); len(evs) != 0 {
		t.Errorf("%s: a refused change appends no event: %v", what, evs)
	}
}

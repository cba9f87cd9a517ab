package till_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/till"
)

// ev is a feed event of series s1 at position n.
func ev(n uint64, kind coupon.EventKind, code, customer string, edit ...func(*coupon.Event)) store.FeedEvent {
	e := coupon.Event{Kind: kind, SeriesID: "s1", Code: code, Customer: customer, Actor: "central", At: t0.Add(-time.Hour)}
	for _, f := range edit {
		f(&e)
	}
	return store.FeedEvent{Position: store.MakePosition(0, n), Event: e}
}

func page(next uint64, events ...store.FeedEvent) couponkit.TillFeedPage {
	return couponkit.TillFeedPage{Events: events, Next: store.MakePosition(0, next)}
}

// holderOnly is s1 where only the holder may redeem, each code at most
// three times (the customer level is then the code's).
func holderOnly() series.Series {
	s := permissive()
	s.Redemption.AnyoneMayRedeem = false
	s.Redemption.MaxPerCustomer = 3
	return s
}

// openTill is a journal of till-1 with series s and a lease of 10 uses of
// which allowance may be unverified.
func openTill(t *testing.T, s series.Series, allowance int64) *till.Journal {
	t.Helper()
	j, err := till.Open(context.Background(), openDB(t, filepath.Join(t.TempDir(), "till.db")), skew, till.WithTill("till-1"))
	if err != nil {
		t.Fatal(err)
	}
	putSeries(t, j, s)
	l, err := lease.New(lease.Params{ID: "l1", Till: "till-1", SeriesID: "s1", Slice: lease.Slice{Uses: 10}, End: t0.Add(time.Hour)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	l.Allowance = allowance
	if err := j.PutLease(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	return j
}

// TestFeedDecidesOfflineUses: what the feed tells of a code decides its
// offline uses as the central would: a denied code is refused with the
// refusal of its state, a code held by another customer is refused, the
// code level counts the central's uses (not the till's own, which the
// journal counts) with the till's, and a known code is a verified use,
// which needs no allowance.
func TestFeedDecidesOfflineUses(t *testing.T) {
	issuedA := ev(1, coupon.EventIssued, "abc", "alice")
	cases := []struct {
		name   string
		events []store.FeedEvent
		try    sale
		code   errcode.Code // 0: allowed
		rule   refusal.Rule
	}{
		{"issued: the holder's use is verified", []store.FeedEvent{issuedA}, sale{"ABC", "alice", t0, ""}, 0, ""},
		{"issued: another customer", []store.FeedEvent{issuedA}, sale{"ABC", "bob", t0, ""}, limits.NotHolder.Code(), refusal.NotHolder},
		{"revoked", []store.FeedEvent{issuedA, ev(2, coupon.EventRevoked, "abc", "alice")}, sale{" abc", "alice", t0, ""}, errcode.Revoked, refusal.Revoked},
		{"expired", []store.FeedEvent{issuedA, ev(2, coupon.EventExpired, "ABC", "alice")}, sale{"abc", "alice", t0, ""}, errcode.Expired, refusal.Expired},
		{"transferred away", []store.FeedEvent{issuedA, ev(2, coupon.EventTransferredOut, "ABC", "alice", func(e *coupon.Event) { e.Counterparty = "bob" })},
			sale{"abc", "alice", t0, ""}, limits.NotHolder.Code(), refusal.NotHolder},
		{"transferred here", []store.FeedEvent{issuedA, ev(2, coupon.EventTransferReceived, "ABC", "bob", func(e *coupon.Event) { e.Counterparty = "alice" })},
			sale{"abc", "bob", t0, ""}, 0, ""},
		{"reissued away", []store.FeedEvent{issuedA, ev(2, coupon.EventReissued, "ABC", "alice", func(e *coupon.Event) { e.OldCode, e.NewCode = "ABC", "XYZ" })},
			sale{"abc", "alice", t0, ""}, limits.NotHolder.Code(), refusal.NotHolder},
		{"reissued: the new code", []store.FeedEvent{issuedA, ev(2, coupon.EventReissued, "ABC", "alice", func(e *coupon.Event) { e.OldCode, e.NewCode = "ABC", "XYZ" })},
			sale{"xyz", "alice", t0, ""}, 0, ""},
		{"the central's uses count", []store.FeedEvent{issuedA, ev(2, coupon.EventRedeemed, "ABC", "alice"), ev(3, coupon.EventHoldConfirmed, "ABC", "alice"),
			ev(4, coupon.EventRedeemed, "ABC", "alice")}, sale{"abc", "alice", t0, ""}, errcode.Redeemed, refusal.UsedUp},
		{"a reversed central use is given back", []store.FeedEvent{issuedA, ev(2, coupon.EventRedeemed, "ABC", "alice"), ev(3, coupon.EventRedeemed, "ABC", "alice"),
			ev(4, coupon.EventRedeemed, "ABC", "alice"), ev(5, coupon.EventReversed, "ABC", "alice")}, sale{"abc", "alice", t0, ""}, 0, ""},
		{"the till's own uses are the journal's", []store.FeedEvent{issuedA, ev(2, coupon.EventRedeemed, "ABC", "alice"), ev(3, coupon.EventRedeemed, "ABC", "alice"),
			ev(4, coupon.EventRedeemed, "ABC", "alice", func(e *coupon.Event) { e.Actor = "till till-1" })}, sale{"abc", "alice", t0, ""}, 0, ""},
		{"another till's uses count", []store.FeedEvent{issuedA, ev(2, coupon.EventRedeemed, "ABC", "alice"), ev(3, coupon.EventRedeemed, "ABC", "alice"),
			ev(4, coupon.EventRedeemed, "ABC", "alice", func(e *coupon.Event) { e.Actor = "till till-2" })}, sale{"abc", "alice", t0, ""}, errcode.Redeemed, refusal.UsedUp},
		{"unknown code without allowance", nil, sale{"abc", "alice", t0, ""}, errcode.AllowanceExceeded, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			j := openTill(t, holderOnly(), 0)
			if err := j.ApplyFeed(ctx, page(uint64(len(tc.events)), tc.events...)); err != nil {
				t.Fatal(err)
			}
			e, err := j.Redeem(ctx, tc.try.use("try"), nil)
			switch {
			case tc.code == 0 && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.code == 0:
				if !e.Verified {
					t.Errorf("a use of a code the feed told of is not verified: %+v", e)
				}
			case tc.code == errcode.AllowanceExceeded:
				checkField(t, err, errcode.ErrAllowanceExceeded, "Allowance")
			default:
				checkRefusal(t, err, tc.code, tc.rule)
			}
		})
	}
}

// checkField checks that err matches target and names field.
func checkField(t *testing.T, err, target error, field string) {
	t.Helper()
	var ee *errcode.Error
	if !errors.Is(err, target) || !errors.As(err, &ee) || ee.Field != field {
		t.Fatalf("got %v, want %v on %s", err, target, field)
	}
}

// TestApplyFeedTwiceIsOnce: a page applied again, or an older page after a
// newer one, changes nothing; the position moves with the page.
func TestApplyFeedTwiceIsOnce(t *testing.T) {
	ctx := context.Background()
	j := openTill(t, holderOnly(), 0)
	first := page(2, ev(1, coupon.EventIssued, "ABC", "alice"), ev(2, coupon.EventRedeemed, "ABC", "alice"))
	second := page(3, ev(3, coupon.EventRedeemed, "ABC", "alice"))
	for _, p := range []couponkit.TillFeedPage{first, first, second, second, first} {
		if err := j.ApplyFeed(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if pos, err := j.FeedPosition(ctx); err != nil || !pos.Equal(store.MakePosition(0, 3)) {
		t.Fatalf("position %v, %v; want 0-3", pos, err)
	}
	// Two central uses of a level of three: one is left, not more.
	if _, err := j.Redeem(ctx, sale{"ABC", "alice", t0, ""}.use("k1"), nil); err != nil {
		t.Fatalf("the third use: %v", err)
	}
	_, err := j.Redeem(ctx, sale{"ABC", "alice", t0, ""}.use("k2"), nil)
	checkRefusal(t, err, errcode.Redeemed, refusal.UsedUp)
}

// TestApplyFeedReplacesSeries: the page's series configurations replace
// the till's, in the same transaction as its position.
func TestApplyFeedReplacesSeries(t *testing.T) {
	ctx := context.Background()
	j := openTill(t, permissive(), 5)
	paused := permissive()
	paused.Status = series.Paused
	p := page(1)
	p.Series = []series.Series{paused}
	if err := j.ApplyFeed(ctx, p); err != nil {
		t.Fatal(err)
	}
	_, err := j.Redeem(ctx, sale{"ABC", "alice", t0, ""}.use("k"), nil)
	checkRefusal(t, err, errcode.SeriesPaused, refusal.SeriesPaused)
	bad := page(2)
	bad.Series = []series.Series{{ID: "s1", TimeZone: "Nowhere/Else"}}
	if err := j.ApplyFeed(ctx, bad); err == nil {
		t.Fatal("a page with a configuration the till cannot read was applied")
	}
	if pos, _ := j.FeedPosition(ctx); !pos.Equal(store.MakePosition(0, 1)) {
		t.Fatalf("a failed page moved the position to %v", pos)
	}
}

// TestAllowanceBoundsUnverifiedUses: an unverified use draws only on a
// lease whose allowance covers it (the till picks that one over a lease
// ending sooner), and is refused once none does; a verified use needs no
// allowance.
func TestAllowanceBoundsUnverifiedUses(t *testing.T) {
	ctx := context.Background()
	j := openTill(t, permissive(), 1) // l1 ends at t0+1h
	sooner, err := lease.New(lease.Params{ID: "l0", Till: "till-1", SeriesID: "s1", Slice: lease.Slice{Uses: 10}, End: t0.Add(30 * time.Minute)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.PutLease(ctx, sooner); err != nil {
		t.Fatal(err)
	}
	e, err := j.Redeem(ctx, sale{"NEW1", "alice", t0, ""}.use("u1"), nil)
	if err != nil || e.LeaseID != "l1" || e.Verified {
		t.Fatalf("the unverified use: %+v, %v; want it on l1, the lease with an allowance", e, err)
	}
	_, err = j.Redeem(ctx, sale{"NEW2", "alice", t0, ""}.use("u2"), nil)
	checkField(t, err, errcode.ErrAllowanceExceeded, "Allowance")
	if err := j.ApplyFeed(ctx, page(1, ev(1, coupon.EventIssued, "NEW2", "alice"))); err != nil {
		t.Fatal(err)
	}
	e, err = j.Redeem(ctx, sale{"new2", "alice", t0, ""}.use("u3"), nil)
	if err != nil || e.LeaseID != "l0" || !e.Verified {
		t.Fatalf("the verified use: %+v, %v; want it on l0, the lease ending first", e, err)
	}
	// A reversal gives no allowance back: the exposure was taken.
	if _, err := j.Reverse(ctx, till.Reversal{Key: "r1", Reverses: "u1", At: t0}, nil); err != nil {
		t.Fatal(err)
	}
	_, err = j.Redeem(ctx, sale{"NEW3", "alice", t0, ""}.use("u4"), nil)
	checkField(t, err, errcode.ErrAllowanceExceeded, "Allowance")
	if left, _ := j.Left(ctx, "l1"); left != 9 {
		t.Errorf("l1 has %d left, want 9", left)
	}
}

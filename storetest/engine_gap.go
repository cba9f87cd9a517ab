package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// dayGap lets a customer redeem again, at most once a day.
func dayGap(s *series.Series) {
	s.Redemption.Repeat = true
	s.Redemption.MinGap = 24 * time.Hour
}

// lastUse is the time the store keeps as the customer's last use in the
// series: the last-increment time of their series uses counter, which the
// redemption gap is measured from.
func (e *env) lastUse(seriesID, customer string) time.Time {
	e.t.Helper()
	return e.count(key(limits.CustomerSeriesUses, seriesID, "", customer)).Last
}

// latestUse is, from the records, the time of the customer's latest use in
// the series that still counts: an unreversed redemption or a hold live at
// now. ok is false when a hold of the customer has lapsed unreleased: it
// still counts against the limits until it is released, and the last use
// time the store keeps may be its time or the one before.
func latestUse(rs []coupon.Redemption, customer string, now time.Time) (last time.Time, ok bool) {
	for _, r := range rs {
		if r.Customer != customer {
			continue
		}
		switch {
		case r.Status == coupon.StatusHeld && !r.HoldActive(now):
			return time.Time{}, false
		case r.Status == coupon.StatusRedeemed || r.Status == coupon.StatusHeld:
			if r.At.After(last) {
				last = r.At
			}
		}
	}
	return last, true
}

// wantLastUse checks that the last use time the store keeps for each
// customer of the records is the time of their latest use that counts.
func (e *env) wantLastUse(t *testing.T, seriesID string, rs []coupon.Redemption, rule string) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range rs {
		if seen[r.Customer] {
			continue
		}
		seen[r.Customer] = true
		want, ok := latestUse(rs, r.Customer, e.clk.Now())
		if !ok {
			continue
		}
		if got := e.lastUse(seriesID, r.Customer); !got.Equal(want) {
			t.Errorf("%s: the last use of %s the redemption gap counts from is %s, but their latest unreversed use or live hold is at %s",
				rule, r.Customer, fmtTime(got), fmtTime(want))
		}
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.DateTime)
}

func (e *env) reverse(redemptionID string) {
	e.t.Helper()
	if _, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: redemptionID}}); err != nil {
		e.t.Fatalf("setup: Reverse(%s): %v", redemptionID, err)
	}
}

func (e *env) records(seriesID string) []coupon.Redemption {
	e.t.Helper()
	rs, err := e.st.ListRedemptions(e.ctx, store.RedemptionQuery{SeriesID: seriesID})
	if err != nil {
		e.t.Fatalf("ListRedemptions: %v", err)
	}
	return rs
}

// testReverseGap: a reversed use no longer counts for the redemption gap.
func testReverseGap(t *testing.T, e *env) {
	s := e.gen("gap after reversal", dayGap)
	c := e.issue(s.ID, alice)
	r1 := e.redeem(c.Code, alice, "k1")
	e.reverse(r1.Redemption.ID)
	if got := e.lastUse(s.ID, alice); !got.IsZero() {
		t.Errorf("reversing the customer's only use leaves no last use for the gap: %s", fmtTime(got))
	}
	e.clk.Advance(time.Minute)
	r2, err := e.tryRedeem(c.Code, alice, "k2")
	if wantOK(t, err, "redeem, reverse, redeem a minute later under a 1-day gap: the reversed use no longer counts") {
		if got := e.lastUse(s.ID, alice); !got.Equal(r2.Redemption.At) {
			t.Errorf("the gap counts from the new use: %s, want %s", fmtTime(got), fmtTime(r2.Redemption.At))
		}
	}
	e.wantLastUse(t, s.ID, e.records(s.ID), "redeem, reverse, redeem")
}

// testReverseGapEarlier: with two uses a day apart and the later reversed,
// the gap counts from the earlier.
func testReverseGapEarlier(t *testing.T, e *env) {
	s := e.gen("gap from the earlier use", dayGap)
	c := e.issue(s.ID, alice)
	first := e.redeem(c.Code, alice, "k1")
	e.clk.Advance(24 * time.Hour)
	later := e.redeem(c.Code, alice, "k2")
	e.clk.Advance(time.Hour)
	e.reverse(later.Redemption.ID)
	if got := e.lastUse(s.ID, alice); !got.Equal(first.Redemption.At) {
		t.Errorf("with the later of two uses reversed, the gap counts from the earlier (%s): %s", fmtTime(first.Redemption.At), fmtTime(got))
	}
	// A gap of two days tells the earlier use from none.
	cur, err := e.e.Series(e.ctx, s.ID)
	mustOK(t, err, "Series")
	cur.Redemption.MinGap = 48 * time.Hour
	_, err = e.e.UpdateSeries(e.ctx, cur)
	mustOK(t, err, "UpdateSeries")
	_, err = e.tryRedeem(c.Code, alice, "k3")
	wantDenied(t, err, reasons(limits.RedemptionGap), "25 hours after the earlier use, a 2-day gap counted from it refuses")
	e.clk.Advance(23 * time.Hour)
	_, err = e.tryRedeem(c.Code, alice, "k4")
	wantOK(t, err, "two days after the earlier use a 2-day gap counted from it allows")
	e.wantLastUse(t, s.ID, e.records(s.ID), "two uses a day apart, the later reversed")
}

// testHoldReleaseGap: a released hold, by Release or by the sweep of lapsed
// holds, no longer counts for the redemption gap.
func testHoldReleaseGap(t *testing.T, e *env) {
	s := e.gen("gap after release", dayGap)
	c := e.issue(s.ID, alice)
	first := e.redeem(c.Code, alice, "k1")
	e.clk.Advance(24 * time.Hour)
	h := e.hold(c.Code, alice, "cart1", 10*time.Minute)
	mustOK(t, e.e.Release(e.ctx, couponkit.ReleaseRequest{Hold: couponkit.UseRef{ID: h.Redemption.ID}, Actor: "till"}), "Release")
	if got := e.lastUse(s.ID, alice); !got.Equal(first.Redemption.At) {
		t.Errorf("a released hold gives the gap back to the use before it (%s): %s", fmtTime(first.Redemption.At), fmtTime(got))
	}
	e.clk.Advance(time.Minute)
	second, err := e.tryRedeem(c.Code, alice, "k2")
	wantOK(t, err, "a redemption a minute after a released hold, a day after the use before it")

	e.clk.Advance(24 * time.Hour)
	e.hold(c.Code, alice, "cart2", 10*time.Minute)
	e.clk.Advance(11 * time.Minute)
	n, err := e.e.ReleaseLapsedHolds(e.ctx)
	if wantOK(t, err, "ReleaseLapsedHolds") && n != 1 {
		t.Errorf("the sweep releases the lapsed hold: %d", n)
	}
	if got := e.lastUse(s.ID, alice); !got.Equal(second.Redemption.At) {
		t.Errorf("a lapsed hold released by the sweep gives the gap back to the use before it (%s): %s", fmtTime(second.Redemption.At), fmtTime(got))
	}
	_, err = e.tryRedeem(c.Code, alice, "k3")
	wantOK(t, err, "a redemption 11 minutes after a lapsed and released hold, a day after the use before it")
	e.wantLastUse(t, s.ID, e.records(s.ID), "holds released by Release and by the sweep")
}

// overtaking is a store whose first Apply that gives a use back (a
// decrement) first runs overtake: another engine's operation, committed
// after the reversing engine read what it decides on and before its change
// is applied, as a concurrent one may be.
type overtaking struct {
	store.Store
	overtake func()
	done     bool
}

func (o *overtaking) Apply(ctx context.Context, c *store.Change) error {
	if !o.done && slices.ContainsFunc(c.Bumps, func(b store.Bump) bool { return b.Delta < 0 }) {
		o.done = true
		o.overtake()
	}
	return o.Store.Apply(ctx, c)
}

// overtakenEngine returns an engine like e's over a store that runs
// overtake (with e's own engine) just before its first give-back applies.
func (e *env) overtakenEngine(overtake func()) (*couponkit.Engine, *overtaking) {
	e.t.Helper()
	o := &overtaking{Store: e.st, overtake: overtake}
	eng, err := couponkit.New(couponkit.Config{Store: o, Now: e.clk.Now, Customers: e.dir, CodeKey: seriesKey, Rates: rates})
	if err != nil {
		e.t.Fatalf("couponkit.New: %v", err)
	}
	return eng, o
}

// testReverseOvertaken: a reversal overtaken, between its reads and its
// change, by a new use or by the reversal of another use of the same
// customer (of another coupon, so that only the customer's counter tells)
// never leaves the gap counting from a use that no longer counts or from
// before one that does.
func testReverseOvertaken(t *testing.T, e *env) {
	s := e.gen("overtaken reversals", func(s *series.Series) {
		s.Redemption.Repeat = true
		s.Redemption.MinGap = time.Minute
	})
	c, other := e.issue(s.ID, alice), e.issue(s.ID, alice)
	use := func(key string) coupon.Redemption {
		e.clk.Advance(2 * time.Minute)
		return e.redeem(c.Code, alice, key).Redemption
	}
	a, b := use("a"), use("b")
	e.clk.Advance(2 * time.Minute)
	var newer couponkit.RedeemResult
	eng, o := e.overtakenEngine(func() { newer = e.redeem(other.Code, alice, "c") })
	_, err := eng.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: b.ID}})
	if wantOK(t, err, "a reversal overtaken by a new use of the customer") && o.done {
		if got := e.lastUse(s.ID, alice); !got.Equal(newer.Redemption.At) {
			t.Errorf("a reversal overtaken by a new use must not move the gap back past it (%s): %s", fmtTime(newer.Redemption.At), fmtTime(got))
		}
	}
	e.wantLastUse(t, s.ID, e.records(s.ID), "a reversal overtaken by a new use")

	d := use("d")
	// Reversing the latest use d, overtaken by the reversal of newer, the
	// use before it: the gap must count from a, not from newer.
	eng, o = e.overtakenEngine(func() { e.reverse(newer.Redemption.ID) })
	_, err = eng.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: d.ID}})
	if wantOK(t, err, "a reversal overtaken by the reversal of the customer's use before it") && o.done {
		if got := e.lastUse(s.ID, alice); !got.Equal(a.At) {
			t.Errorf("a reversal overtaken by the reversal of the use before it must count the gap from the one before that (%s): %s", fmtTime(a.At), fmtTime(got))
		}
	}
	e.wantLastUse(t, s.ID, e.records(s.ID), "a reversal overtaken by another reversal")
	if !o.done {
		t.Errorf("the reversal applied no change that gives a use back")
	}
}

// testReleaseOvertaken: a hold release overtaken by a new use of the
// customer leaves the gap counting from that use.
func testReleaseOvertaken(t *testing.T, e *env) {
	s := e.gen("overtaken release", func(s *series.Series) {
		s.Redemption.Repeat = true
		s.Redemption.MinGap = time.Minute
	})
	c, other := e.issue(s.ID, alice), e.issue(s.ID, alice)
	h := e.hold(c.Code, alice, "cart", time.Hour)
	e.clk.Advance(2 * time.Minute)
	var newer couponkit.RedeemResult
	eng, o := e.overtakenEngine(func() { newer = e.redeem(other.Code, alice, "k") })
	if err := eng.Release(e.ctx, couponkit.ReleaseRequest{Hold: couponkit.UseRef{ID: h.Redemption.ID}, Actor: "till"}); wantOK(t, err, "a release overtaken by a new use") && o.done {
		if got := e.lastUse(s.ID, alice); !got.Equal(newer.Redemption.At) {
			t.Errorf("a release overtaken by a new use must not move the gap back past it (%s): %s", fmtTime(newer.Redemption.At), fmtTime(got))
		}
	}
	if !o.done {
		t.Errorf("the release applied no change that gives a use back")
	}
	e.wantLastUse(t, s.ID, e.records(s.ID), "a release overtaken by a new use")
}

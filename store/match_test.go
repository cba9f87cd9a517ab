package store_test

import (
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// SeriesQuery.Match keeps a series only when it passes every set field; a
// place matches exactly, never widened.
func TestSeriesQueryMatch(t *testing.T) {
	places := limits.NewPlaceSet(limits.PlaceRef{Kind: limits.Zone, ID: "north"})
	s := series.Series{ID: "s", Status: series.Active, Redemption: limits.RedemptionRules{Places: places}}
	for _, tc := range []struct {
		name string
		q    store.SeriesQuery
		want bool
	}{
		{"the zero query", store.SeriesQuery{}, true},
		{"its status", store.SeriesQuery{Status: series.Active}, true},
		{"another status", store.SeriesQuery{Status: series.Paused}, false},
		{"its place", store.SeriesQuery{Place: &limits.PlaceRef{Kind: limits.Zone, ID: "north"}}, true},
		{"its place's id as another kind", store.SeriesQuery{Place: &limits.PlaceRef{Kind: limits.Store, ID: "north"}}, false},
		{"another place", store.SeriesQuery{Place: &limits.PlaceRef{Kind: limits.Zone, ID: "south"}}, false},
		{"its place, another status", store.SeriesQuery{Status: series.Ended, Place: &limits.PlaceRef{Kind: limits.Zone, ID: "north"}}, false},
	} {
		if got := tc.q.Match(&s); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// RedemptionQuery.Match keeps a record only when it passes every set
// field; HoldExpiresBefore keeps records whose hold expiry is set and not
// after the bound, whatever their status.
func TestRedemptionQueryMatch(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	r := coupon.Redemption{ID: "r", CouponID: "c", SeriesID: "s", Customer: "alice", Status: coupon.StatusRedeemed, HoldExpiresAt: t0}
	for _, tc := range []struct {
		name string
		q    store.RedemptionQuery
		want bool
	}{
		{"the zero query", store.RedemptionQuery{}, true},
		{"its coupon, series and customer", store.RedemptionQuery{CouponID: "c", SeriesID: "s", Customer: "alice"}, true},
		{"another coupon", store.RedemptionQuery{CouponID: "x"}, false},
		{"another series", store.RedemptionQuery{SeriesID: "x"}, false},
		{"another customer", store.RedemptionQuery{Customer: "bob"}, false},
		{"its status", store.RedemptionQuery{Status: coupon.StatusRedeemed}, true},
		{"another status", store.RedemptionQuery{Status: coupon.StatusHeld}, false},
		{"a hold expiring at the bound", store.RedemptionQuery{HoldExpiresBefore: t0}, true},
		{"a hold expiring after the bound", store.RedemptionQuery{HoldExpiresBefore: t0.Add(-time.Nanosecond)}, false},
		{"a limit", store.RedemptionQuery{Limit: 1}, true},
	} {
		if got := tc.q.Match(&r); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
	direct := r
	direct.HoldExpiresAt = time.Time{}
	if (&store.RedemptionQuery{HoldExpiresBefore: t0}).Match(&direct) {
		t.Error("HoldExpiresBefore keeps a record without a hold expiry")
	}
}

// EventQuery.Match keeps an event only when it passes every set field.
func TestEventQueryMatch(t *testing.T) {
	e := coupon.Event{ID: "e", CouponID: "c", Customer: "alice", SeriesID: "s"}
	for _, tc := range []struct {
		name string
		q    store.EventQuery
		want bool
	}{
		{"the zero query", store.EventQuery{}, true},
		{"every field", store.EventQuery{CouponID: "c", Customer: "alice", SeriesID: "s", Limit: 1}, true},
		{"another coupon", store.EventQuery{CouponID: "x"}, false},
		{"another customer", store.EventQuery{Customer: "bob"}, false},
		{"another series", store.EventQuery{SeriesID: "x"}, false},
	} {
		if got := tc.q.Match(&e); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
}

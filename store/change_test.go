package store_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// Bump.Next is the contract's rule for one bump.
func TestBumpNext(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	key := store.CounterKey{Counter: limits.CustomerSeriesUses, Series: "s", Customer: "c"}
	guard := limits.Guard{Counter: limits.CustomerSeriesUses, Limit: 2, MinGap: time.Hour}
	for _, tc := range []struct {
		name string
		b    store.Bump
		cur  store.Count
		want store.Count
		code errcode.Code // 0: no error
	}{
		{"an increment sets the last time", store.Bump{Key: key, Delta: 1, Guard: guard, At: t0}, store.Count{}, store.Count{N: 1, Last: t0}, 0},
		{"the limit refuses", store.Bump{Key: key, Delta: 1, Guard: guard, At: t0}, store.Count{N: 2, Last: t0.Add(-2 * time.Hour)}, store.Count{N: 2, Last: t0.Add(-2 * time.Hour)}, errcode.GuardFailed},
		{"the gap refuses", store.Bump{Key: key, Delta: 1, Guard: guard, At: t0}, store.Count{N: 1, Last: t0.Add(-time.Minute)}, store.Count{N: 1, Last: t0.Add(-time.Minute)}, errcode.GuardFailed},
		{"a decrement keeps the last time", store.Bump{Key: key, Delta: -1, Guard: guard, At: t0}, store.Count{N: 2, Last: t0.Add(-time.Hour)}, store.Count{N: 1, Last: t0.Add(-time.Hour)}, 0},
		{"a decrement below zero conflicts", store.Bump{Key: key, Delta: -1, At: t0}, store.Count{}, store.Count{}, errcode.Conflict},
		{"a zero delta changes nothing", store.Bump{Key: key, At: t0}, store.Count{N: 5}, store.Count{N: 5}, 0},
		{"a rewinding decrement sets the last time", store.Bump{Key: key, Delta: -1, At: t0, Rewind: &store.Rewind{Expect: store.Count{N: 2, Last: t0.Add(-time.Hour)}, Last: t0.Add(-3 * time.Hour)}},
			store.Count{N: 2, Last: t0.Add(-time.Hour)}, store.Count{N: 1, Last: t0.Add(-3 * time.Hour)}, 0},
		{"a rewind to no use", store.Bump{Key: key, Delta: -1, At: t0, Rewind: &store.Rewind{Expect: store.Count{N: 1, Last: t0}}},
			store.Count{N: 1, Last: t0}, store.Count{}, 0},
		{"a rewind compares instants", store.Bump{Key: key, Delta: -1, At: t0, Rewind: &store.Rewind{Expect: store.Count{N: 1, Last: t0.In(time.FixedZone("x", 3600))}}},
			store.Count{N: 1, Last: t0}, store.Count{}, 0},
		{"a rewind expecting another count conflicts", store.Bump{Key: key, Delta: -1, At: t0, Rewind: &store.Rewind{Expect: store.Count{N: 2, Last: t0}}},
			store.Count{N: 3, Last: t0}, store.Count{N: 3, Last: t0}, errcode.Conflict},
		{"a rewind expecting another last time conflicts", store.Bump{Key: key, Delta: -1, At: t0, Rewind: &store.Rewind{Expect: store.Count{N: 2, Last: t0}}},
			store.Count{N: 2, Last: t0.Add(time.Second)}, store.Count{N: 2, Last: t0.Add(time.Second)}, errcode.Conflict},
		{"an increment ignores a rewind", store.Bump{Key: key, Delta: 1, Guard: guard, At: t0, Rewind: &store.Rewind{Expect: store.Count{N: 9}}},
			store.Count{}, store.Count{N: 1, Last: t0}, 0},
		{"an increment of three with room for three", store.Bump{Key: key, Delta: 3, Guard: limits.Guard{Limit: 5}, At: t0},
			store.Count{N: 2, Last: t0.Add(-time.Minute)}, store.Count{N: 5, Last: t0}, 0},
		{"an increment of three with room for two", store.Bump{Key: key, Delta: 3, Guard: limits.Guard{Limit: 5}, At: t0},
			store.Count{N: 3, Last: t0.Add(-time.Minute)}, store.Count{N: 3, Last: t0.Add(-time.Minute)}, errcode.GuardFailed},
		{"an increment of three without a limit", store.Bump{Key: key, Delta: 3, At: t0}, store.Count{N: 7}, store.Count{N: 10, Last: t0}, 0},
		{"an increment of two under a gap", store.Bump{Key: key, Delta: 2, Guard: guard, At: t0}, store.Count{}, store.Count{}, errcode.GuardFailed},
		{"an increment past the largest int64", store.Bump{Key: key, Delta: 2, At: t0}, store.Count{N: math.MaxInt64 - 1}, store.Count{N: math.MaxInt64 - 1}, errcode.InvalidArgument},
	} {
		got, err := tc.b.Next(tc.cur)
		if tc.code == 0 && err != nil || tc.code != 0 && errcode.CodeOf(err) != tc.code {
			t.Errorf("%s: error %v, want code %v", tc.name, err, tc.code)
		}
		var ge *store.GuardError
		if errors.As(err, &ge) && (ge.Key != key || ge.Count != tc.cur) {
			t.Errorf("%s: the GuardError names %v at %v, want %v at %v", tc.name, ge.Key, ge.Count, key, tc.cur)
		}
		if got.N != tc.want.N || !got.Last.Equal(tc.want.Last) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// CouponFilter.Match keeps a coupon only when it passes every set field.
func TestCouponFilterMatch(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c := coupon.Coupon{ID: "c1", SeriesID: "s", Holder: "h", State: coupon.Issued, ExpiresAt: t0, IssueKey: "k1"}
	for _, tc := range []struct {
		name string
		f    store.CouponFilter
		want bool
	}{
		{"the zero filter", store.CouponFilter{}, true},
		{"series", store.CouponFilter{SeriesID: "s"}, true},
		{"another series", store.CouponFilter{SeriesID: "x"}, false},
		{"another holder", store.CouponFilter{Holder: "x"}, false},
		{"its state among others", store.CouponFilter{States: []coupon.State{coupon.Available, coupon.Issued}}, true},
		{"other states", store.CouponFilter{States: []coupon.State{coupon.Redeemed}}, false},
		{"unused", store.CouponFilter{Unused: true}, true},
		{"expiring at the bound", store.CouponFilter{ExpiresBefore: t0}, true},
		{"expiring after the bound", store.CouponFilter{ExpiresBefore: t0.Add(-time.Second)}, false},
		{"expiring after", store.CouponFilter{ExpiresAfter: t0.Add(-time.Second)}, true},
		{"not after its expiry", store.CouponFilter{ExpiresAfter: t0}, false},
		{"its id", store.CouponFilter{IDs: []string{"x", "c1"}}, true},
		{"other ids", store.CouponFilter{IDs: []string{"x"}}, false},
		{"its issue key", store.CouponFilter{IssueKeys: []string{"k0", "k1"}}, true},
		{"other issue keys", store.CouponFilter{IssueKeys: []string{"k0"}}, false},
	} {
		if got := tc.f.Match(&c); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
	used := c
	used.Holds = 1
	if (&store.CouponFilter{Unused: true}).Match(&used) {
		t.Error("Unused keeps a coupon with a hold")
	}
	unkeyed := c
	unkeyed.IssueKey = ""
	if (&store.CouponFilter{IssueKeys: []string{""}}).Match(&unkeyed) {
		t.Error("IssueKeys keeps a coupon issued without a key")
	}
	never := c
	never.ExpiresAt = time.Time{}
	if (&store.CouponFilter{ExpiresBefore: t0}).Match(&never) || (&store.CouponFilter{ExpiresAfter: t0}).Match(&never) {
		t.Error("a coupon that never expires passes an expiry bound")
	}
}

// SequenceAdvance.Next is the contract's rule for a sequence advance.
func TestSequenceAdvanceNext(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    store.SequenceAdvance
		cur  int64
		want int64
		code errcode.Code // 0: no error
	}{
		{"from the stored index", store.SequenceAdvance{SeriesID: "s", From: 5, To: 8}, 5, 8, 0},
		{"from 0, never advanced", store.SequenceAdvance{SeriesID: "s", To: 1}, 0, 1, 0},
		{"to the same index", store.SequenceAdvance{SeriesID: "s", From: 5, To: 5}, 5, 5, 0},
		{"from a stale index", store.SequenceAdvance{SeriesID: "s", From: 4, To: 8}, 5, 5, errcode.Conflict},
		{"from an index not reached", store.SequenceAdvance{SeriesID: "s", From: 6, To: 8}, 5, 5, errcode.Conflict},
		{"from a negative index", store.SequenceAdvance{SeriesID: "s", From: -1, To: 8}, -1, -1, errcode.InvalidArgument},
		{"backwards", store.SequenceAdvance{SeriesID: "s", From: 5, To: 4}, 5, 5, errcode.InvalidArgument},
	} {
		got, err := tc.a.Next(tc.cur)
		if tc.code == 0 && err != nil || tc.code != 0 && errcode.CodeOf(err) != tc.code {
			t.Errorf("%s: error %v, want code %v", tc.name, err, tc.code)
		}
		var ce *store.ConflictError
		if errors.As(err, &ce) && (ce.Kind != "sequence" || ce.ID != "s") {
			t.Errorf("%s: the ConflictError names %s %q, want sequence \"s\"", tc.name, ce.Kind, ce.ID)
		}
		if got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

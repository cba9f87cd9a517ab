package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// The store contract's rewinds: Bump.Rewind gives a use back and moves the
// last-increment time only from the counter value it expects.

// testContractRewind checks Bump.Rewind: a decrement that also sets the
// last-increment time applies only to the counter value it expects, and a
// refused one writes nothing.
func testContractRewind(t *testing.T, e *env) {
	e.putRawSeries("s1")
	k := key(limits.CustomerSeriesUses, "s1", "", alice)
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	e.apply(&store.Change{Bumps: []store.Bump{{Key: k, Delta: 1, At: t0}}})
	e.apply(&store.Change{Bumps: []store.Bump{{Key: k, Delta: 1, At: t1}}})
	e.apply(&store.Change{Bumps: []store.Bump{{Key: k, Delta: 1, At: t2}}})
	x, xev := rawCoupon("x", "s1", "X")
	for _, tc := range []struct {
		what   string
		expect store.Count
	}{
		{"a rewind expecting another count", store.Count{N: 2, Last: t2}},
		{"a rewind expecting another last time", store.Count{N: 3, Last: t1}},
		{"a rewind expecting a counter never bumped", store.Count{}},
	} {
		err := e.st.Apply(e.ctx, &store.Change{NewCoupons: []coupon.Coupon{x}, Events: []coupon.Event{xev},
			Bumps: []store.Bump{{Key: k, Delta: -1, At: t2, Rewind: &store.Rewind{Expect: tc.expect, Last: t0}}}})
		wantCode(t, err, errcode.Conflict, "%s must fail the change with Conflict", tc.what)
		var ce *store.ConflictError
		if err != nil && !errors.As(err, &ce) {
			t.Errorf("%s: the error must be a *store.ConflictError: %T", tc.what, err)
		}
		if got := e.count(k); got.N != 3 || !got.Last.Equal(t2) {
			t.Errorf("%s: the counter must be unchanged: %+v", tc.what, got)
		}
		if _, err := e.st.Coupon(e.ctx, "x"); !errors.Is(err, errcode.ErrNotFound) {
			t.Errorf("%s: the rest of the change must not be written: %v", tc.what, err)
		}
	}
	ch := &store.Change{NewCoupons: []coupon.Coupon{x}, Events: []coupon.Event{xev},
		Bumps: []store.Bump{{Key: k, Delta: -1, At: t2.Add(time.Hour), Rewind: &store.Rewind{Expect: store.Count{N: 3, Last: t2}, Last: t1}}}}
	if err := e.st.Apply(e.ctx, ch); wantOK(t, err, "a rewind expecting the counter's value") {
		if got := e.count(k); got.N != 2 || !got.Last.Equal(t1) {
			t.Errorf("a rewinding decrement takes one off and sets the last time (2 at %s): %+v", fmtTime(t1), got)
		}
		if a := ch.Bumps[0].After; a.N != 2 || !a.Last.Equal(t1) {
			t.Errorf("Bump.After reports the rewound value: %+v", a)
		}
	}
	// The expected time is an instant, whatever its zone.
	mustOK(t, e.st.Apply(e.ctx, &store.Change{Bumps: []store.Bump{{Key: k, Delta: -1, At: t2,
		Rewind: &store.Rewind{Expect: store.Count{N: 2, Last: t1.In(time.FixedZone("UTC+1", 3600))}, Last: t0}}}}), "a rewind expecting the same instant in another zone")
	mustOK(t, e.st.Apply(e.ctx, &store.Change{Bumps: []store.Bump{{Key: k, Delta: -1, At: t2,
		Rewind: &store.Rewind{Expect: store.Count{N: 1, Last: t0}}}}}), "a rewind to no last use")
	if got := e.count(k); got.N != 0 || !got.Last.IsZero() {
		t.Errorf("a rewind to the zero time leaves no last increment: %+v", got)
	}
	wantGuard := limits.Guard{Counter: limits.CustomerSeriesUses, Limit: limits.NoLimit, MinGap: time.Hour}
	mustOK(t, e.st.Apply(e.ctx, &store.Change{Bumps: []store.Bump{{Key: k, Delta: 1, At: t2, Guard: wantGuard}}}),
		"a guarded bump with a gap after a rewind to no last use")
	testRewindRace(t, e, k)
}

// testRewindRace races rewinds that read one counter value: in each round
// exactly one applies.
func testRewindRace(t *testing.T, e *env, k store.CounterKey) {
	const workers, rounds = 8, 4
	for round := range rounds {
		at := t0.Add(time.Duration(10+round) * time.Hour)
		for range workers {
			e.apply(&store.Change{Bumps: []store.Bump{{Key: k, Delta: 1, At: at}}})
		}
		cur := e.count(k)
		errs := run(workers, func(w int) error {
			return e.st.Apply(e.ctx, &store.Change{Bumps: []store.Bump{{Key: k, Delta: -1, At: at,
				Rewind: &store.Rewind{Expect: cur, Last: at.Add(-time.Duration(w+1) * time.Minute)}}}})
		})
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, errcode.ErrConflict):
				t.Errorf("a racing rewind: unexpected error %v", err)
			}
		}
		if won != 1 {
			t.Errorf("rewinds racing from one counter value: %d applied, want 1", won)
		}
		if got := e.count(k); got.N != cur.N-1 {
			t.Errorf("after racing rewinds the counter is %d, want %d", got.N, cur.N-1)
		}
	}
}

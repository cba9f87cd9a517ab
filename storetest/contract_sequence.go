package storetest

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// The store contract's code sequence: Change.Sequence advances a series'
// next index only from the index it expects, atomically with its change.

// nextIndex reads the next index of a series' code sequence.
func (e *env) nextIndex(seriesID string) int64 {
	e.t.Helper()
	n, err := e.st.NextIndex(e.ctx, seriesID)
	if err != nil {
		e.t.Fatalf("NextIndex(%s): %v", seriesID, err)
	}
	return n
}

// testContractSequence checks Change.Sequence and NextIndex: an advance
// applies only from the stored next index, atomically with the rest of its
// change, and a refused one writes nothing.
func testContractSequence(t *testing.T, e *env) {
	e.putRawSeries("s1", "s2", "s3")
	if n := e.nextIndex("s1"); n != 0 {
		t.Errorf("the sequence of a series never advanced stands at 0: %d", n)
	}
	minted := func(id, code string) (coupon.Coupon, coupon.Event) { return rawCoupon(id, "s1", code) }
	a, aev := minted("a", "A")
	b, bev := minted("b", "B")
	err := e.st.Apply(e.ctx, &store.Change{NewCoupons: []coupon.Coupon{a, b}, Events: []coupon.Event{aev, bev},
		Sequence: &store.SequenceAdvance{SeriesID: "s1", From: 0, To: 2}})
	if wantOK(t, err, "an advance from the stored next index (0) applies") {
		if n := e.nextIndex("s1"); n != 2 {
			t.Errorf("an advance from 0 to 2 leaves the next index at 2: %d", n)
		}
	}
	if n := e.nextIndex("s2"); n != 0 {
		t.Errorf("each series has its own sequence: s2 stands at %d", n)
	}

	k := key(limits.SeriesIssued, "s1", "", "")
	c, cev := minted("c", "C")
	testSequenceRefused(t, e, c, cev, k)

	// A change refused for another reason leaves the sequence alone too.
	err = e.st.Apply(e.ctx, &store.Change{NewCoupons: []coupon.Coupon{c}, Events: []coupon.Event{cev},
		Bumps:    []store.Bump{{Key: k, Delta: -e.count(k).N - 1, At: t0}},
		Sequence: &store.SequenceAdvance{SeriesID: "s1", From: 2, To: 3}})
	wantCode(t, err, errcode.Conflict, "a change whose decrement would go below zero must fail")
	if n := e.nextIndex("s1"); n != 2 {
		t.Errorf("a change refused by its bumps must not advance the sequence: %d, want 2", n)
	}
	err = e.st.Apply(e.ctx, &store.Change{NewCoupons: []coupon.Coupon{a}, Sequence: &store.SequenceAdvance{SeriesID: "s1", From: 2, To: 3}})
	wantCode(t, err, errcode.AlreadyExists, "a change inserting a coupon that exists must fail")
	if n := e.nextIndex("s1"); n != 2 {
		t.Errorf("a change refused by a duplicate coupon must not advance the sequence: %d, want 2", n)
	}

	// An advance alone, one to the same index, one to the end of int64.
	mustOK(t, e.st.Apply(e.ctx, &store.Change{Sequence: &store.SequenceAdvance{SeriesID: "s2", From: 0, To: 0}}), "an advance from 0 to 0")
	if n := e.nextIndex("s2"); n != 0 {
		t.Errorf("an advance from 0 to 0 leaves the index at 0: %d", n)
	}
	mustOK(t, e.st.Apply(e.ctx, &store.Change{Sequence: &store.SequenceAdvance{SeriesID: "s2", From: 0, To: 1 << 62}}), "an advance alone")
	mustOK(t, e.st.Apply(e.ctx, &store.Change{Sequence: &store.SequenceAdvance{SeriesID: "s2", From: 1 << 62, To: 1 << 62}}), "an advance to the same index")
	mustOK(t, e.st.Apply(e.ctx, &store.Change{Sequence: &store.SequenceAdvance{SeriesID: "s2", From: 1 << 62, To: math.MaxInt64}}), "an advance to the largest int64")
	if n := e.nextIndex("s2"); n != math.MaxInt64 {
		t.Errorf("the sequence reaches the largest int64: %d", n)
	}
	mustOK(t, e.st.Apply(e.ctx, &store.Change{NewCoupons: []coupon.Coupon{c}, Events: []coupon.Event{cev},
		Sequence: &store.SequenceAdvance{SeriesID: "s1", From: 2, To: 3}}), "an advance from the stored index, after refused ones")
	if n := e.nextIndex("s1"); n != 3 {
		t.Errorf("the advance applies: %d, want 3", n)
	}
	testSequenceLarge(t, e)
	testSequenceRace(t, e, "s3")
}

// testSequenceRefused checks that advances no stored index passes fail
// their change, which inserts c and bumps k, and write nothing of it; the
// sequence of s1 stands at 2.
func testSequenceRefused(t *testing.T, e *env, c coupon.Coupon, cev coupon.Event, k store.CounterKey) {
	for _, tc := range []struct {
		what string
		seq  store.SequenceAdvance
		code errcode.Code
	}{
		{"an advance from a stale index (0, the sequence is at 2)", store.SequenceAdvance{SeriesID: "s1", From: 0, To: 3}, errcode.Conflict},
		{"an advance from an index the sequence has not reached (3, it is at 2)", store.SequenceAdvance{SeriesID: "s1", From: 3, To: 4}, errcode.Conflict},
		{"an advance from a negative index", store.SequenceAdvance{SeriesID: "s1", From: -1, To: 3}, errcode.InvalidArgument},
		{"an advance backwards", store.SequenceAdvance{SeriesID: "s1", From: 2, To: 1}, errcode.InvalidArgument},
	} {
		err := e.st.Apply(e.ctx, &store.Change{NewCoupons: []coupon.Coupon{c}, Events: []coupon.Event{cev},
			Bumps: []store.Bump{{Key: k, Delta: 1, At: t0}}, Sequence: &tc.seq})
		wantCode(t, err, tc.code, "%s must fail the change", tc.what)
		var ce *store.ConflictError
		if tc.code == errcode.Conflict && err != nil && (!errors.As(err, &ce) || ce.Kind != "sequence" || ce.ID != "s1") {
			t.Errorf("%s: the error must be a *store.ConflictError of Kind \"sequence\" naming the series: %#v", tc.what, err)
		}
		if n := e.nextIndex("s1"); n != 2 {
			t.Errorf("%s: the sequence must not move: %d, want 2", tc.what, n)
		}
		if _, err := e.st.Coupon(e.ctx, "c"); !errors.Is(err, errcode.ErrNotFound) {
			t.Errorf("%s: the coupon of the refused change must not be stored: %v", tc.what, err)
		}
		if got := e.count(k); got.N != 0 {
			t.Errorf("%s: the bump of the refused change must not apply: %+v", tc.what, got)
		}
		if evs := e.events(store.EventQuery{CouponID: "c"}); len(evs) != 0 {
			t.Errorf("%s: the events of the refused change must not be stored: %v", tc.what, evs)
		}
	}
}

// testSequenceLarge checks a large change of new coupons and a sequence
// advance, as Generate applies (a store may write such a change another
// way): applied whole, or, on a stale index or a colliding coupon, not at
// all.
func testSequenceLarge(t *testing.T, e *env) {
	const n = 1500
	e.putRawSeries("big")
	batch := func(prefix string) ([]coupon.Coupon, []coupon.Event) {
		cs := make([]coupon.Coupon, n)
		for i := range cs {
			cs[i], _ = rawCoupon(fmt.Sprintf("%s-%04d", prefix, i), "big", fmt.Sprintf("%s%04d", prefix, i))
		}
		return cs, []coupon.Event{{ID: "ev-" + prefix, Kind: coupon.EventCreated, SeriesID: "big", At: t0, Reason: "a batch"}}
	}
	stored := func() int {
		cs, err := e.st.ListCoupons(e.ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: "big"}})
		mustOK(t, err, "ListCoupons")
		return len(cs)
	}
	cs, evs := batch("A")
	mustOK(t, e.st.Apply(e.ctx, &store.Change{NewCoupons: cs, Events: evs, Sequence: &store.SequenceAdvance{SeriesID: "big", From: 0, To: n}}),
		"a change of %d new coupons advancing the sequence", n)
	if got, next := stored(), e.nextIndex("big"); got != n || next != n {
		t.Errorf("a large change applies whole: %d coupons, sequence at %d, want %d and %d", got, next, n, n)
	}
	cs, evs = batch("B")
	err := e.st.Apply(e.ctx, &store.Change{NewCoupons: cs, Events: evs, Sequence: &store.SequenceAdvance{SeriesID: "big", From: 0, To: n}})
	wantCode(t, err, errcode.Conflict, "a large change from a stale index must fail with Conflict")
	cs[n-1].Code, cs[n-1].Canonical = "A0007", "A0007"
	err = e.st.Apply(e.ctx, &store.Change{NewCoupons: cs, Events: evs, Sequence: &store.SequenceAdvance{SeriesID: "big", From: n, To: 2 * n}})
	wantCode(t, err, errcode.AlreadyExists, "a large change with a coupon whose code is taken must fail with AlreadyExists")
	var ee *store.ExistsError
	if errors.As(err, &ee) && (ee.Kind != "coupon" || !strings.Contains(ee.Key, "A0007")) {
		t.Errorf("the *store.ExistsError names the coupon whose code is taken: %+v", ee)
	}
	if got, next := stored(), e.nextIndex("big"); got != n || next != n {
		t.Errorf("a refused large change writes nothing: %d coupons, sequence at %d, want %d and %d", got, next, n, n)
	}
	if evs := e.events(store.EventQuery{SeriesID: "big"}); len(evs) != 1 {
		t.Errorf("a refused large change appends no event: %d events, want 1", len(evs))
	}
}

// testSequenceRace races advances from one read of the next index: in
// each round exactly one applies and the others conflict, and the sequence
// ends at the sum of the advances that applied.
func testSequenceRace(t *testing.T, e *env, seriesID string) {
	const workers, rounds = 8, 5
	var want int64
	for round := range rounds {
		from := e.nextIndex(seriesID)
		var mu sync.Mutex
		won, lost := 0, 0
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				id := fmt.Sprintf("race-%d-%d", round, w)
				c, ev := rawCoupon(id, seriesID, id)
				err := e.st.Apply(e.ctx, &store.Change{NewCoupons: []coupon.Coupon{c}, Events: []coupon.Event{ev},
					Sequence: &store.SequenceAdvance{SeriesID: seriesID, From: from, To: from + int64(w) + 1}})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
					want += int64(w) + 1
				case errors.Is(err, errcode.ErrConflict):
					lost++
				default:
					t.Errorf("a racing advance: unexpected error %v", err)
				}
			})
		}
		wg.Wait()
		if won != 1 || lost != workers-1 {
			t.Errorf("advances racing from one index: %d applied and %d conflicted, want 1 and %d", won, lost, workers-1)
		}
	}
	if n := e.nextIndex(seriesID); n != want {
		t.Errorf("after racing advances the sequence stands at %d, want the sum of those applied, %d", n, want)
	}
	cs, err := e.st.ListCoupons(e.ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: seriesID}})
	mustOK(t, err, "ListCoupons")
	if len(cs) != rounds {
		t.Errorf("only the coupons of the applied advances are stored: %d, want %d", len(cs), rounds)
	}
}

package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// The store contract's all-or-nothing rule and its guards: a change that
// fails a version, status or counter guard writes nothing of itself, a bump
// passes only its guard's limit and gap, and guarded bumps racing at one
// counter let exactly the limit through.

func testContractAtomicGuard(t *testing.T, e *env) {
	s := rawSeries("s1")
	x := rawIssued("x", "s1", "X", alice)
	full := key(limits.SeriesUses, "s1", "", "")
	e.apply(&store.Change{Series: &store.SeriesWrite{Series: s}, NewCoupons: []coupon.Coupon{x},
		Bumps: []store.Bump{{Key: full, Delta: 1, At: t0}}})
	before := e.events(store.EventQuery{CouponID: "x"})

	s2 := s
	s2.Name, s2.Version = "renamed", 2
	y := rawIssued("y", "s1", "Y", bob)
	x2 := x
	x2.Redemptions, x2.State, x2.Version = 1, coupon.Redeemed, x.Version+1
	r := coupon.Redemption{ID: "r1", CouponID: "x", SeriesID: "s1", Customer: alice, IdempotencyKey: "k1", Status: coupon.StatusRedeemed, At: t0, ConfirmedAt: t0}
	k1, k2 := key(limits.CodeUses, "s1", "X", ""), key(limits.CustomerSeriesUses, "s1", "", alice)
	change := func(limit limits.Limit) *store.Change {
		return &store.Change{
			Series:         &store.SeriesWrite{Series: s2, ExpectVersion: 1},
			NewCoupons:     []coupon.Coupon{y},
			Coupons:        []store.CouponUpdate{{Coupon: x2, ExpectVersion: x.Version}},
			NewRedemptions: []coupon.Redemption{r},
			Bumps: []store.Bump{
				{Key: k1, Delta: 1, At: t0, Guard: limits.Guard{Counter: limits.CodeUses, Limit: 5}},
				{Key: k2, Delta: 1, At: t0, Guard: limits.Guard{Counter: limits.CustomerSeriesUses}},
				{Key: full, Delta: 1, At: t0, Guard: limits.Guard{Counter: limits.SeriesUses, Limit: limit}},
			},
			Events: []coupon.Event{rawEvent("e1", coupon.EventRedeemed, x, alice, t0), rawEvent("e2", coupon.EventIssued, y, bob, t0)},
		}
	}
	err := e.st.Apply(e.ctx, change(1))
	wantCode(t, err, errcode.GuardFailed, "a change whose last bump's guard fails (series uses at 1, limit 1) must fail with GuardFailed")
	var ge *store.GuardError
	if errors.As(err, &ge) {
		if ge.Key != full || ge.Count.N != 1 || ge.Guard.Limit != 1 {
			t.Errorf("the *store.GuardError names the failing counter, its guard and the value it saw: %+v", ge)
		}
	} else if err != nil {
		t.Errorf("a failed guard must be a *store.GuardError: %T", err)
	}
	e.wantRefusedInvisible(t, s, x, [3]store.CounterKey{k1, k2, full}, before)

	ch := change(2)
	if err := e.st.Apply(e.ctx, ch); !wantOK(t, err, "the same change with a guard that passes") {
		return
	}
	if ch.Bumps[2].After.N != 2 || !ch.Bumps[2].After.Last.Equal(t0) || ch.Bumps[0].After.N != 1 {
		t.Errorf("a successful Apply sets each bump's After to the counter's value after it: %+v", ch.Bumps)
	}
	same(t, e.stored("x"), x2, "the successful change updated the coupon")
	same(t, e.stored("y"), y, "the successful change inserted the coupon")
	same(t, e.storedRedemption("r1"), r, "the successful change inserted the redemption")
	if c1, c2, c3 := e.count(k1), e.count(k2), e.count(full); c1.N != 1 || c2.N != 1 || c3.N != 2 || !c2.Last.Equal(t0) {
		t.Errorf("the successful change bumped every counter: %v %v %v", c1, c2, c3)
	}
	if evs := e.events(store.EventQuery{CouponID: "x"}); len(evs) != len(before)+1 {
		t.Errorf("the successful change appended its event: %d", len(evs))
	}
	gs, _ := e.st.Series(e.ctx, "s1")
	if gs.Name != "renamed" || gs.Version != 2 {
		t.Errorf("the successful change updated the series to version ExpectVersion+1: %q v%d", gs.Name, gs.Version)
	}
}

// wantRefusedInvisible checks that the change testContractAtomicGuard's
// guard refused left nothing visible: series s and coupon x as they were,
// neither its coupon y nor its redemption r1 (nor r1's key), counters k1,
// k2 and full at 0, 0 and 1, and no event past before.
func (e *env) wantRefusedInvisible(t *testing.T, s series.Series, x coupon.Coupon, keys [3]store.CounterKey, before []coupon.Event) {
	t.Helper()
	k1, k2, full := keys[0], keys[1], keys[2]
	// Nothing of the change is visible.
	gs, err := e.st.Series(e.ctx, "s1")
	mustOK(t, err, "Series")
	if gs.Name != s.Name || gs.Version != 1 {
		t.Errorf("a failed change must not write its series update: %q v%d", gs.Name, gs.Version)
	}
	_, err = e.st.Coupon(e.ctx, "y")
	wantCode(t, err, errcode.NotFound, "a failed change must not insert its new coupon")
	if got, _ := e.st.CouponsByCode(e.ctx, "s1", "Y"); len(got) != 0 {
		t.Errorf("a failed change's coupon must not be found by code")
	}
	same(t, e.stored("x"), x, "a failed change must not update its coupon")
	_, err = e.st.Redemption(e.ctx, "r1")
	wantCode(t, err, errcode.NotFound, "a failed change must not insert its redemption")
	_, err = e.st.RedemptionByKey(e.ctx, "x", "k1")
	wantCode(t, err, errcode.NotFound, "a failed change must not take its idempotency key")
	if c1, c2, c3 := e.count(k1), e.count(k2), e.count(full); c1.N != 0 || c2.N != 0 || c3.N != 1 {
		t.Errorf("a failed change must not keep the bumps before the failing one: %d, %d, %d, want 0, 0, 1", c1.N, c2.N, c3.N)
	}
	same(t, e.events(store.EventQuery{CouponID: "x"}), before, "a failed change must not append its events")
	if evs := e.events(store.EventQuery{Customer: bob}); len(evs) != 0 {
		t.Errorf("a failed change must not append its events: %d for bob", len(evs))
	}
}

// wantUnchanged checks that a failed change left coupon x, counter k and
// x's events as they were.
func (e *env) wantUnchanged(t *testing.T, x coupon.Coupon, k store.CounterKey, n int64, evs int, what string) {
	t.Helper()
	same(t, e.stored(x.ID), x, "%s: the coupon must be unchanged", what)
	if c := e.count(k); c.N != n {
		t.Errorf("%s: the counter must be unchanged: %d, want %d", what, c.N, n)
	}
	if got := len(e.events(store.EventQuery{CouponID: x.ID})); got != evs {
		t.Errorf("%s: no event may be appended: %d, want %d", what, got, evs)
	}
}

func testContractConflicts(t *testing.T, e *env) {
	e.putRawSeries("s2")
	x := rawIssued("x", "s1", "X", alice)
	r := coupon.Redemption{ID: "r1", CouponID: "x", SeriesID: "s1", Customer: alice, IdempotencyKey: "k", Status: coupon.StatusHeld, At: t0, HoldExpiresAt: t0.Add(time.Hour)}
	k := key(limits.SeriesUses, "s1", "", "")
	e.apply(&store.Change{Series: &store.SeriesWrite{Series: rawSeries("s1")}, NewCoupons: []coupon.Coupon{x}, NewRedemptions: []coupon.Redemption{r},
		Bumps: []store.Bump{{Key: k, Delta: 1, At: t0}}})
	ev := rawEvent("e-bad", coupon.EventRevoked, x, alice, t0)
	stale := x
	stale.State, stale.Version = coupon.Revoked, 5
	bump := store.Bump{Key: k, Delta: 1, At: t0}

	for _, tc := range []struct {
		what string
		ch   store.Change
	}{
		{"a coupon update expecting a version the coupon does not have", store.Change{
			Coupons: []store.CouponUpdate{{Coupon: stale, ExpectVersion: 4}}, Bumps: []store.Bump{bump}, Events: []coupon.Event{ev}}},
		{"an update of a coupon that does not exist", store.Change{
			Coupons: []store.CouponUpdate{{Coupon: rawIssued("ghost", "s1", "G", alice), ExpectVersion: 2}}, Bumps: []store.Bump{bump}, Events: []coupon.Event{ev}}},
		{"a redemption update expecting a status it does not have", store.Change{
			Redemptions: []store.RedemptionUpdate{{Redemption: r, ExpectStatus: coupon.StatusRedeemed}}, Bumps: []store.Bump{bump}, Events: []coupon.Event{ev}}},
		{"a decrement below zero", store.Change{
			Bumps: []store.Bump{bump, {Key: key(limits.CodeUses, "s1", "X", ""), Delta: -1, At: t0}}, Events: []coupon.Event{ev}}},
		{"a series update expecting a stale version", store.Change{
			Series: &store.SeriesWrite{Series: rawSeries("s1"), ExpectVersion: 7}, Bumps: []store.Bump{bump}, Events: []coupon.Event{ev}}},
		{"an update of a series that does not exist", store.Change{
			Series: &store.SeriesWrite{Series: rawSeries("s-none"), ExpectVersion: 1}, Bumps: []store.Bump{bump}, Events: []coupon.Event{ev}}},
	} {
		err := e.st.Apply(e.ctx, &tc.ch)
		wantCode(t, err, errcode.Conflict, "%s must fail the change with Conflict", tc.what)
		var ce *store.ConflictError
		if err != nil && !errors.As(err, &ce) {
			t.Errorf("%s: the error must be a *store.ConflictError: %T", tc.what, err)
		}
		e.wantUnchanged(t, x, k, 1, 0, tc.what)
	}
	if got := e.storedRedemption("r1"); got.Status != coupon.StatusHeld {
		t.Errorf("the redemption must be unchanged: %s", got.Status)
	}
	// Expectations that hold apply.
	x2 := x
	x2.Holds, x2.Version = 0, 3
	r2 := r
	r2.Status, r2.ReleasedAt = coupon.StatusReleased, t0
	if err := e.st.Apply(e.ctx, &store.Change{Coupons: []store.CouponUpdate{{Coupon: x2, ExpectVersion: 2}},
		Redemptions: []store.RedemptionUpdate{{Redemption: r2, ExpectStatus: coupon.StatusHeld}},
		Bumps:       []store.Bump{{Key: k, Delta: -1, At: t0.Add(time.Hour)}}}); wantOK(t, err, "a change whose expectations hold") {
		if c := e.count(k); c.N != 0 || !c.Last.Equal(t0) {
			t.Errorf("a decrement keeps the counter's last-increment time: %+v", c)
		}
		same(t, e.storedRedemption("r1"), r2, "the redemption update applied")
	}
}

func testContractGuards(t *testing.T, e *env) {
	e.putRawSeries("s1")
	k := key(limits.CustomerIssued, "s1", "", alice)
	g := limits.Guard{Counter: limits.CustomerIssued, Limit: 2, MinGap: time.Hour}
	try := func(at time.Time) error {
		return e.st.Apply(e.ctx, &store.Change{Bumps: []store.Bump{{Key: k, Delta: 1, Guard: g, At: at}}})
	}
	if c := e.count(k); c != (store.Count{}) {
		t.Errorf("a counter never bumped reads as zero: %+v", c)
	}
	wantOK(t, try(t0), "the first bump of a counter passes its gap (never bumped)")
	err := try(t0.Add(59 * time.Minute))
	wantCode(t, err, errcode.GuardFailed, "a bump 59 minutes after the last fails a 1-hour gap guard")
	wantOK(t, try(t0.Add(time.Hour)), "a bump exactly one hour after the last passes a 1-hour gap guard")
	if c := e.count(k); c.N != 2 || !c.Last.Equal(t0.Add(time.Hour)) {
		t.Errorf("a counter keeps its value and last-increment time: %+v", c)
	}
	err = try(t0.Add(5 * time.Hour))
	wantCode(t, err, errcode.GuardFailed, "a bump of a counter at its limit of 2 fails")
	unl := key(limits.SeriesIssued, "s1", "", "")
	for i := range 5 {
		err := e.st.Apply(e.ctx, &store.Change{Bumps: []store.Bump{{Key: unl, Delta: 1, At: t0, Guard: limits.Guard{Counter: limits.SeriesIssued}}}})
		wantOK(t, err, "a guard with no limit and no gap always passes (bump %d)", i+1)
	}
	if c := e.count(unl); c.N != 5 {
		t.Errorf("five bumps: %d", c.N)
	}
	multi := e.st.Apply(e.ctx, &store.Change{Bumps: []store.Bump{{Key: unl, Delta: 3, At: t0}}})
	if wantOK(t, multi, "a bump of 3") && e.count(unl).N != 8 {
		t.Errorf("a bump adds its Delta: %d", e.count(unl).N)
	}
	keys := []store.CounterKey{unl, k, key(limits.CodeUses, "s9", "Z", "")}
	out := make([]store.Count, 3)
	mustOK(t, e.st.Counters(e.ctx, keys, out), "Counters")
	if out[0].N != 8 || out[1].N != 2 || out[2] != (store.Count{}) {
		t.Errorf("Counters reads several counters in order, zero for the unknown one: %+v", out)
	}
}

// testContractConcurrentBumps races guarded bumps of one counter: exactly
// the limit pass, and each passing change's After is the counter as its
// own bump left it.
func testContractConcurrentBumps(t *testing.T, e *env) {
	e.putRawSeries("s1")
	x := rawIssued("x", "s1", "X", alice)
	e.apply(&store.Change{NewCoupons: []coupon.Coupon{x}})
	k := key(limits.SeriesUses, "s1", "", "")
	const workers, limit = 32, 10
	var mu sync.Mutex
	var afters []int64
	refused := 0
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			ch := &store.Change{
				Bumps:  []store.Bump{{Key: k, Delta: 1, At: t0, Guard: limits.Guard{Counter: limits.SeriesUses, Limit: limit}}},
				Events: []coupon.Event{rawEvent(fmt.Sprintf("e%02d", i), coupon.EventRedeemed, x, alice, t0)},
			}
			err := e.st.Apply(e.ctx, ch)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				afters = append(afters, ch.Bumps[0].After.N)
			case errors.Is(err, errcode.ErrGuardFailed):
				refused++
			default:
				t.Errorf("a bump refused by its guard must fail with GuardFailed: %v", err)
			}
		})
	}
	wg.Wait()
	slices.Sort(afters)
	if want := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !slices.Equal(afters, want) || refused != workers-limit {
		t.Errorf("%d concurrent guarded bumps with limit %d: %d refused and the passing ones' After %v; want %d refused and After 1 to %d, one each",
			workers, limit, refused, afters, workers-limit, limit)
	}
	if c := e.count(k); c.N != limit {
		t.Errorf("the counter is %d after the race, want %d", c.N, limit)
	}
	if n := len(e.events(store.EventQuery{CouponID: "x"})); n != limit {
		t.Errorf("only the changes whose guard passed keep their events: %d, want %d", n, limit)
	}
}

// raceStoreGuard races guarded bumps of one counter straight at the store.
func raceStoreGuard(t *testing.T, e *env, p, round int) {
	id := raceName("guard", round)
	e.putRawSeries(id)
	c := rawIssued(id+"-c", id, "G", "g")
	e.apply(&store.Change{NewCoupons: []coupon.Coupon{c}})
	k := key(limits.SeriesUses, id, "", "")
	const limit = 7
	errs := run(p, func(i int) error {
		ev := rawEvent(fmt.Sprintf("%s-e%d", id, i), coupon.EventRedeemed, c, "g", t0)
		return e.st.Apply(e.ctx, &store.Change{
			Bumps:  []store.Bump{{Key: k, Delta: 1, At: t0, Guard: limits.Guard{Counter: limits.SeriesUses, Limit: limit}}},
			Events: []coupon.Event{ev},
		})
	})
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, errcode.ErrGuardFailed):
			t.Errorf("a bump refused by its guard must fail with GuardFailed: %v", err)
		}
	}
	if ok != limit {
		t.Errorf("%d concurrent guarded bumps of a counter with limit %d: %d succeeded", p, limit, ok)
	}
	if c := e.count(k); c.N != limit {
		t.Errorf("the counter is %d after the race, want %d", c.N, limit)
	}
	if n := len(e.events(store.EventQuery{CouponID: c.ID})); n != limit {
		t.Errorf("only the changes whose guard passed keep their events: %d, want %d", n, limit)
	}
}

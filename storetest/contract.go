package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// The store-contract tests drive a store directly, without the engine, for
// what the engine cannot show: that Apply writes all or nothing, that its
// guards and unique keys hold, and that the bulk methods are idempotent.
var contractTests = []test{
	{"RecordsRoundTrip", testContractRoundTrip},
	{"ApplyAtomicOnGuard", testContractAtomicGuard},
	{"ApplyConflicts", testContractConflicts},
	{"ApplyUniqueKeys", testContractUnique},
	{"ApplyWritesEachRecordOnce", testContractWrittenTwice},
	{"ApplyRefusesRecordsWrittenTwice", testPropertyWrittenTwice},
	{"IssueKeys", testContractIssueKeys},
	{"ApplyGuards", testContractGuards},
	{"ApplyBumpsByTheRule", testPropertyBumps},
	{"InsertCouponsIdempotent", testContractInsert},
	{"UpdateWhereLimit", testContractUpdateWhere},
	{"NotFoundAndEmpty", testContractNotFound},
	{"ReadsReturnCopies", testContractCopies},
	{"ListCoupons", testContractListCoupons},
	{"QueriesMatchTheirRule", testPropertyQueriesMatch},
	{"ListRedemptions", testContractListRedemptions},
	{"Events", testContractEvents},
	{"Sequence", testContractSequence},
	{"Rewind", testContractRewind},
	{"RedemptionsByCustomer", testContractRedemptionsByCustomer},
	{"AppendCouponsByCode", testContractAppendByCode},
	{"ListSeries", testContractListSeries},
	{"SeriesVersion", testContractSeriesVersion},
	{"Audience", testContractAudience},
	{"AudienceApply", testContractAudienceApply},
	{"AudienceApplyRefusals", testContractAudienceRefusals},
	{"AudienceApplyManyRows", testContractAudienceMany},
	{"AudienceList", testContractAudienceList},
	{"ConcurrentGuardedBumps", testContractConcurrentBumps},
	{"ContextDone", testContractCancelled},
}

// rawSeries is a valid series with a fixed id, for the contract tests.
func rawSeries(id string) series.Series {
	s := baseSeries("raw "+id, uploadSrc())
	s.ID, s.Status, s.Version, s.CreatedAt, s.UpdatedAt = id, series.Active, 1, t0, t0
	return s
}

// rawCoupon returns an Available coupon (version 1) and its Created event.
func rawCoupon(id, seriesID, code string) (coupon.Coupon, coupon.Event) {
	c, ev, err := coupon.New(coupon.NewParams{ID: id, SeriesID: seriesID, Code: code, Canonical: code, Actor: "test"}, t0)
	if err != nil {
		panic(err)
	}
	ev.ID = "ev-created-" + id
	return c, ev
}

// rawIssued returns an Issued coupon (version 2) held by holder.
func rawIssued(id, seriesID, code, holder string) coupon.Coupon {
	c, _ := rawCoupon(id, seriesID, code)
	out, _, err := coupon.Issue(c, holder, t0, time.Time{}, "test")
	if err != nil {
		panic(err)
	}
	return out
}

func rawEvent(id string, kind coupon.EventKind, c coupon.Coupon, customer string, at time.Time) coupon.Event {
	return coupon.Event{ID: id, Kind: kind, CouponID: c.ID, SeriesID: c.SeriesID, Code: c.Code, Customer: customer, At: at}
}

func key(c limits.Counter, seriesID, code, customer string) store.CounterKey {
	return store.CounterKey{Counter: c, Series: seriesID, Code: code, Customer: customer}
}

// seedSeries stores raw series with the given ids, so that a store with
// foreign keys accepts records that refer to them.
func (e *env) seedSeries(ids ...string) {
	e.t.Helper()
	for _, id := range ids {
		e.apply(&store.Change{Series: &store.SeriesWrite{Series: rawSeries(id)}})
	}
}

func (e *env) apply(c *store.Change) {
	e.t.Helper()
	if err := e.st.Apply(e.ctx, c); err != nil {
		e.t.Fatalf("setup: Apply: %v", err)
	}
}

func (e *env) count(k store.CounterKey) store.Count {
	e.t.Helper()
	out := make([]store.Count, 1)
	if err := e.st.Counters(e.ctx, []store.CounterKey{k}, out); err != nil {
		e.t.Fatalf("Counters: %v", err)
	}
	return out[0]
}

func (e *env) events(q store.EventQuery) []coupon.Event {
	e.t.Helper()
	evs, err := e.st.Events(e.ctx, q)
	if err != nil {
		e.t.Fatalf("Events: %v", err)
	}
	return evs
}

func testContractRoundTrip(t *testing.T, e *env) {
	s := fullSeries()
	s.ID, s.Status, s.Version, s.CreatedAt, s.UpdatedAt = "full", series.Paused, 1, t0, t0
	c := coupon.Coupon{
		ID: "c-full", SeriesID: "full", Code: "x-AbC123-y", Canonical: "X-ABC123-Y", Shared: false, State: coupon.Issued, Holder: alice,
		CreatedAt: t0.Add(-time.Hour), IssuedAt: t0, ExpiresAt: t0.Add(72 * time.Hour), Redemptions: 2, Holds: 1, Reversed: true,
		LastStatusChange: t0.Add(time.Minute), ReissuedFrom: "c-old", Version: 7, IssueKey: "crm-message-1",
	}
	old := coupon.Coupon{ID: "c-old", SeriesID: "full", Code: "OLD", Canonical: "OLD", State: coupon.Expired, CreatedAt: t0,
		ExpiresAt: t0, LastStatusChange: t0, ReissuedTo: "c-full", Version: 3}
	shared := coupon.Coupon{ID: "c-shared", SeriesID: "full", Code: "Common", Canonical: "COMMON", Shared: true, State: coupon.Issued,
		Holder: bob, CreatedAt: t0, IssuedAt: t0, LastStatusChange: t0, Version: 2}
	r := coupon.Redemption{ID: "r-full", CouponID: "c-full", SeriesID: "full", Customer: bob, IdempotencyKey: "pos-1", Status: coupon.StatusReversed,
		At: t0, HoldExpiresAt: t0.Add(15 * time.Minute), ConfirmedAt: t0.Add(time.Minute),
		ReversedAt: t0.Add(3 * time.Minute), Location: coupon.Location{Till: "t", Store: "s", Zone: "z", Concept: "c"},
		Bill: dec("123.456"), Discount: dec("0.10"), Currency: "USD"}
	released := coupon.Redemption{ID: "r-rel", CouponID: "c-full", SeriesID: "full", Customer: alice, IdempotencyKey: "pos-2", Status: coupon.StatusReleased,
		At: t0, HoldExpiresAt: t0.Add(15 * time.Minute), ReleasedAt: t0.Add(2 * time.Minute), Bill: dec("0"), Discount: dec("0"), Currency: "EUR"}
	ev := coupon.Event{ID: "e-full", Kind: coupon.EventReissued, CouponID: "c-old", SeriesID: "full", Code: "OLD", Customer: alice,
		Actor: "support", At: t0, Reason: "lost", Counterparty: bob, RedemptionID: "r-full", OldCode: "OLD", NewCode: "x-AbC123-y",
		NewCouponID: "c-full", Notify: true}
	e.apply(&store.Change{Series: &store.SeriesWrite{Series: s}, NewCoupons: []coupon.Coupon{c, old, shared},
		NewRedemptions: []coupon.Redemption{r, released}, Events: []coupon.Event{ev}})

	gs, err := e.st.Series(e.ctx, "full")
	mustOK(t, err, "Series")
	same(t, gs, s, "a stored series reads back with every field")
	for _, want := range []coupon.Coupon{c, old, shared} {
		got, err := e.st.Coupon(e.ctx, want.ID)
		mustOK(t, err, "Coupon")
		same(t, got, want, "a stored coupon reads back with every field (%s)", want.ID)
	}
	gr, err := e.st.Redemption(e.ctx, "r-full")
	mustOK(t, err, "Redemption")
	same(t, gr, r, "a stored redemption reads back with every field, decimals and location included")
	gr, err = e.st.Redemption(e.ctx, "r-rel")
	mustOK(t, err, "Redemption")
	same(t, gr, released, "a stored released hold reads back with every field")
	evs := e.events(store.EventQuery{CouponID: "c-old"})
	same(t, evs, []coupon.Event{ev}, "a stored event reads back with every field")
	byCode, err := e.st.CouponsByCode(e.ctx, "", "X-ABC123-Y")
	mustOK(t, err, "CouponsByCode")
	same(t, byCode, []coupon.Coupon{c}, "coupons are found by canonical code")
	none, err := e.st.CouponsByCode(e.ctx, "", "x-AbC123-y")
	mustOK(t, err, "CouponsByCode")
	if len(none) != 0 {
		t.Errorf("a store never case-folds: the code as created is not the canonical code: %d found", len(none))
	}
}

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
	gs, _ = e.st.Series(e.ctx, "s1")
	if gs.Name != "renamed" || gs.Version != 2 {
		t.Errorf("the successful change updated the series to version ExpectVersion+1: %q v%d", gs.Name, gs.Version)
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
	e.seedSeries("s2")
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

func testContractUnique(t *testing.T, e *env) {
	e.seedSeries("s1", "s2")
	x := rawIssued("x", "s1", "X", alice)
	e.apply(&store.Change{NewCoupons: []coupon.Coupon{x}})
	sh := func(id, holder string) coupon.Coupon {
		c := rawIssued(id, "s1", "SHARED", holder)
		c.Shared = true
		return c
	}
	e.apply(&store.Change{NewCoupons: []coupon.Coupon{sh("sa", alice), sh("sb", bob)}})
	r := coupon.Redemption{ID: "r1", CouponID: "x", SeriesID: "s1", Customer: alice, IdempotencyKey: "k", Status: coupon.StatusRedeemed, At: t0}
	e.apply(&store.Change{NewRedemptions: []coupon.Redemption{r}})

	k := key(limits.SeriesIssued, "s1", "", "")
	bump := []store.Bump{{Key: k, Delta: 1, At: t0}}
	dupKey := rawIssued("x2", "s1", "X", bob)
	movedSA := sh("sa", bob)
	movedSA.Version = 3
	for _, tc := range []struct {
		what, kind string
		ch         store.Change
	}{
		{"a series insert with an existing id", "series", store.Change{Series: &store.SeriesWrite{Series: rawSeries("s1")}}},
		{"a coupon insert with an existing id", "coupon", store.Change{NewCoupons: []coupon.Coupon{rawIssued("x", "s1", "OTHER", bob)}}},
		{"a coupon insert with the (series, canonical code) of another unshared coupon", "coupon", store.Change{NewCoupons: []coupon.Coupon{dupKey}}},
		{"a shared coupon insert for a holder who has the code already", "coupon", store.Change{NewCoupons: []coupon.Coupon{sh("sa2", alice)}}},
		{"two inserts with one key in one change", "coupon", store.Change{NewCoupons: []coupon.Coupon{rawIssued("n1", "s1", "N", alice), rawIssued("n2", "s1", "N", bob)}}},
		{"a shared coupon moved to a holder who has the code already", "coupon", store.Change{Coupons: []store.CouponUpdate{{Coupon: movedSA, ExpectVersion: 2}}}},
		{"a redemption insert with an existing id", "redemption", store.Change{NewRedemptions: []coupon.Redemption{{ID: "r1", CouponID: "x", SeriesID: "s1", IdempotencyKey: "other", Status: coupon.StatusRedeemed, At: t0}}}},
		{"a redemption insert with the (coupon, idempotency key) of another", "redemption", store.Change{NewRedemptions: []coupon.Redemption{{ID: "r2", CouponID: "x", SeriesID: "s1", IdempotencyKey: "k", Status: coupon.StatusRedeemed, At: t0}}}},
		{"two redemption inserts with one (coupon, idempotency key) in one change", "redemption", store.Change{NewRedemptions: []coupon.Redemption{
			{ID: "r4", CouponID: "x", SeriesID: "s1", IdempotencyKey: "k2", Status: coupon.StatusRedeemed, At: t0},
			{ID: "r5", CouponID: "x", SeriesID: "s1", IdempotencyKey: "k2", Status: coupon.StatusRedeemed, At: t0}}}},
	} {
		tc.ch.Bumps = bump
		err := e.st.Apply(e.ctx, &tc.ch)
		wantCode(t, err, errcode.AlreadyExists, "%s must fail the change with AlreadyExists", tc.what)
		var ex *store.ExistsError
		if err != nil && !errors.As(err, &ex) {
			t.Errorf("%s: the error must be a *store.ExistsError: %T", tc.what, err)
		} else if ex != nil && ex.Kind != tc.kind {
			t.Errorf("%s: the *store.ExistsError names the kind of record that collides: %q, want %q", tc.what, ex.Kind, tc.kind)
		}
		if c := e.count(k); c.N != 0 {
			t.Errorf("%s: the failed change must not bump its counter", tc.what)
		}
	}
	if got, _ := e.st.CouponsByCode(e.ctx, "s1", "N"); len(got) != 0 {
		t.Errorf("a change with two inserts of one key inserts neither: %d", len(got))
	}
	for _, id := range []string{"r4", "r5"} {
		_, err := e.st.Redemption(e.ctx, id)
		wantCode(t, err, errcode.NotFound, "a change with two redemption inserts of one key inserts neither (%s)", id)
	}
	// Keys that do not collide.
	other := rawIssued("y", "s2", "X", bob) // same code, other series
	moved := sh("sb", carol)
	moved.Version = 3
	err := e.st.Apply(e.ctx, &store.Change{NewCoupons: []coupon.Coupon{other, sh("sc", carol+"x")},
		Coupons:        []store.CouponUpdate{{Coupon: moved, ExpectVersion: 2}},
		NewRedemptions: []coupon.Redemption{{ID: "r3", CouponID: "y", SeriesID: "s2", IdempotencyKey: "k", Status: coupon.StatusRedeemed, At: t0}}})
	if !wantOK(t, err, "the same code in another series, a shared code for a new holder, a shared coupon moved to a free holder and an idempotency key reused on another coupon do not collide") {
		return
	}
	byCode, err := e.st.CouponsByCode(e.ctx, "", "X")
	if wantOK(t, err, "CouponsByCode in every series") && (len(byCode) != 2 || byCode[0].ID != "x" || byCode[1].ID != "y") {
		t.Errorf("CouponsByCode with no series returns the code's coupons of every series, ordered by id: %+v", byCode)
	}
	mine, err := e.st.ListCoupons(e.ctx, store.CouponQuery{CouponFilter: store.CouponFilter{Holder: carol}})
	if wantOK(t, err, "ListCoupons") && (len(mine) != 1 || mine[0].ID != "sb") {
		t.Errorf("a coupon moved to a new holder is listed under the new holder: %+v", mine)
	}
	mine, err = e.st.ListCoupons(e.ctx, store.CouponQuery{CouponFilter: store.CouponFilter{Holder: bob, SeriesID: "s1"}})
	if wantOK(t, err, "ListCoupons") && len(mine) != 0 {
		t.Errorf("a coupon moved away from a holder is no longer listed under the old holder: %+v", mine)
	}
	// The slot a moved shared coupon leaves is free again.
	wantOK(t, e.st.Apply(e.ctx, &store.Change{NewCoupons: []coupon.Coupon{sh("sd", bob)}}),
		"a shared coupon moved away from bob frees bob's slot: a new shared coupon for bob must insert")
	shared, err := e.st.CouponsByCode(e.ctx, "s1", "SHARED")
	if wantOK(t, err, "CouponsByCode") {
		holders := map[string]string{}
		for _, c := range shared {
			holders[c.ID] = c.Holder
		}
		same(t, holders, map[string]string{"sa": alice, "sb": carol, "sc": carol + "x", "sd": bob},
			"the coupons of a shared code, each under the holder its last write gave it")
	}
}

func testContractGuards(t *testing.T, e *env) {
	e.seedSeries("s1")
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

func testContractInsert(t *testing.T, e *env) {
	e.seedSeries("s1")
	var cs []coupon.Coupon
	var evs []coupon.Event
	for i := range 3 {
		c, ev := rawCoupon(fmt.Sprintf("c%d", i), "s1", fmt.Sprintf("CODE-%d", i))
		cs, evs = append(cs, c), append(evs, ev)
	}
	n, err := e.st.InsertCoupons(e.ctx, cs, evs)
	if wantOK(t, err, "InsertCoupons") && n != 3 {
		t.Errorf("a batch of 3 new coupons inserts 3: %d", n)
	}
	n, err = e.st.InsertCoupons(e.ctx, cs, evs)
	if wantOK(t, err, "InsertCoupons again") && n != 0 {
		t.Errorf("running InsertCoupons twice with the same batch inserts nothing the second time: %d", n)
	}
	for _, c := range cs {
		if got := e.events(store.EventQuery{CouponID: c.ID}); len(got) != 1 {
			t.Errorf("a skipped coupon's events are skipped: %s has %d events", c.ID, len(got))
		}
	}
	// A batch mixing a taken key (new id, same code) and a new coupon.
	dup, dupEv := rawCoupon("c-dup", "s1", "CODE-1")
	fresh, freshEv := rawCoupon("c-new", "s1", "CODE-9")
	iss := rawIssued("c-iss", "s1", "CODE-10", bob)
	issEv := rawEvent("ev-iss", coupon.EventIssued, iss, bob, t0)
	n, err = e.st.InsertCoupons(e.ctx, []coupon.Coupon{dup, fresh, iss}, []coupon.Event{dupEv, freshEv, issEv})
	if wantOK(t, err, "InsertCoupons mixed") && n != 2 {
		t.Errorf("a coupon whose (series, code) is taken is skipped, the others inserted: %d", n)
	}
	_, err = e.st.Coupon(e.ctx, "c-dup")
	wantCode(t, err, errcode.NotFound, "the skipped coupon is not stored")
	if got := e.events(store.EventQuery{CouponID: "c-dup"}); len(got) != 0 {
		t.Errorf("the skipped coupon's event is not stored")
	}
	mine, err := e.st.ListCoupons(e.ctx, store.CouponQuery{CouponFilter: store.CouponFilter{Holder: bob}})
	mustOK(t, err, "ListCoupons")
	same(t, mine, []coupon.Coupon{iss}, "an Issued coupon inserted in bulk (upload with customers) is found by holder")
	all := e.seriesCoupons("s1")
	if len(all) != 5 {
		t.Errorf("5 coupons in all: %d", len(all))
	}
	n, err = e.st.InsertCoupons(e.ctx, nil, nil)
	if wantOK(t, err, "an empty batch") && n != 0 {
		t.Errorf("an empty batch inserts nothing")
	}
}

func testContractUpdateWhere(t *testing.T, e *env) {
	e.seedSeries("s1", "s2")
	var cs []coupon.Coupon
	for i := range 5 {
		c, _ := rawCoupon(fmt.Sprintf("a%d", i), "s1", fmt.Sprintf("A-%d", i))
		cs = append(cs, c)
	}
	iss := rawIssued("i1", "s1", "I-1", alice)
	used := rawIssued("i2", "s1", "I-2", alice)
	used.Redemptions = 1
	other, _ := rawCoupon("o1", "s2", "O-1")
	_, err := e.st.InsertCoupons(e.ctx, append(cs, iss, used, other), nil)
	mustOK(t, err, "InsertCoupons")
	at := t0.Add(time.Hour)
	u := store.BulkUpdate{To: coupon.Revoked, At: at, Limit: 2,
		Event:         coupon.Event{Kind: coupon.EventRevoked, Actor: "ops", Reason: "bulk", At: at},
		EventIDPrefix: "bulk-"}
	f := store.CouponFilter{SeriesID: "s1", States: []coupon.State{coupon.Available}}
	var got []coupon.Coupon
	for round := 0; ; round++ {
		out, err := e.st.UpdateWhere(e.ctx, f, u)
		if !wantOK(t, err, "UpdateWhere") {
			return
		}
		if len(out) > 2 {
			t.Fatalf("UpdateWhere moves at most Limit (2) coupons per call: %d", len(out))
		}
		if !slices.IsSortedFunc(out, func(a, b coupon.Coupon) int { return compareStrings(a.ID, b.ID) }) {
			t.Errorf("UpdateWhere returns the coupons ordered by id")
		}
		got = append(got, out...)
		if len(out) < 2 || round > 5 {
			break
		}
	}
	if len(got) != 5 {
		t.Fatalf("calling UpdateWhere until it returns fewer than Limit moves all 5 matching coupons: %d", len(got))
	}
	for _, c := range got {
		if c.State != coupon.Revoked || c.Version != 2 || !c.LastStatusChange.Equal(at) {
			t.Errorf("each moved coupon is in the new state with version+1 and LastStatusChange at: %+v", c)
		}
		same(t, e.stored(c.ID), c, "UpdateWhere returns the coupon as stored")
		evs := e.events(store.EventQuery{CouponID: c.ID})
		want := coupon.Event{ID: "bulk-" + c.ID, Kind: coupon.EventRevoked, CouponID: c.ID, SeriesID: "s1", Code: c.Code, Actor: "ops", Reason: "bulk", At: at}
		same(t, evs, []coupon.Event{want}, "UpdateWhere appends one event per coupon from the template, id prefix+coupon id")
	}
	for _, id := range []string{"i1", "i2", "o1"} {
		if c := e.stored(id); c.State == coupon.Revoked {
			t.Errorf("a coupon outside the filter must not move: %s", id)
		}
	}
	// Holder, Unused and IDs filters, Limit 0 for no limit.
	out, err := e.st.UpdateWhere(e.ctx, store.CouponFilter{Holder: alice, Unused: true, States: []coupon.State{coupon.Issued}},
		store.BulkUpdate{To: coupon.Revoked, At: at, Event: coupon.Event{Kind: coupon.EventRevoked, At: at}, EventIDPrefix: "h-"})
	if wantOK(t, err, "UpdateWhere by holder, unused") && (len(out) != 1 || out[0].ID != "i1" || out[0].Holder != alice) {
		t.Errorf("the holder and unused filters keep i1 only (i2 has a redemption): %+v", out)
	}
	if evs := e.events(store.EventQuery{CouponID: "i1"}); len(evs) != 1 || evs[0].Customer != alice {
		t.Errorf("the bulk event is for the coupon's holder: %+v", evs)
	}
	out, err = e.st.UpdateWhere(e.ctx, store.CouponFilter{IDs: []string{"o1", "nope"}},
		store.BulkUpdate{To: coupon.Expired, At: at, Event: coupon.Event{Kind: coupon.EventExpired, At: at}, EventIDPrefix: "x-"})
	if wantOK(t, err, "UpdateWhere by ids") && (len(out) != 1 || out[0].ID != "o1") {
		t.Errorf("the ids filter keeps the named existing coupons: %+v", out)
	}
	out, err = e.st.UpdateWhere(e.ctx, store.CouponFilter{SeriesID: "none"}, u)
	if wantOK(t, err, "UpdateWhere matching nothing") && len(out) != 0 {
		t.Errorf("nothing matches: %d", len(out))
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testContractNotFound(t *testing.T, e *env) {
	_, err := e.st.Series(e.ctx, "none")
	wantCode(t, err, errcode.NotFound, "Series of an unknown id")
	_, err = e.st.Coupon(e.ctx, "none")
	wantCode(t, err, errcode.NotFound, "Coupon of an unknown id")
	_, err = e.st.Redemption(e.ctx, "none")
	wantCode(t, err, errcode.NotFound, "Redemption of an unknown id")
	_, err = e.st.RedemptionByKey(e.ctx, "none", "k")
	wantCode(t, err, errcode.NotFound, "RedemptionByKey of an unknown key")
	ss, err := e.st.ListSeries(e.ctx, store.SeriesQuery{})
	if wantOK(t, err, "ListSeries on an empty store") && len(ss) != 0 {
		t.Errorf("no series")
	}
	cs, err := e.st.ListCoupons(e.ctx, store.CouponQuery{})
	if wantOK(t, err, "ListCoupons on an empty store") && len(cs) != 0 {
		t.Errorf("no coupons")
	}
	cs, err = e.st.CouponsByCode(e.ctx, "", "NONE")
	if wantOK(t, err, "CouponsByCode of an unknown code is an empty list, not an error") && len(cs) != 0 {
		t.Errorf("no coupons")
	}
	rs, err := e.st.ListRedemptions(e.ctx, store.RedemptionQuery{SeriesID: "none"})
	if wantOK(t, err, "ListRedemptions on an empty store") && len(rs) != 0 {
		t.Errorf("no redemptions")
	}
	evs, err := e.st.Events(e.ctx, store.EventQuery{Customer: "none"})
	if wantOK(t, err, "Events on an empty store") && len(evs) != 0 {
		t.Errorf("no events")
	}
	out, err := e.st.UpdateWhere(e.ctx, store.CouponFilter{}, store.BulkUpdate{To: coupon.Revoked, At: t0})
	if wantOK(t, err, "UpdateWhere on an empty store") && len(out) != 0 {
		t.Errorf("nothing updated")
	}
}

// A store that implements store.CouponsByCodeAppender appends exactly what
// CouponsByCode returns, after what dst already holds.
func testContractAppendByCode(t *testing.T, e *env) {
	a, ok := e.st.(store.CouponsByCodeAppender)
	if !ok {
		t.Skip("the store does not implement store.CouponsByCodeAppender")
	}
	e.seedSeries("s1")
	e.seedSeries("s2")
	x := rawIssued("x", "s1", "SAME", alice)
	y := rawIssued("y", "s2", "SAME", bob)
	z := rawIssued("z", "s1", "OTHER", alice)
	e.apply(&store.Change{NewCoupons: []coupon.Coupon{x, y, z}})
	prefix := rawIssued("p", "s9", "PREFIX", alice)
	for _, q := range []struct{ series, code string }{{"", "SAME"}, {"s1", "SAME"}, {"s2", "SAME"}, {"s3", "SAME"}, {"", "NONE"}, {"", "OTHER"}} {
		want, err := e.st.CouponsByCode(e.ctx, q.series, q.code)
		if !wantOK(t, err, "CouponsByCode") {
			return
		}
		dst := make([]coupon.Coupon, 1, 4)
		dst[0] = prefix
		got, err := a.AppendCouponsByCode(e.ctx, dst, q.series, q.code)
		if !wantOK(t, err, "AppendCouponsByCode") {
			return
		}
		if diff := cmp.Diff(append([]coupon.Coupon{prefix}, want...), got); diff != "" {
			t.Errorf("AppendCouponsByCode(%q, %q) must append what CouponsByCode returns after dst's own (-want +got):\n%s", q.series, q.code, diff)
		}
	}
}

func testContractCopies(t *testing.T, e *env) {
	e.seedSeries("s1")
	x := rawIssued("x", "s1", "X", alice)
	r := coupon.Redemption{ID: "r1", CouponID: "x", SeriesID: "s1", Customer: alice, IdempotencyKey: "k", Status: coupon.StatusRedeemed, At: t0}
	e.apply(&store.Change{NewCoupons: []coupon.Coupon{x}, NewRedemptions: []coupon.Redemption{r}})
	got := e.stored("x")
	got.Holder = "mallory"
	list, _ := e.st.ListCoupons(e.ctx, store.CouponQuery{})
	list[0].State = coupon.Revoked
	byCode, _ := e.st.CouponsByCode(e.ctx, "", "X")
	byCode[0].Redemptions = 9
	rr := e.storedRedemption("r1")
	rr.Status = coupon.StatusReversed
	same(t, e.stored("x"), x, "changing a coupon a read returned must not change the stored one")
	same(t, e.storedRedemption("r1"), r, "changing a redemption a read returned must not change the stored one")
	// Nor does changing what was passed to Apply after it returns.
	y := rawIssued("y", "s1", "Y", bob)
	ch := &store.Change{NewCoupons: []coupon.Coupon{y}}
	e.apply(ch)
	ch.NewCoupons[0].Holder = "mallory"
	same(t, e.stored("y"), y, "changing a change after Apply returned must not change the stored coupon")
}

func testContractListCoupons(t *testing.T, e *env) {
	e.seedSeries("s1")
	var all []coupon.Coupon
	for i := range 7 {
		var c coupon.Coupon
		if i%2 == 0 {
			c = rawIssued(fmt.Sprintf("c%02d", i), "s1", fmt.Sprintf("L-%d", i), []string{alice, bob}[i%4/2])
			c.ExpiresAt = t0.Add(time.Duration(i) * time.Hour)
		} else {
			c, _ = rawCoupon(fmt.Sprintf("c%02d", i), "s1", fmt.Sprintf("L-%d", i))
		}
		all = append(all, c)
	}
	// Insert in reverse order: reads are ordered by id whatever the order of writes.
	rev := slices.Clone(all)
	slices.Reverse(rev)
	e.apply(&store.Change{NewCoupons: rev})
	var paged []coupon.Coupon
	q := store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: "s1"}, Limit: 3}
	for range 5 {
		page, err := e.st.ListCoupons(e.ctx, q)
		mustOK(t, err, "ListCoupons")
		paged = append(paged, page...)
		if len(page) < 3 {
			break
		}
		q.AfterID = page[len(page)-1].ID
	}
	same(t, paged, all, "paging with Limit 3 and AfterID lists every coupon once, ordered by id")
	ids := func(f store.CouponFilter) []string {
		cs, err := e.st.ListCoupons(e.ctx, store.CouponQuery{CouponFilter: f})
		mustOK(t, err, "ListCoupons")
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	same(t, ids(store.CouponFilter{States: []coupon.State{coupon.Issued}}), []string{"c00", "c02", "c04", "c06"}, "the States filter")
	same(t, ids(store.CouponFilter{Holder: bob}), []string{"c02", "c06"}, "the Holder filter")
	same(t, ids(store.CouponFilter{ExpiresBefore: t0.Add(4 * time.Hour)}), []string{"c00", "c02", "c04"}, "ExpiresBefore keeps coupons with an expiry not after it")
	same(t, ids(store.CouponFilter{ExpiresAfter: t0.Add(2 * time.Hour)}), []string{"c04", "c06"}, "ExpiresAfter keeps coupons with an expiry after it")
	same(t, ids(store.CouponFilter{IDs: []string{"c05", "c01", "zz", "c01"}}), []string{"c01", "c05"}, "the IDs filter")
	same(t, ids(store.CouponFilter{SeriesID: "s1", Holder: alice, States: []coupon.State{coupon.Issued}, Unused: true, ExpiresAfter: t0}), []string{"c04"},
		"every set filter field must match")
}

func testContractListRedemptions(t *testing.T, e *env) {
	e.seedSeries("s1", "s2")
	x := rawIssued("x", "s1", "X", alice)
	y := rawIssued("y", "s2", "Y", bob)
	e.apply(&store.Change{NewCoupons: []coupon.Coupon{x, y}})
	mk := func(id, cid, sid string, st coupon.RedemptionStatus, hold time.Duration) coupon.Redemption {
		r := coupon.Redemption{ID: id, CouponID: cid, SeriesID: sid, Customer: alice, IdempotencyKey: id, Status: st, At: t0}
		if hold > 0 {
			r.HoldExpiresAt = t0.Add(hold)
		}
		return r
	}
	rs := []coupon.Redemption{
		mk("r5", "x", "s1", coupon.StatusHeld, 10*time.Minute), mk("r1", "x", "s1", coupon.StatusRedeemed, 0),
		mk("r3", "y", "s2", coupon.StatusHeld, time.Hour), mk("r2", "x", "s1", coupon.StatusReversed, 0),
		mk("r4", "x", "s1", coupon.StatusHeld, 30*time.Minute),
	}
	e.apply(&store.Change{NewRedemptions: rs})
	ids := func(q store.RedemptionQuery) []string {
		got, err := e.st.ListRedemptions(e.ctx, q)
		mustOK(t, err, "ListRedemptions")
		var out []string
		for _, r := range got {
			out = append(out, r.ID)
		}
		return out
	}
	same(t, ids(store.RedemptionQuery{CouponID: "x"}), []string{"r1", "r2", "r4", "r5"}, "redemptions of a coupon, ordered by id")
	same(t, ids(store.RedemptionQuery{SeriesID: "s2"}), []string{"r3"}, "redemptions of a series")
	same(t, ids(store.RedemptionQuery{Status: coupon.StatusHeld}), []string{"r3", "r4", "r5"}, "holds of every series")
	same(t, ids(store.RedemptionQuery{Status: coupon.StatusHeld, HoldExpiresBefore: t0.Add(30 * time.Minute)}), []string{"r4", "r5"},
		"holds lapsed by a time: HoldExpiresAt not after it")
	same(t, ids(store.RedemptionQuery{SeriesID: "s1", Status: coupon.StatusHeld, Limit: 1}), []string{"r4"}, "Limit caps the result, in id order")
	got, err := e.st.RedemptionByKey(e.ctx, "x", "r2")
	if wantOK(t, err, "RedemptionByKey") && got.ID != "r2" {
		t.Errorf("RedemptionByKey: %s", got.ID)
	}
	_, err = e.st.RedemptionByKey(e.ctx, "y", "r2")
	wantCode(t, err, errcode.NotFound, "an idempotency key belongs to its coupon")
	same(t, ids(store.RedemptionQuery{}), []string{"r1", "r2", "r3", "r4", "r5"}, "the zero query lists every redemption, ordered by id whatever the order of writes")
	same(t, ids(store.RedemptionQuery{Limit: 2}), []string{"r1", "r2"}, "Limit alone caps the list of every redemption, in id order")
	same(t, ids(store.RedemptionQuery{SeriesID: "s1", Status: coupon.StatusHeld, HoldExpiresBefore: t0.Add(time.Hour)}), []string{"r4", "r5"},
		"every set field must match: the series, the status and the hold expiry")
	same(t, ids(store.RedemptionQuery{CouponID: "none"}), nil, "a coupon with no redemptions has an empty list")

	// HoldExpiresBefore alone keeps every redemption whose HoldExpiresAt is
	// set and not after it, whatever its status: a confirmed hold keeps its
	// HoldExpiresAt; a redemption that never was a hold has none.
	confirmed := mk("r6", "y", "s2", coupon.StatusRedeemed, 5*time.Minute)
	confirmed.ConfirmedAt = t0.Add(time.Minute)
	e.apply(&store.Change{NewRedemptions: []coupon.Redemption{confirmed}})
	same(t, ids(store.RedemptionQuery{HoldExpiresBefore: t0.Add(10 * time.Minute)}), []string{"r5", "r6"},
		"HoldExpiresBefore without Status keeps the redemptions with a HoldExpiresAt set and not after it, a confirmed hold included, and none without one")
	// A status update moves a redemption out of the old status's list.
	r5 := rs[0]
	r5.Status, r5.ConfirmedAt = coupon.StatusRedeemed, t0.Add(2*time.Minute)
	e.apply(&store.Change{Redemptions: []store.RedemptionUpdate{{Redemption: r5, ExpectStatus: coupon.StatusHeld}}})
	same(t, ids(store.RedemptionQuery{Status: coupon.StatusHeld}), []string{"r3", "r4"}, "a confirmed hold is no longer listed among the holds")
	same(t, ids(store.RedemptionQuery{CouponID: "x", Status: coupon.StatusRedeemed}), []string{"r1", "r5"}, "a confirmed hold is listed among the redeemed")
}

func testContractEvents(t *testing.T, e *env) {
	e.seedSeries("s1", "s2")
	x := rawIssued("x", "s1", "X", alice)
	y := rawIssued("y", "s2", "Y", alice)
	e.apply(&store.Change{NewCoupons: []coupon.Coupon{x, y}})
	var applied []coupon.Event
	for i := range 6 {
		c := []coupon.Coupon{x, y}[i%2]
		// Ids in decreasing order: events come back in the order applied, not by id.
		ev := rawEvent(fmt.Sprintf("e%d", 9-i), coupon.EventRedeemed, c, alice, t0)
		if i == 5 {
			ev.Customer = bob
		}
		applied = append(applied, ev)
		e.apply(&store.Change{Events: []coupon.Event{ev}})
	}
	same(t, e.events(store.EventQuery{CouponID: "x"}), []coupon.Event{applied[0], applied[2], applied[4]}, "events of a coupon, in the order applied")
	same(t, e.events(store.EventQuery{Customer: alice}), applied[:5], "events of a customer, in the order applied")
	same(t, e.events(store.EventQuery{Customer: alice, SeriesID: "s2"}), []coupon.Event{applied[1], applied[3]}, "events of a customer in one series")
	same(t, e.events(store.EventQuery{Customer: alice, Limit: 2}), applied[:2], "Limit keeps the first events")
	same(t, e.events(store.EventQuery{CouponID: "y", Customer: bob}), []coupon.Event{applied[5]}, "coupon and customer filters together")
	two := []coupon.Event{rawEvent("m1", coupon.EventTransferredOut, x, alice, t0), rawEvent("m2", coupon.EventTransferReceived, x, bob, t0)}
	e.apply(&store.Change{Events: two})
	got := e.events(store.EventQuery{CouponID: "x"})
	same(t, got[len(got)-2:], two, "the events of one change keep their order")
	// An event with no customer (a bulk job's, of an unissued coupon) is
	// still an event of its coupon.
	anon := rawEvent("e0", coupon.EventExpired, y, "", t0)
	e.apply(&store.Change{Events: []coupon.Event{anon}})
	same(t, e.events(store.EventQuery{CouponID: "y"}), []coupon.Event{applied[1], applied[3], applied[5], anon}, "an event with no customer is listed with its coupon's events")
	same(t, e.events(store.EventQuery{Customer: alice, SeriesID: "s2"}), []coupon.Event{applied[1], applied[3]}, "an event with no customer is no customer's")
	same(t, e.events(store.EventQuery{CouponID: "y", Limit: 2}), []coupon.Event{applied[1], applied[3]}, "Limit keeps the first events of a coupon")
}

// idsOf returns the id of each record, in order.
func idsOf[T any](records []T, id func(T) string) []string {
	out := make([]string, len(records))
	for i, r := range records {
		out[i] = id(r)
	}
	return out
}

func testContractListSeries(t *testing.T, e *env) {
	st1 := limits.PlaceRef{Kind: limits.Store, ID: "st-1"}
	z1 := limits.PlaceRef{Kind: limits.Zone, ID: "z-1"}
	st2 := limits.PlaceRef{Kind: limits.Store, ID: "st-2"}
	a := rawSeries("a")
	a.Redemption.Places = limits.NewPlaceSet(st1, z1)
	b := rawSeries("b") // no places
	c := rawSeries("c")
	c.Status = series.Paused
	c.Redemption.Places = limits.NewPlaceSet(st1)
	// Written in reverse order: ListSeries is ordered by id whatever the
	// order of writes.
	for _, s := range []series.Series{c, b, a} {
		e.apply(&store.Change{Series: &store.SeriesWrite{Series: s}})
	}
	ids := func(q store.SeriesQuery) []string {
		ss, err := e.st.ListSeries(e.ctx, q)
		mustOK(t, err, "ListSeries")
		return idsOf(ss, func(s series.Series) string { return s.ID })
	}
	place := func(kind limits.PlaceKind, id string) *limits.PlaceRef { return &limits.PlaceRef{Kind: kind, ID: id} }
	type cases = []struct {
		q    store.SeriesQuery
		want []string
		rule string
	}
	check := func(when string, cs cases) {
		t.Helper()
		for _, tc := range cs {
			var p limits.PlaceRef
			if tc.q.Place != nil {
				p = *tc.q.Place
			}
			same(t, ids(tc.q), tc.want, "%s: ListSeries(status %q, place %+v): %s", when, tc.q.Status, p, tc.rule)
		}
	}
	check("written", cases{
		{store.SeriesQuery{}, []string{"a", "b", "c"}, "the zero query lists every series, ordered by id"},
		{store.SeriesQuery{Status: series.Active}, []string{"a", "b"}, "the Status filter"},
		{store.SeriesQuery{Status: series.Paused}, []string{"c"}, "the Status filter"},
		{store.SeriesQuery{Place: place(limits.Store, "st-1")}, []string{"a", "c"}, "the Place filter keeps the series that name the place; a series with no places names none"},
		{store.SeriesQuery{Place: place(limits.Zone, "z-1")}, []string{"a"}, "the Place filter matches a zone"},
		{store.SeriesQuery{Place: place(limits.Zone, "st-1")}, nil, "places are matched by kind and id: a store id queried as a zone matches nothing"},
		{store.SeriesQuery{Place: place(limits.Store, "st-9")}, nil, "an unknown place matches nothing"},
		{store.SeriesQuery{Place: place(limits.Store, "st-1"), Status: series.Paused}, []string{"c"}, "every set field must match"},
	})
	// An update replaces the series' places and status in what the
	// filters see.
	a2 := a
	a2.Name, a2.Status = "renamed", series.Paused
	a2.Redemption.Places = limits.NewPlaceSet(st2)
	e.apply(&store.Change{Series: &store.SeriesWrite{Series: a2, ExpectVersion: 1}})
	got, err := e.st.Series(e.ctx, "a")
	mustOK(t, err, "Series")
	a2.Version = 2
	same(t, got, a2, "an update with the right ExpectVersion stores the series at version ExpectVersion+1")
	check("after an update", cases{
		{store.SeriesQuery{Place: place(limits.Store, "st-1")}, []string{"c"}, "a series updated to other places no longer matches the places it dropped"},
		{store.SeriesQuery{Place: place(limits.Zone, "z-1")}, nil, "a series updated to other places no longer matches the places it dropped"},
		{store.SeriesQuery{Place: place(limits.Store, "st-2")}, []string{"a"}, "a series updated to a new place matches it"},
		{store.SeriesQuery{Status: series.Active}, []string{"b"}, "a series updated to Paused is no longer Active"},
		{store.SeriesQuery{Status: series.Paused}, []string{"a", "c"}, "a series updated to Paused is listed as Paused"},
		{store.SeriesQuery{Place: place(limits.Store, "st-2"), Status: series.Active}, nil, "every set field must match"},
	})
}

// A store that implements store.SeriesVersioner returns the version that
// Series would return.
func testContractSeriesVersion(t *testing.T, e *env) {
	v, ok := e.st.(store.SeriesVersioner)
	if !ok {
		t.Skip("the store does not implement store.SeriesVersioner")
	}
	e.seedSeries("s1")
	n, err := v.SeriesVersion(e.ctx, "s1")
	if wantOK(t, err, "SeriesVersion") && n != 1 {
		t.Errorf("SeriesVersion of a new series is 1: %d", n)
	}
	e.apply(&store.Change{Series: &store.SeriesWrite{Series: rawSeries("s1"), ExpectVersion: 1}})
	n, err = v.SeriesVersion(e.ctx, "s1")
	if wantOK(t, err, "SeriesVersion") && n != 2 {
		t.Errorf("SeriesVersion follows an update: %d, want 2", n)
	}
	_, err = v.SeriesVersion(e.ctx, "none")
	wantCode(t, err, errcode.NotFound, "SeriesVersion of an unknown id")
}

// testContractAudience checks the deprecated Store.AddAudience, which
// stores still implement.
func testContractAudience(t *testing.T, e *env) {
	e.seedSeries("s1", "s2")
	e.apply(&store.Change{Audience: []store.AudienceUpdate{addMember("s1", erin, t0)}})
	//lint:ignore SA1019 the deprecated method is still part of the contract
	mustOK(t, e.st.AddAudience(e.ctx, "s1", []string{alice, bob, alice}), "AddAudience with a customer twice in one call")
	//lint:ignore SA1019 the deprecated method is still part of the contract
	mustOK(t, e.st.AddAudience(e.ctx, "s1", []string{bob, carol, erin}), "AddAudience with a customer already on the list")
	same(t, e.members("s1"), []store.AudienceMember{{Customer: alice}, {Customer: bob}, {Customer: carol}, {Customer: erin, AddedAt: t0}},
		"AddAudience records no time, and leaves a member already on the list as it was")
	for _, tc := range []struct {
		series, customer string
		want             bool
		rule             string
	}{
		{"s1", alice, true, "a customer added twice in one call is on the list"},
		{"s1", bob, true, "a customer added twice is on the list"},
		{"s1", carol, true, "a customer added by a later call is on the list"},
		{"s1", dave, false, "a customer never added is not on the list"},
		{"s2", alice, false, "the audience list is per series"},
		{"s9", alice, false, "a series with no audience list has no one on it"},
	} {
		in, err := e.st.InAudience(e.ctx, tc.series, tc.customer)
		if wantOK(t, err, "InAudience(%s, %s)", tc.series, tc.customer) && in != tc.want {
			t.Errorf("InAudience(%s, %s) = %v: %s", tc.series, tc.customer, in, tc.rule)
		}
	}
}

// testContractConcurrentBumps races guarded bumps of one counter: exactly
// the limit pass, and each passing change's After is the counter as its
// own bump left it.
func testContractConcurrentBumps(t *testing.T, e *env) {
	e.seedSeries("s1")
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

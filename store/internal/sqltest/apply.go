package sqltest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

func testCouponRoundTrip(t *testing.T, be Backend) {
	s := be.Open(t)
	CreateSeries(t, s, "s1", "s2")
	c := Issued("c1", "s1", "ABC", "alice")
	c.CreatedAt = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.FixedZone("X", 3600))
	c.Reversed, c.ReissuedFrom, c.Redemptions, c.Holds = true, "c0", 1, 2
	other := Available("c2", "s2", "ABC")
	mustApply(t, s, &store.Change{NewCoupons: []coupon.Coupon{c, other}})
	got, err := s.Coupon(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(c, got); d != "" {
		t.Errorf("Coupon round trip (-want +got):\n%s", d)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("times come back in %v, want UTC", got.CreatedAt.Location())
	}
	if !got.IssuedAt.Equal(c.IssuedAt) || !got.ExpiresAt.Equal(c.ExpiresAt) {
		t.Error("times changed")
	}
	byCode, _ := s.CouponsByCode(ctx, "", "ABC")
	inS2, _ := s.CouponsByCode(ctx, "s2", "ABC")
	none, _ := s.CouponsByCode(ctx, "s1", "abc")
	if len(byCode) != 2 || byCode[0].ID != "c1" || len(inS2) != 1 || inS2[0].ID != "c2" || len(none) != 0 {
		t.Errorf("CouponsByCode: %d, %d, %d coupons", len(byCode), len(inS2), len(none))
	}
	_, err = s.Coupon(ctx, "nope")
	wantErr[*errcode.Error](t, err, errcode.ErrNotFound)

	// Collisions: id, and the unique key.
	err = s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{Available("c1", "s1", "OTHER")}})
	if ex := wantErr[*store.ExistsError](t, err, errcode.ErrAlreadyExists); ex.Kind != "coupon" {
		t.Errorf("kind %q", ex.Kind)
	}
	err = s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{Available("c3", "s1", "ABC")}})
	wantErr[*store.ExistsError](t, err, errcode.ErrAlreadyExists)
	// A coupon of a missing series.
	err = s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{Available("c4", "zz", "ABC")}})
	wantErr[*errcode.Error](t, err, errcode.ErrNotFound)
	// A time the store cannot keep.
	far := Available("c5", "s1", "FAR")
	far.ExpiresAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	err = s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{far}})
	wantErr[*errcode.Error](t, err, errcode.ErrInvalidArgument)
}

// redeemChange is the change of a redemption of c by customer with key,
// bumping the four use counters under the given code limit.
func redeemChange(c coupon.Coupon, rid, customer, key string, at time.Time, codeLimit limits.Limit) *store.Change {
	c2 := c
	c2.Redemptions++
	c2.Version++
	r := coupon.Redemption{ID: rid, CouponID: c.ID, SeriesID: c.SeriesID, Customer: customer, IdempotencyKey: key,
		Status: coupon.StatusRedeemed, At: at, ConfirmedAt: at, Bill: decimal.RequireFromString("20.00"),
		Discount: decimal.RequireFromString("2.5"), Currency: "EUR", Location: coupon.Location{Till: "t1", Store: "s"}}
	keys := UseKeys(c.SeriesID, c.Canonical, customer)
	guards := []limits.Guard{{Counter: limits.CodeUses, Limit: codeLimit}, {Counter: limits.CustomerCodeUses},
		{Counter: limits.SeriesUses}, {Counter: limits.CustomerSeriesUses}}
	var bumps []store.Bump
	for i, k := range keys {
		bumps = append(bumps, store.Bump{Key: k, Delta: 1, Guard: guards[i], At: at})
	}
	return &store.Change{
		Coupons:        []store.CouponUpdate{{Coupon: c2, ExpectVersion: c.Version}},
		NewRedemptions: []coupon.Redemption{r},
		Bumps:          bumps,
		Events: []coupon.Event{{ID: "ev-" + rid, Kind: coupon.EventRedeemed, CouponID: c.ID, SeriesID: c.SeriesID,
			Code: c.Code, Customer: c.Holder, At: at, RedemptionID: rid}},
	}
}

// UseKeys are the four counters a redemption of code by customer bumps.
func UseKeys(sid, code, customer string) []store.CounterKey {
	return []store.CounterKey{
		{Counter: limits.CodeUses, Series: sid, Code: code},
		{Counter: limits.CustomerCodeUses, Series: sid, Code: code, Customer: customer},
		{Counter: limits.SeriesUses, Series: sid},
		{Counter: limits.CustomerSeriesUses, Series: sid, Customer: customer},
	}
}

// Counts reads the values of keys.
func Counts(t *testing.T, s store.Store, keys []store.CounterKey) []int64 {
	t.Helper()
	out := make([]store.Count, len(keys))
	if err := s.Counters(ctx, keys, out); err != nil {
		t.Fatal(err)
	}
	ns := make([]int64, len(out))
	for i, c := range out {
		ns[i] = c.N
	}
	return ns
}

func testRedemptionAndAtomicity(t *testing.T, be Backend) {
	s := be.Open(t)
	CreateSeries(t, s, "s1")
	c := Issued("c1", "s1", "CODE1", "alice")
	mustApply(t, s, &store.Change{NewCoupons: []coupon.Coupon{c}})
	at := t0.Add(time.Hour)
	ch := redeemChange(c, "r1", "alice", "pos-1", at, 1)
	mustApply(t, s, ch)
	for i, b := range ch.Bumps {
		if b.After.N != 1 || !b.After.Last.Equal(at) {
			t.Errorf("bump %d After = %+v, want 1 at %v", i, b.After, at)
		}
	}
	r, err := s.RedemptionByKey(ctx, "c1", "pos-1")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(ch.NewRedemptions[0], r); d != "" {
		t.Errorf("redemption round trip (-want +got):\n%s", d)
	}
	if r.Bill.String() != "20" || r.Bill.StringFixed(2) != "20.00" || r.Bill.Exponent() != -2 {
		t.Errorf("bill %s exponent %d, want 20.00", r.Bill, r.Bill.Exponent())
	}
	c1, _ := s.Coupon(ctx, "c1")

	// The same key again: a duplicate, and nothing of the change stays.
	dup := redeemChange(c1, "r2", "alice", "pos-1", at, 0)
	err = s.Apply(ctx, dup)
	if ex := wantErr[*store.ExistsError](t, err, errcode.ErrAlreadyExists); ex.Kind != "redemption" {
		t.Errorf("kind %q", ex.Kind)
	}
	// A stale version: a conflict.
	err = s.Apply(ctx, redeemChange(c, "r3", "alice", "pos-3", at, 0))
	if ce := wantErr[*store.ConflictError](t, err, errcode.ErrConflict); ce.Kind != "coupon" || ce.ID != "c1" {
		t.Errorf("conflict %+v", ce)
	}
	// The code guard (limit 1) refuses: the last bump of the change
	// fails after everything else ran, and nothing of it stays.
	err = s.Apply(ctx, redeemChange(c1, "r4", "bob", "pos-4", at, 1))
	ge := wantErr[*store.GuardError](t, err, errcode.ErrGuardFailed)
	if ge.Key.Counter != limits.CodeUses || ge.Count.N != 1 || !ge.Count.Last.Equal(at) {
		t.Errorf("guard error %+v", ge)
	}
	// A change whose failing guard is the series-wide one, bumped last.
	fail := redeemChange(c1, "r5", "bob", "pos-5", at, 0)
	fail.Bumps[2].Guard.Limit = 1
	err = s.Apply(ctx, fail)
	if ge := wantErr[*store.GuardError](t, err, errcode.ErrGuardFailed); ge.Key.Counter != limits.SeriesUses {
		t.Errorf("guard error on %v, want series uses", ge.Key.Counter)
	}
	if got, _ := s.Coupon(ctx, "c1"); got.Version != c1.Version || got.Redemptions != 1 {
		t.Errorf("coupon changed by failed changes: %+v", got)
	}
	rs, _ := s.ListRedemptions(ctx, store.RedemptionQuery{CouponID: "c1"})
	evs, _ := s.Events(ctx, store.EventQuery{CouponID: "c1"})
	if len(rs) != 1 || len(evs) != 1 {
		t.Errorf("%d redemptions and %d events after failed changes, want 1 and 1", len(rs), len(evs))
	}
	bobKeys := UseKeys("s1", "CODE1", "bob")
	if got := Counts(t, s, append(UseKeys("s1", "CODE1", "alice"), bobKeys...)); !slices.Equal(got, []int64{1, 1, 1, 1, 1, 0, 1, 0}) {
		t.Errorf("counters after failed changes %v", got)
	}
}

func testGuardErrorOrder(t *testing.T, be Backend) {
	s := be.Open(t)
	// Two guards fail; the first in the change's order is reported,
	// though the store bumps in its own lock order.
	k1 := store.CounterKey{Counter: limits.SeriesUses, Series: "s"}
	k2 := store.CounterKey{Counter: limits.CodeUses, Series: "s", Code: "X"}
	mustApply(t, s, &store.Change{Bumps: []store.Bump{{Key: k1, Delta: 1, At: t0}, {Key: k2, Delta: 1, At: t0}}})
	err := s.Apply(ctx, &store.Change{Bumps: []store.Bump{
		{Key: k1, Delta: 1, At: t0, Guard: limits.Guard{Counter: k1.Counter, Limit: 1}},
		{Key: k2, Delta: 1, At: t0, Guard: limits.Guard{Counter: k2.Counter, Limit: 1}},
	}})
	if ge := wantErr[*store.GuardError](t, err, errcode.ErrGuardFailed); ge.Key != k1 {
		t.Errorf("guard error on %+v, want %+v", ge.Key, k1)
	}
}

func testGuardGapAndDecrement(t *testing.T, be Backend) {
	s := be.Open(t)
	k := store.CounterKey{Counter: limits.CustomerSeriesUses, Series: "s1", Customer: "alice"}
	g := limits.Guard{Counter: k.Counter, Limit: 3, MinGap: time.Hour}
	bump := func(at time.Time) error {
		return s.Apply(ctx, &store.Change{Bumps: []store.Bump{{Key: k, Delta: 1, Guard: g, At: at}}})
	}
	if err := bump(t0); err != nil {
		t.Fatal(err)
	}
	err := bump(t0.Add(time.Hour - time.Nanosecond))
	if ge := wantErr[*store.GuardError](t, err, errcode.ErrGuardFailed); ge.Count.N != 1 || !ge.Count.Last.Equal(t0) {
		t.Errorf("guard saw %+v", ge.Count)
	}
	if err := bump(t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := bump(t0.Add(3 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	err = bump(t0.Add(10 * time.Hour)) // the limit
	if ge := wantErr[*store.GuardError](t, err, errcode.ErrGuardFailed); ge.Count.N != 3 {
		t.Errorf("guard saw %+v", ge.Count)
	}
	// Decrements keep the last time and never go below zero.
	undo := &store.Change{Bumps: []store.Bump{{Key: k, Delta: -2, At: t0.Add(20 * time.Hour)}}}
	mustApply(t, s, undo)
	if a := undo.Bumps[0].After; a.N != 1 || !a.Last.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("after decrement %+v", a)
	}
	err = s.Apply(ctx, &store.Change{Bumps: []store.Bump{{Key: k, Delta: -2}}})
	if ce := wantErr[*store.ConflictError](t, err, errcode.ErrConflict); ce.Kind != "counter" {
		t.Errorf("conflict kind %q", ce.Kind)
	}
	missing := store.CounterKey{Counter: limits.CodeUses, Series: "s1", Code: "NONE"}
	err = s.Apply(ctx, &store.Change{Bumps: []store.Bump{{Key: missing, Delta: -1}}})
	wantErr[*store.ConflictError](t, err, errcode.ErrConflict)
	// A bump of two under a limit with room for both.
	k2 := store.CounterKey{Counter: limits.SeriesIssued, Series: "s1"}
	g2 := limits.Guard{Counter: k2.Counter, Limit: 2}
	ch := &store.Change{Bumps: []store.Bump{{Key: k2, Delta: 2, Guard: g2, At: t0}}}
	mustApply(t, s, ch)
	if a := ch.Bumps[0].After; a.N != 2 || !a.Last.Equal(t0) {
		t.Errorf("after a bump of two: %+v", a)
	}
	got := make([]store.Count, 3)
	if err := s.Counters(ctx, []store.CounterKey{k, missing, k2}, got); err != nil {
		t.Fatal(err)
	}
	if got[0].N != 1 || got[1] != (store.Count{}) || got[2].N != 2 {
		t.Errorf("Counters = %+v", got)
	}
	err = s.Counters(ctx, []store.CounterKey{k}, nil)
	wantErr[*errcode.Error](t, err, errcode.ErrInvalidArgument)

	// Keys may hold any byte, NUL and backslashes included, and keys
	// that differ only there are different counters.
	odd := []store.CounterKey{
		{Counter: limits.CodeUses, Series: "s1", Code: "A\x00b"},
		{Counter: limits.CodeUses, Series: "s1", Code: "A\\0b"},
		{Counter: limits.CodeUses, Series: "s1", Code: "A\\\x00b"},
	}
	for i, k := range odd {
		for range i + 1 {
			mustApply(t, s, &store.Change{Bumps: []store.Bump{{Key: k, Delta: 1, At: t0}}})
		}
	}
	if got := Counts(t, s, odd); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("counters of keys with NUL and backslashes: %v, want [1 2 3]", got)
	}
}

func testRedemptionUpdatesAndQueries(t *testing.T, be Backend) {
	s := be.Open(t)
	CreateSeries(t, s, "s1")
	c := Issued("c1", "s1", "H1", "alice")
	mustApply(t, s, &store.Change{NewCoupons: []coupon.Coupon{c}})
	hold := coupon.Redemption{ID: "h1", CouponID: "c1", SeriesID: "s1", Customer: "alice", IdempotencyKey: "k1",
		Status: coupon.StatusHeld, At: t0, HoldExpiresAt: t0.Add(10 * time.Minute)}
	hold2 := hold
	hold2.ID, hold2.IdempotencyKey, hold2.HoldExpiresAt = "h2", "k2", t0.Add(time.Hour)
	noKey := hold
	noKey.ID, noKey.IdempotencyKey, noKey.Status, noKey.HoldExpiresAt = "r0", "", coupon.StatusRedeemed, time.Time{}
	noKey2 := noKey
	noKey2.ID = "r00"
	mustApply(t, s, &store.Change{NewRedemptions: []coupon.Redemption{hold, hold2, noKey, noKey2}})
	lapsed, _ := s.ListRedemptions(ctx, store.RedemptionQuery{Status: coupon.StatusHeld, HoldExpiresBefore: t0.Add(30 * time.Minute)})
	if len(lapsed) != 1 || lapsed[0].ID != "h1" {
		t.Errorf("lapsed holds %v", lapsed)
	}
	all, _ := s.ListRedemptions(ctx, store.RedemptionQuery{SeriesID: "s1", Limit: 3})
	if len(all) != 3 || all[0].ID != "h1" || all[2].ID != "r0" {
		t.Errorf("ListRedemptions by series: %d", len(all))
	}
	if _, err := s.RedemptionByKey(ctx, "c1", ""); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("RedemptionByKey with no key: %v", err)
	}
	released := hold
	released.Status, released.ReleasedAt = coupon.StatusReleased, t0.Add(time.Minute)
	mustApply(t, s, &store.Change{Redemptions: []store.RedemptionUpdate{{Redemption: released, ExpectStatus: coupon.StatusHeld}}})
	err := s.Apply(ctx, &store.Change{Redemptions: []store.RedemptionUpdate{{Redemption: released, ExpectStatus: coupon.StatusHeld}}})
	if ce := wantErr[*store.ConflictError](t, err, errcode.ErrConflict); ce.Kind != "redemption" {
		t.Errorf("kind %q", ce.Kind)
	}
	got, _ := s.Redemption(ctx, "h1")
	if d := cmp.Diff(released, got); d != "" {
		t.Errorf("updated redemption (-want +got):\n%s", d)
	}
	_, err = s.Redemption(ctx, "zz")
	wantErr[*errcode.Error](t, err, errcode.ErrNotFound)
	orphan := hold
	orphan.ID, orphan.CouponID, orphan.IdempotencyKey = "o1", "no-such-coupon", "k9"
	err = s.Apply(ctx, &store.Change{NewRedemptions: []coupon.Redemption{orphan}})
	wantErr[*errcode.Error](t, err, errcode.ErrNotFound)
}

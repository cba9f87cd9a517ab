package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/sqlstore"
)

var ctx = context.Background()

// issued returns an Issued coupon of series sid with code code, held by
// holder.
func issued(id, sid, code, holder string) coupon.Coupon {
	return coupon.Coupon{
		ID: id, SeriesID: sid, Code: code, Canonical: code, State: coupon.Issued, Holder: holder,
		CreatedAt: t0, IssuedAt: t0.Add(time.Minute), ExpiresAt: t0.Add(30 * 24 * time.Hour),
		LastStatusChange: t0.Add(time.Minute), Version: 2,
	}
}

func available(id, sid, code string) coupon.Coupon {
	return coupon.Coupon{ID: id, SeriesID: sid, Code: code, Canonical: code, State: coupon.Available,
		CreatedAt: t0, LastStatusChange: t0, Version: 1}
}

func mustApply(t *testing.T, s store.Store, c *store.Change) {
	t.Helper()
	if err := s.Apply(ctx, c); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func wantErr[T error](t *testing.T, err error, code *errcode.Error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error %v (%T), want %T", err, err, target)
	}
	if !errors.Is(err, code) {
		t.Fatalf("error %v does not match code %d", err, code.Code)
	}
	return target
}

func TestCouponRoundTrip(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		createSeries(t, s, "s1", "s2")
		c := issued("c1", "s1", "ABC", "alice")
		c.CreatedAt = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.FixedZone("X", 3600))
		c.Reversed, c.ReissuedFrom, c.Redemptions, c.Holds = true, "c0", 1, 2
		other := available("c2", "s2", "ABC")
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
		err = s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{available("c1", "s1", "OTHER")}})
		if ex := wantErr[*store.ExistsError](t, err, errcode.ErrAlreadyExists); ex.Kind != "coupon" {
			t.Errorf("kind %q", ex.Kind)
		}
		err = s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{available("c3", "s1", "ABC")}})
		wantErr[*store.ExistsError](t, err, errcode.ErrAlreadyExists)
		// A coupon of a missing series.
		err = s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{available("c4", "zz", "ABC")}})
		wantErr[*errcode.Error](t, err, errcode.ErrNotFound)
		// A time the store cannot keep.
		far := available("c5", "s1", "FAR")
		far.ExpiresAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
		err = s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{far}})
		wantErr[*errcode.Error](t, err, errcode.ErrInvalidArgument)
	})
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
	keys := useKeys(c.SeriesID, c.Canonical, customer)
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

func useKeys(sid, code, customer string) []store.CounterKey {
	return []store.CounterKey{
		{Counter: limits.CodeUses, Series: sid, Code: code},
		{Counter: limits.CustomerCodeUses, Series: sid, Code: code, Customer: customer},
		{Counter: limits.SeriesUses, Series: sid},
		{Counter: limits.CustomerSeriesUses, Series: sid, Customer: customer},
	}
}

func counts(t *testing.T, s store.Store, keys []store.CounterKey) []int64 {
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

func TestRedemptionAndAtomicity(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		createSeries(t, s, "s1")
		c := issued("c1", "s1", "CODE1", "alice")
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
		bobKeys := useKeys("s1", "CODE1", "bob")
		if got := counts(t, s, append(useKeys("s1", "CODE1", "alice"), bobKeys...)); !slices.Equal(got, []int64{1, 1, 1, 1, 1, 0, 1, 0}) {
			t.Errorf("counters after failed changes %v", got)
		}
	})
}

func TestGuardErrorOrder(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
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
	})
}

func TestGuardGapAndDecrement(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
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
		if got := counts(t, s, odd); !slices.Equal(got, []int64{1, 2, 3}) {
			t.Errorf("counters of keys with NUL and backslashes: %v, want [1 2 3]", got)
		}
	})
}

func TestRedemptionUpdatesAndQueries(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		createSeries(t, s, "s1")
		c := issued("c1", "s1", "H1", "alice")
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
	})
}

func batch(sid string, from, n int) ([]coupon.Coupon, []coupon.Event) {
	var cs []coupon.Coupon
	var evs []coupon.Event
	for i := from; i < from+n; i++ {
		id := fmt.Sprintf("%s-c%06d", sid, i)
		cs = append(cs, available(id, sid, fmt.Sprintf("CODE%06d", i)))
		evs = append(evs, coupon.Event{ID: "ev-" + id, Kind: coupon.EventCreated, CouponID: id, SeriesID: sid,
			Code: fmt.Sprintf("CODE%06d", i), At: t0})
	}
	return cs, evs
}

func TestInsertCouponsIdempotent(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		createSeries(t, s, "s1")
		cs, evs := batch("s1", 0, 250)
		n, err := s.InsertCoupons(ctx, cs, evs)
		if err != nil || n != 250 {
			t.Fatalf("InsertCoupons = %d, %v; want 250", n, err)
		}
		n, err = s.InsertCoupons(ctx, cs, evs)
		if err != nil || n != 0 {
			t.Fatalf("again: %d, %v; want 0", n, err)
		}
		// A batch overlapping by code with new ids (an upload run again):
		// only the new codes and their events go in; an event of a coupon
		// outside the batch is kept.
		cs2, evs2 := batch("s1", 200, 100)
		for i := range cs2 {
			cs2[i].ID += "-again"
			evs2[i].ID += "-again"
			evs2[i].CouponID = cs2[i].ID
		}
		evs2 = append(evs2, coupon.Event{ID: "loose", Kind: coupon.EventIssued, CouponID: "s1-c000001", SeriesID: "s1", At: t0})
		dupID := available("s1-c000000", "s1", "FRESHCODE") // id taken
		n, err = s.InsertCoupons(ctx, append(cs2, dupID), evs2)
		if err != nil || n != 50 {
			t.Fatalf("overlapping batch: %d, %v; want 50", n, err)
		}
		all, err := s.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: "s1"}})
		if err != nil || len(all) != 300 {
			t.Fatalf("%d coupons, %v; want 300", len(all), err)
		}
		if !slices.IsSortedFunc(all, func(a, b coupon.Coupon) int { return strings.Compare(a.ID, b.ID) }) {
			t.Error("ListCoupons not ordered by id")
		}
		evAll, _ := s.Events(ctx, store.EventQuery{SeriesID: "s1"})
		if len(evAll) != 301 {
			t.Errorf("%d events, want 301", len(evAll))
		}
		if got, _ := s.Events(ctx, store.EventQuery{CouponID: "s1-c000001"}); len(got) != 2 || got[1].ID != "loose" {
			t.Errorf("events of c1: %v", got)
		}
		if n, err := s.InsertCoupons(ctx, nil, nil); n != 0 || err != nil {
			t.Errorf("empty batch: %d, %v", n, err)
		}
		_, err = s.InsertCoupons(ctx, []coupon.Coupon{available("", "s1", "X")}, nil)
		wantErr[*errcode.Error](t, err, errcode.ErrInvalidArgument)
	})
}

func TestListCouponsFilters(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		createSeries(t, s, "s1", "s2")
		a := issued("a", "s1", "A", "alice")
		a.ExpiresAt = t0.Add(time.Hour)
		b := issued("b", "s1", "B", "alice")
		b.Redemptions, b.State, b.ExpiresAt = 1, coupon.Redeemed, time.Time{}
		c := available("c", "s1", "C")
		d := issued("d", "s2", "D", "bob")
		d.ExpiresAt = t0.Add(2 * time.Hour)
		mustApply(t, s, &store.Change{NewCoupons: []coupon.Coupon{d, c, b, a}})
		ids := func(q store.CouponQuery) string {
			got, err := s.ListCoupons(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			out := ""
			for _, x := range got {
				out += x.ID
			}
			return out
		}
		type F = store.CouponFilter
		for _, tc := range []struct {
			q    store.CouponQuery
			want string
		}{
			{store.CouponQuery{}, "abcd"},
			{store.CouponQuery{CouponFilter: F{SeriesID: "s1"}}, "abc"},
			{store.CouponQuery{CouponFilter: F{Holder: "alice"}}, "ab"},
			{store.CouponQuery{CouponFilter: F{States: []coupon.State{coupon.Issued, coupon.Available, coupon.Issued}}}, "acd"},
			{store.CouponQuery{CouponFilter: F{Unused: true, Holder: "alice"}}, "a"},
			{store.CouponQuery{CouponFilter: F{ExpiresBefore: t0.Add(time.Hour)}}, "a"},
			{store.CouponQuery{CouponFilter: F{ExpiresAfter: t0.Add(time.Hour)}}, "d"},
			{store.CouponQuery{CouponFilter: F{IDs: []string{"d", "a", "zz", "a"}}}, "ad"},
			{store.CouponQuery{AfterID: "b", Limit: 1}, "c"},
			{store.CouponQuery{CouponFilter: F{SeriesID: "s1", States: []coupon.State{coupon.Revoked}}}, ""},
		} {
			if got := ids(tc.q); got != tc.want {
				t.Errorf("ListCoupons(%+v) = %q, want %q", tc.q, got, tc.want)
			}
		}
	})
}

func TestUpdateWhere(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		createSeries(t, s, "s1")
		cs, evs := batch("s1", 0, 25)
		cs[3].State, cs[3].Holder, cs[3].Holds = coupon.Issued, "alice", 1 // used: not Unused
		if _, err := s.InsertCoupons(ctx, cs, evs); err != nil {
			t.Fatal(err)
		}
		at := t0.Add(time.Hour)
		u := store.BulkUpdate{To: coupon.Revoked, At: at, Limit: 10, EventIDPrefix: "rv-",
			Event: coupon.Event{Kind: coupon.EventRevoked, Actor: "ops", Reason: "fraud", At: at, Customer: "ignored"}}
		f := store.CouponFilter{SeriesID: "s1", States: []coupon.State{coupon.Available, coupon.Issued}, Unused: true}
		var sizes []int
		var got []coupon.Coupon
		for {
			out, err := s.UpdateWhere(ctx, f, u)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(out))
			got = append(got, out...)
			if len(out) < u.Limit {
				break
			}
		}
		if !slices.Equal(sizes, []int{10, 10, 4}) {
			t.Errorf("batches %v, want [10 10 4]", sizes)
		}
		if !slices.IsSortedFunc(got, func(a, b coupon.Coupon) int { return strings.Compare(a.ID, b.ID) }) {
			t.Error("UpdateWhere result not ordered by id")
		}
		for _, c := range got {
			if c.State != coupon.Revoked || c.Version != 2 || !c.LastStatusChange.Equal(at) {
				t.Fatalf("updated coupon %+v", c)
			}
		}
		if c, _ := s.Coupon(ctx, cs[3].ID); c.State != coupon.Issued {
			t.Error("a used coupon was revoked")
		}
		ev, _ := s.Events(ctx, store.EventQuery{CouponID: cs[0].ID})
		want := coupon.Event{ID: "rv-" + cs[0].ID, Kind: coupon.EventRevoked, CouponID: cs[0].ID, SeriesID: "s1",
			Code: cs[0].Code, Actor: "ops", Reason: "fraud", At: at}
		if len(ev) != 2 || !cmp.Equal(ev[1], want) {
			t.Errorf("events of an updated coupon: %+v", ev)
		}
		// By ids, no limit; a coupon updated to its own state keeps its
		// status change time and gains a version.
		out, err := s.UpdateWhere(ctx, store.CouponFilter{IDs: []string{cs[0].ID, cs[1].ID}},
			store.BulkUpdate{To: coupon.Revoked, At: at.Add(time.Hour), EventIDPrefix: "again-", Event: u.Event})
		if err != nil || len(out) != 2 || out[0].Version != 3 || !out[0].LastStatusChange.Equal(at) {
			t.Errorf("UpdateWhere by ids: %+v, %v", out, err)
		}
		out, err = s.UpdateWhere(ctx, store.CouponFilter{SeriesID: "none"}, u)
		if err != nil || len(out) != 0 {
			t.Errorf("nothing to update: %v, %v", out, err)
		}
	})
}

func TestExpireByTime(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		createSeries(t, s, "s1")
		var cs []coupon.Coupon
		for i := range 6 {
			c := issued(fmt.Sprintf("c%d", i), "s1", fmt.Sprintf("E%d", i), "alice")
			c.ExpiresAt = t0.Add(time.Duration(i) * time.Hour)
			cs = append(cs, c)
		}
		cs[5].ExpiresAt = time.Time{}
		mustApply(t, s, &store.Change{NewCoupons: cs})
		now := t0.Add(2 * time.Hour)
		out, err := s.UpdateWhere(ctx, store.CouponFilter{States: []coupon.State{coupon.Available, coupon.Issued}, ExpiresBefore: now},
			store.BulkUpdate{To: coupon.Expired, At: now, Limit: 100, EventIDPrefix: "x-", Event: coupon.Event{Kind: coupon.EventExpired, At: now}})
		if err != nil || len(out) != 3 || out[2].ID != "c2" {
			t.Fatalf("expired %v, %v", out, err)
		}
		if evs, _ := s.Events(ctx, store.EventQuery{Customer: "alice"}); len(evs) != 3 || evs[0].Customer != "alice" {
			t.Errorf("expiry events %+v", evs)
		}
	})
}

// TestGroupMixedFailures races changes that succeed, fail on a duplicate
// key (an error inside the group's transaction) and fail a guard, so that
// groups hold all three; each gets its own outcome and only the successes
// stay.
func TestGroupMixedFailures(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		createSeries(t, s, "s1")
		const n = 96
		cs := make([]coupon.Coupon, n)
		for i := range cs {
			cs[i] = issued(fmt.Sprintf("c%03d", i), "s1", fmt.Sprintf("G%03d", i), "alice")
		}
		mustApply(t, s, &store.Change{NewCoupons: cs})
		mustApply(t, s, &store.Change{NewRedemptions: []coupon.Redemption{{ID: "taken", CouponID: "c000", SeriesID: "s1",
			Customer: "alice", IdempotencyKey: "k", Status: coupon.StatusRedeemed, At: t0}}})
		full := store.CounterKey{Counter: limits.SeriesIssued, Series: "full"}
		mustApply(t, s, &store.Change{Bumps: []store.Bump{{Key: full, Delta: 1, At: t0}}})
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				ch := redeemChange(cs[i], fmt.Sprintf("r%03d", i), "alice", fmt.Sprintf("k%03d", i), t0, 0)
				switch i % 3 {
				case 1: // a duplicate redemption id: an error in the transaction
					ch.NewRedemptions[0].ID = "taken"
				case 2: // a guard that refuses
					ch.Bumps = append(ch.Bumps, store.Bump{Key: full, Delta: 1, At: t0,
						Guard: limits.Guard{Counter: full.Counter, Limit: 1}})
				}
				errs[i] = s.Apply(ctx, ch)
			})
		}
		wg.Wait()
		for i, err := range errs {
			var ok bool
			switch i % 3 {
			case 0:
				ok = err == nil
			case 1:
				ok = errors.Is(err, errcode.ErrAlreadyExists)
			case 2:
				var ge *store.GuardError
				ok = errors.As(err, &ge) && ge.Key == full && ge.Count.N == 1
			}
			if !ok {
				t.Errorf("change %d: %v", i, err)
			}
			c, _ := s.Coupon(ctx, cs[i].ID)
			if want := map[bool]int{true: 1, false: 0}[i%3 == 0]; c.Redemptions != want {
				t.Errorf("coupon %d: %d redemptions, want %d", i, c.Redemptions, want)
			}
		}
		if got := counts(t, s, []store.CounterKey{{Counter: limits.SeriesUses, Series: "s1"}, full}); got[0] != n/3 || got[1] != 1 {
			t.Errorf("counters %v, want [%d 1]", got, n/3)
		}
	})
}

// TestGroupCanceled cancels an Apply while it waits for its group: it
// fails with the context's error and changes nothing, and the changes
// around it go through.
func TestGroupCanceled(t *testing.T) {
	s := openSQLite(t)
	createSeries(t, s, "s1")
	// Hold the write lock so that the next group waits for it.
	hold, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	insert := func(c context.Context, id string) chan error {
		done := make(chan error, 1)
		go func() { done <- s.Apply(c, &store.Change{NewCoupons: []coupon.Coupon{available(id, "s1", id)}}) }()
		return done
	}
	first := insert(ctx, "first")
	time.Sleep(50 * time.Millisecond) // the first leads and waits for the connection
	cctx, cancel := context.WithCancel(ctx)
	canceled := insert(cctx, "canceled")
	time.Sleep(50 * time.Millisecond) // queued behind the first
	cancel()
	last := insert(ctx, "last")
	time.Sleep(20 * time.Millisecond)
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Errorf("first: %v", err)
	}
	if err := <-canceled; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v, want context.Canceled", err)
	}
	if err := <-last; err != nil {
		t.Errorf("last: %v", err)
	}
	for id, want := range map[string]bool{"first": true, "canceled": false, "last": true} {
		if _, err := s.Coupon(ctx, id); (err == nil) != want {
			t.Errorf("coupon %s stored: %v, want %v", id, err == nil, want)
		}
	}
}

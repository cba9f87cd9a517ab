package memstore

import (
	"context"
	"errors"
	"fmt"
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

// snapshot is everything a change could touch, read through the contract.
type snapshot struct {
	Coupons     []coupon.Coupon
	Redemptions []coupon.Redemption
	Counters    []store.Count
	Events      []coupon.Event
	Series      series.Series
}

func snap(t *testing.T, s *Store, keys []store.CounterKey) snapshot {
	t.Helper()
	var sn snapshot
	var err error
	if sn.Coupons, err = s.ListCoupons(ctx, store.CouponQuery{}); err != nil {
		t.Fatal(err)
	}
	if sn.Redemptions, err = s.ListRedemptions(ctx, store.RedemptionQuery{}); err != nil {
		t.Fatal(err)
	}
	sn.Counters = counts(t, s, keys...)
	if sn.Events, err = s.Events(ctx, store.EventQuery{}); err != nil {
		t.Fatal(err)
	}
	if sn.Series, err = s.Series(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	return sn
}

func TestApplyIsAtomic(t *testing.T) {
	c1 := issued("c1", "s1", "CODE1", "alice")
	c2 := available("c2", "s1", "CODE2")
	s := fill(t, c1, c2)
	mustApply(t, s, redemption(c1, "r0", "pos-0", t0, 5)) // something to keep
	c1.Version++
	c1.Redemptions++
	c1.State = coupon.Redeemed
	c1.LastStatusChange = t0

	// A change touching every part, whose last bump fails its guard.
	ch := redemption(c1, "r1", "pos-1", t0.Add(time.Hour), 5)
	ch.Series = &store.SeriesWrite{Series: testSeries("s1"), ExpectVersion: 1}
	ch.Series.Series.Name = "renamed"
	ch.NewCoupons = []coupon.Coupon{available("c3", "s1", "CODE3")}
	ch.Redemptions = []store.RedemptionUpdate{{
		Redemption:   coupon.Redemption{ID: "r0", CouponID: "c1", SeriesID: "s1", Status: coupon.StatusReversed},
		ExpectStatus: coupon.StatusRedeemed,
	}}
	last := &ch.Bumps[len(ch.Bumps)-1]
	last.Guard.Limit = 1 // the customer's series counter stands at 1
	keys := keysOf(ch.Bumps)
	before := snap(t, s, keys)

	err := s.Apply(ctx, ch)
	ge := wantErr[*store.GuardError](t, err, errcode.ErrGuardFailed)
	if ge.Key != last.Key || ge.Count != (store.Count{N: 1, Last: t0}) || ge.Guard != last.Guard {
		t.Errorf("GuardError = %+v", ge)
	}
	if diff := cmp.Diff(before, snap(t, s, keys), opts); diff != "" {
		t.Errorf("failed change wrote something (-before +after):\n%s", diff)
	}
	for i, b := range ch.Bumps {
		if b.After != (store.Count{}) {
			t.Errorf("Bumps[%d].After = %v after a failed change", i, b.After)
		}
	}
	if _, err := s.Redemption(ctx, "r1"); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("Redemption(r1) error = %v, want not found", err)
	}
	if _, err := s.RedemptionByKey(ctx, "c1", "pos-1"); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("RedemptionByKey error = %v, want not found", err)
	}
	if got, _ := s.CouponsByCode(ctx, "s1", "CODE3"); len(got) != 0 {
		t.Errorf("coupon c3 was inserted: %v", got)
	}

	// The same change within the limit applies every part.
	last.Guard.Limit = 2
	mustApply(t, s, ch)
	want := []store.Count{{N: 2, Last: t0.Add(time.Hour)}, {N: 2, Last: t0.Add(time.Hour)}, {N: 2, Last: t0.Add(time.Hour)}, {N: 2, Last: t0.Add(time.Hour)}}
	if diff := cmp.Diff(want, counts(t, s, keys...), opts); diff != "" {
		t.Errorf("counters (-want +got):\n%s", diff)
	}
	for i, b := range ch.Bumps {
		if b.After != want[i] {
			t.Errorf("Bumps[%d].After = %v, want %v", i, b.After, want[i])
		}
	}
	got, err := s.Coupon(ctx, "c1")
	if err != nil || got != ch.Coupons[0].Coupon {
		t.Errorf("Coupon(c1) = %+v, %v; want %+v", got, err, ch.Coupons[0].Coupon)
	}
	r0, _ := s.Redemption(ctx, "r0")
	r1, _ := s.RedemptionByKey(ctx, "c1", "pos-1")
	if r0.Status != coupon.StatusReversed || r1.ID != "r1" {
		t.Errorf("redemptions r0 = %+v, r1 = %+v", r0, r1)
	}
	sr, _ := s.Series(ctx, "s1")
	if sr.Name != "renamed" || sr.Version != 2 {
		t.Errorf("series = %q version %d, want renamed version 2", sr.Name, sr.Version)
	}
	if got, _ := s.CouponsByCode(ctx, "s1", "CODE3"); len(got) != 1 {
		t.Errorf("coupon c3 missing: %v", got)
	}
	evs, _ := s.Events(ctx, store.EventQuery{CouponID: "c1"})
	if len(evs) != 2 || evs[0].ID != "ev-r0" || evs[1].ID != "ev-r1" {
		t.Errorf("events of c1 = %+v", evs)
	}
}

func TestCouponVersionConflict(t *testing.T) {
	c := issued("c1", "s1", "A", "alice")
	s := fill(t, c)
	stale := redemption(c, "r1", "k1", t0, 0)
	mustApply(t, s, redemption(c, "r0", "k0", t0, 0))
	err := s.Apply(ctx, stale)
	ce := wantErr[*store.ConflictError](t, err, errcode.ErrConflict)
	if ce.Kind != "coupon" || ce.ID != "c1" {
		t.Errorf("ConflictError = %+v", ce)
	}
	// A coupon that does not exist cannot meet any expectation.
	missing := redemption(issued("nope", "s1", "B", "bob"), "r2", "k2", t0, 0)
	wantErr[*store.ConflictError](t, s.Apply(ctx, missing), errcode.ErrConflict)

	// Two updates of one coupon in one change are refused, whether the
	// second expects the first's version or the stored one.
	cur, _ := s.Coupon(ctx, "c1")
	a, b := cur, cur
	a.Version, b.Version = cur.Version+1, cur.Version+2
	for _, expect := range []int64{cur.Version + 1, cur.Version} {
		te := wantErr[*store.TwiceError](t, s.Apply(ctx, &store.Change{Coupons: []store.CouponUpdate{
			{Coupon: a, ExpectVersion: cur.Version}, {Coupon: b, ExpectVersion: expect}}}), errcode.ErrInvalidArgument)
		if te.Kind != "coupon" || te.Key != "c1" {
			t.Errorf("TwiceError = %+v", te)
		}
	}
	if got, _ := s.Coupon(ctx, "c1"); got.Version != cur.Version {
		t.Errorf("version = %d, want %d", got.Version, cur.Version)
	}
}

func TestRedemptionStatusConflict(t *testing.T) {
	c := issued("c1", "s1", "A", "alice")
	s := fill(t, c)
	mustApply(t, s, redemption(c, "r1", "k1", t0, 0))
	rev := coupon.Redemption{ID: "r1", CouponID: "c1", SeriesID: "s1", Customer: "alice", IdempotencyKey: "k1",
		Status: coupon.StatusReversed, ReversedAt: t0.Add(time.Hour)}
	err := s.Apply(ctx, &store.Change{Redemptions: []store.RedemptionUpdate{{Redemption: rev, ExpectStatus: coupon.StatusHeld}}})
	ce := wantErr[*store.ConflictError](t, err, errcode.ErrConflict)
	if ce.Kind != "redemption" || ce.ID != "r1" {
		t.Errorf("ConflictError = %+v", ce)
	}
	wantErr[*store.ConflictError](t, s.Apply(ctx, &store.Change{Redemptions: []store.RedemptionUpdate{
		{Redemption: coupon.Redemption{ID: "r9", Status: coupon.StatusReversed}, ExpectStatus: coupon.StatusRedeemed}}}), errcode.ErrConflict)
	mustApply(t, s, &store.Change{Redemptions: []store.RedemptionUpdate{{Redemption: rev, ExpectStatus: coupon.StatusRedeemed}}})
	got, _ := s.Redemption(ctx, "r1")
	if diff := cmp.Diff(rev, got, opts); diff != "" {
		t.Errorf("stored redemption (-want +got):\n%s", diff)
	}
	// Reversing twice: the second sees Reversed.
	wantErr[*store.ConflictError](t, s.Apply(ctx, &store.Change{Redemptions: []store.RedemptionUpdate{{Redemption: rev, ExpectStatus: coupon.StatusRedeemed}}}), errcode.ErrConflict)
}

func TestDuplicateRedemption(t *testing.T) {
	c := issued("c1", "s1", "A", "alice")
	d := issued("c2", "s1", "B", "bob")
	s := fill(t, c, d)
	mustApply(t, s, &store.Change{NewRedemptions: []coupon.Redemption{{ID: "r1", CouponID: "c1", SeriesID: "s1", IdempotencyKey: "pos-1", Status: coupon.StatusHeld}}})
	for name, rs := range map[string][]coupon.Redemption{
		"same key":             {{ID: "r2", CouponID: "c1", SeriesID: "s1", IdempotencyKey: "pos-1", Status: coupon.StatusRedeemed}},
		"same id":              {{ID: "r1", CouponID: "c2", SeriesID: "s1", IdempotencyKey: "pos-9", Status: coupon.StatusRedeemed}},
		"same key in a change": {{ID: "r3", CouponID: "c2", IdempotencyKey: "x"}, {ID: "r4", CouponID: "c2", IdempotencyKey: "x"}},
	} {
		ee := wantErr[*store.ExistsError](t, s.Apply(ctx, &store.Change{NewRedemptions: rs}), errcode.ErrAlreadyExists)
		if ee.Kind != "redemption" {
			t.Errorf("%s: ExistsError = %+v", name, ee)
		}
	}
	// The same key on another coupon is another redemption.
	mustApply(t, s, &store.Change{NewRedemptions: []coupon.Redemption{{ID: "r2", CouponID: "c2", SeriesID: "s1", IdempotencyKey: "pos-1", Status: coupon.StatusRedeemed}}})
	got, err := s.RedemptionByKey(ctx, "c2", "pos-1")
	if err != nil || got.ID != "r2" {
		t.Errorf("RedemptionByKey(c2, pos-1) = %q, %v", got.ID, err)
	}
	list, _ := s.ListRedemptions(ctx, store.RedemptionQuery{SeriesID: "s1"})
	if len(list) != 2 || list[0].ID != "r1" || list[1].ID != "r2" {
		t.Errorf("redemptions = %+v", list)
	}
}

func TestGuards(t *testing.T) {
	s := New()
	key := store.CounterKey{Counter: limits.CustomerSeriesUses, Series: "s1", Customer: "alice"}
	bump := func(at time.Time, g limits.Guard) error {
		return s.Apply(ctx, &store.Change{Bumps: []store.Bump{{Key: key, Delta: 1, Guard: g, At: at}}})
	}
	limit2 := limits.Guard{Counter: limits.CustomerSeriesUses, Limit: 2}
	if err := bump(t0, limit2); err != nil {
		t.Fatal(err)
	}
	if err := bump(t0.Add(time.Minute), limit2); err != nil {
		t.Fatal(err)
	}
	ge := wantErr[*store.GuardError](t, bump(t0.Add(2*time.Minute), limit2), errcode.ErrGuardFailed)
	if want := (store.Count{N: 2, Last: t0.Add(time.Minute)}); ge.Count != want || ge.Key != key {
		t.Errorf("GuardError = %+v, want count %v", ge, want)
	}

	gap := limits.Guard{Counter: limits.CustomerSeriesUses, MinGap: time.Hour}
	ge = wantErr[*store.GuardError](t, bump(t0.Add(time.Minute+59*time.Minute), gap), errcode.ErrGuardFailed)
	if ge.Count.N != 2 || ge.Guard != gap {
		t.Errorf("GuardError = %+v", ge)
	}
	if err := bump(t0.Add(61*time.Minute), gap); err != nil {
		t.Errorf("bump a full gap later: %v", err)
	}
	if got := counts(t, s, key)[0]; got != (store.Count{N: 3, Last: t0.Add(61 * time.Minute)}) {
		t.Errorf("counter = %v", got)
	}

	// An increment of two passes a limit only with room for both.
	other := store.CounterKey{Counter: limits.SeriesUses, Series: "s1"}
	one := limits.Guard{Counter: limits.SeriesUses, Limit: 1}
	ch := &store.Change{Bumps: []store.Bump{{Key: other, Delta: 2, Guard: one, At: t0}}}
	ge = wantErr[*store.GuardError](t, s.Apply(ctx, ch), errcode.ErrGuardFailed)
	if ge.Count.N != 0 {
		t.Errorf("the bump saw %v, want N 0", ge.Count)
	}
	if got := counts(t, s, other)[0]; got != (store.Count{}) {
		t.Errorf("counter after the failed change = %v, want zero", got)
	}
}

func TestDecrement(t *testing.T) {
	s := New()
	key := store.CounterKey{Counter: limits.CodeUses, Series: "s1", Code: "A"}
	mustApply(t, s, &store.Change{Bumps: []store.Bump{{Key: key, Delta: 2, At: t0}}})
	// A decrement keeps the last-increment time and checks no guard.
	ch := &store.Change{Bumps: []store.Bump{{Key: key, Delta: -1, At: t0.Add(time.Hour), Guard: limits.Guard{Limit: 1}}}}
	mustApply(t, s, ch)
	if want := (store.Count{N: 1, Last: t0}); ch.Bumps[0].After != want || counts(t, s, key)[0] != want {
		t.Errorf("after decrement: After %v, stored %v, want %v", ch.Bumps[0].After, counts(t, s, key)[0], want)
	}
	ce := wantErr[*store.ConflictError](t, s.Apply(ctx, &store.Change{Bumps: []store.Bump{{Key: key, Delta: -2}}}), errcode.ErrConflict)
	if ce.Kind != "counter" {
		t.Errorf("ConflictError = %+v", ce)
	}
	never := store.CounterKey{Counter: limits.SeriesUses, Series: "s1"}
	wantErr[*store.ConflictError](t, s.Apply(ctx, &store.Change{Bumps: []store.Bump{{Key: never, Delta: -1}}}), errcode.ErrConflict)
	if got := counts(t, s, key, never); got[0].N != 1 || got[1] != (store.Count{}) {
		t.Errorf("counters = %v", got)
	}
}

// TestSharedHolderSwap: memstore checks the (series, code, holder) keys of
// shared coupons once the whole change is applied, so two coupons may swap
// holders in one change. The store contract does not promise it (the SQL
// stores check each update on its own and refuse the swap); the storetest
// Contract group covers the unique keys every store keeps.
func TestSharedHolderSwap(t *testing.T) {
	common := func(id, holder string) coupon.Coupon {
		c := issued(id, "s1", "SUMMER", holder)
		c.Shared = true
		return c
	}
	s := fill(t, common("g1", "alice"), common("g2", "bob"))
	g1, g2 := common("g1", "bob"), common("g2", "alice")
	g1.Version, g2.Version = 3, 3
	mustApply(t, s, &store.Change{Coupons: []store.CouponUpdate{{Coupon: g1, ExpectVersion: 2}, {Coupon: g2, ExpectVersion: 2}}})
	byCode, _ := s.CouponsByCode(ctx, "s1", "SUMMER")
	holders := map[string]string{}
	for _, c := range byCode {
		holders[c.ID] = c.Holder
	}
	if diff := cmp.Diff(map[string]string{"g1": "bob", "g2": "alice"}, holders, opts); diff != "" {
		t.Errorf("holders (-want +got):\n%s", diff)
	}
	// The swapped slots are taken: a third coupon for either holder collides.
	wantErr[*store.ExistsError](t, s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{common("g3", "alice")}}), errcode.ErrAlreadyExists)
	wantErr[*store.ExistsError](t, s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{common("g4", "bob")}}), errcode.ErrAlreadyExists)
}

func TestInsertCouponsIdempotent(t *testing.T) {
	s := fill(t)
	batch := func(from, to int) ([]coupon.Coupon, []coupon.Event) {
		var cs []coupon.Coupon
		var es []coupon.Event
		for i := from; i < to; i++ {
			c := available(fmt.Sprintf("c%03d", i), "s1", fmt.Sprintf("CODE%03d", i))
			cs = append(cs, c)
			es = append(es, coupon.Event{ID: "created-" + c.ID, Kind: coupon.EventCreated, CouponID: c.ID, SeriesID: "s1", Code: c.Code, At: t0})
		}
		return cs, es
	}
	cs, es := batch(0, 10)
	if n, err := s.InsertCoupons(ctx, cs, es); n != 10 || err != nil {
		t.Fatalf("InsertCoupons = %d, %v", n, err)
	}
	if n, err := s.InsertCoupons(ctx, cs, es); n != 0 || err != nil {
		t.Fatalf("second InsertCoupons = %d, %v; want 0", n, err)
	}
	cs, es = batch(5, 15)                               // resumed with overlap
	cs = append(cs, available("c100", "s1", "CODE014")) // same key as c014 in the batch
	es = append(es, coupon.Event{ID: "created-c100", CouponID: "c100", SeriesID: "s1"})
	if n, err := s.InsertCoupons(ctx, cs, es); n != 5 || err != nil {
		t.Fatalf("overlapping InsertCoupons = %d, %v; want 5", n, err)
	}
	list, _ := s.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: "s1"}})
	if len(list) != 15 {
		t.Errorf("%d coupons, want 15", len(list))
	}
	evs, _ := s.Events(ctx, store.EventQuery{SeriesID: "s1"})
	if len(evs) != 15 {
		t.Errorf("%d events, want 15 (one per inserted coupon)", len(evs))
	}
	for i, e := range evs {
		if e.CouponID != list[i].ID {
			t.Errorf("event %d is of %q, want %q", i, e.CouponID, list[i].ID)
		}
	}
}

func TestListCoupons(t *testing.T) {
	exp := func(c coupon.Coupon, at time.Time) coupon.Coupon { c.ExpiresAt = at; return c }
	used := issued("c4", "s1", "D", "bob")
	used.Redemptions, used.State = 1, coupon.Redeemed
	s := fill(t,
		available("c1", "s1", "A"),
		exp(issued("c2", "s1", "B", "alice"), t0.Add(time.Hour)),
		exp(issued("c3", "s2", "C", "alice"), t0.Add(3*time.Hour)),
		used,
		exp(available("c5", "s1", "E"), t0.Add(2*time.Hour)),
	)
	ids := func(q store.CouponQuery) []string {
		list, err := s.ListCoupons(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range list {
			out = append(out, c.ID)
		}
		return out
	}
	f := func(f store.CouponFilter) store.CouponQuery { return store.CouponQuery{CouponFilter: f} }
	for _, tc := range []struct {
		name string
		q    store.CouponQuery
		want []string
	}{
		{"all", f(store.CouponFilter{}), []string{"c1", "c2", "c3", "c4", "c5"}},
		{"series", f(store.CouponFilter{SeriesID: "s1"}), []string{"c1", "c2", "c4", "c5"}},
		{"holder", f(store.CouponFilter{Holder: "alice"}), []string{"c2", "c3"}},
		{"holder and series", f(store.CouponFilter{Holder: "alice", SeriesID: "s2"}), []string{"c3"}},
		{"states", f(store.CouponFilter{States: []coupon.State{coupon.Available, coupon.Redeemed}}), []string{"c1", "c4", "c5"}},
		{"unused", f(store.CouponFilter{Unused: true, SeriesID: "s1"}), []string{"c1", "c2", "c5"}},
		{"expires before", f(store.CouponFilter{ExpiresBefore: t0.Add(2 * time.Hour)}), []string{"c2", "c5"}},
		{"expires after", f(store.CouponFilter{ExpiresAfter: t0.Add(time.Hour)}), []string{"c3", "c5"}},
		{"ids", f(store.CouponFilter{IDs: []string{"c5", "c1", "zz", "c1"}}), []string{"c1", "c5"}},
		{"ids and holder", f(store.CouponFilter{IDs: []string{"c1", "c2", "c3"}, Holder: "alice"}), []string{"c2", "c3"}},
		{"after", store.CouponQuery{AfterID: "c2"}, []string{"c3", "c4", "c5"}},
		{"after and limit", store.CouponQuery{AfterID: "c2", Limit: 2}, []string{"c3", "c4"}},
		{"ids after", store.CouponQuery{CouponFilter: store.CouponFilter{IDs: []string{"c1", "c3", "c5"}}, AfterID: "c1"}, []string{"c3", "c5"}},
		{"unknown holder", f(store.CouponFilter{Holder: "zoe"}), nil},
	} {
		if diff := cmp.Diff(tc.want, ids(tc.q), opts); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestUpdateWhere(t *testing.T) {
	s := fill(t)
	var cs []coupon.Coupon
	for i := range 10 {
		c := issued(fmt.Sprintf("c%d", i), "s1", fmt.Sprintf("K%d", i), fmt.Sprintf("cust%d", i%2))
		if i == 3 {
			c.State = coupon.Revoked
		}
		cs = append(cs, c)
	}
	if _, err := s.InsertCoupons(ctx, cs, nil); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)
	f := store.CouponFilter{SeriesID: "s1", States: []coupon.State{coupon.Issued}}
	u := store.BulkUpdate{To: coupon.Revoked, At: at, Limit: 4, EventIDPrefix: "revoke-1-",
		Event: coupon.Event{Kind: coupon.EventRevoked, Actor: "op", Reason: "fraud", At: at}}
	var got []string
	for round := 0; ; round++ {
		out, err := s.UpdateWhere(ctx, f, u)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) > u.Limit {
			t.Fatalf("round %d returned %d coupons, limit %d", round, len(out), u.Limit)
		}
		for _, c := range out {
			got = append(got, c.ID)
			if c.State != coupon.Revoked || c.Version != 3 || !c.LastStatusChange.Equal(at) {
				t.Errorf("updated coupon %+v", c)
			}
		}
		if len(out) < u.Limit {
			break
		}
	}
	if diff := cmp.Diff([]string{"c0", "c1", "c2", "c4", "c5", "c6", "c7", "c8", "c9"}, got, opts); diff != "" {
		t.Errorf("updated (-want +got):\n%s", diff)
	}
	c3, _ := s.Coupon(ctx, "c3")
	if c3.Version != 2 {
		t.Errorf("c3 (not matched) changed: %+v", c3)
	}
	evs, _ := s.Events(ctx, store.EventQuery{Customer: "cust1"})
	want := []coupon.Event{}
	for _, i := range []int{1, 5, 7, 9} {
		id := fmt.Sprintf("c%d", i)
		want = append(want, coupon.Event{ID: "revoke-1-" + id, Kind: coupon.EventRevoked, CouponID: id, SeriesID: "s1",
			Code: fmt.Sprintf("K%d", i), Customer: "cust1", Actor: "op", Reason: "fraud", At: at})
	}
	if diff := cmp.Diff(want, evs, opts); diff != "" {
		t.Errorf("events of cust1 (-want +got):\n%s", diff)
	}
	limited, _ := s.Events(ctx, store.EventQuery{Customer: "cust1", Limit: 2})
	if diff := cmp.Diff(want[:2], limited, opts); diff != "" {
		t.Errorf("limited events (-want +got):\n%s", diff)
	}
	// Moving to the same state still bumps the version but keeps the time.
	out, _ := s.UpdateWhere(ctx, store.CouponFilter{IDs: []string{"c0"}}, store.BulkUpdate{To: coupon.Revoked, At: at.Add(time.Hour)})
	if len(out) != 1 || out[0].Version != 4 || !out[0].LastStatusChange.Equal(at) {
		t.Errorf("same-state update = %+v", out)
	}
}

func TestConcurrentRedemptions(t *testing.T) {
	// Many goroutines redeem distinct coupons of one series under a series
	// limit while readers read: the limit holds exactly.
	const coupons, limit = 40, 25
	var cs []coupon.Coupon
	for i := range coupons {
		cs = append(cs, issued(fmt.Sprintf("c%02d", i), "s1", fmt.Sprintf("K%02d", i), fmt.Sprintf("u%d", i)))
	}
	s := fill(t, cs...)
	var wg sync.WaitGroup
	var mu sync.Mutex
	applied := 0
	for i := range coupons {
		wg.Go(func() {
			got, err := s.CouponsByCode(ctx, "s1", cs[i].Canonical)
			if err != nil || len(got) != 1 {
				t.Errorf("CouponsByCode: %v, %v", got, err)
				return
			}
			ch := redemption(got[0], fmt.Sprint("r", i), "pos", t0, 0)
			ch.Bumps[2].Guard.Limit = limit
			err = s.Apply(ctx, ch)
			if err != nil && !errors.Is(err, errcode.ErrGuardFailed) {
				t.Error(err)
			}
			mu.Lock()
			if err == nil {
				applied++
			}
			mu.Unlock()
			if _, err := s.ListRedemptions(ctx, store.RedemptionQuery{SeriesID: "s1"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	rs, _ := s.ListRedemptions(ctx, store.RedemptionQuery{SeriesID: "s1"})
	series := counts(t, s, store.CounterKey{Counter: limits.SeriesUses, Series: "s1"})[0].N
	if applied != limit || len(rs) != limit || series != limit {
		t.Errorf("applied %d, stored %d redemptions, series counter %d; want %d each", applied, len(rs), series, limit)
	}
}

func TestReturnedValuesAreCopies(t *testing.T) {
	sr := testSeries("s1")
	s := New()
	mustApply(t, s, &store.Change{Series: &store.SeriesWrite{Series: sr}, NewCoupons: []coupon.Coupon{issued("c1", "s1", "A", "alice")}})
	// Changing what was written does not change the store.
	sr.Reminders[0].Channel = "mutated"
	sr.Issuance.ExcludeSeries[0] = "mutated"
	sr.Redemption.Hours[0].From = 0
	got, _ := s.Series(ctx, "s1")
	if got.Reminders[0].Channel != "sms" || got.Issuance.ExcludeSeries[0] != "x1" || got.Redemption.Hours[0].From != 8 {
		t.Fatalf("stored series aliases the written one: %+v", got)
	}
	// Changing what was read does not either.
	got.Reminders[0].Channel = "mutated"
	got.Issuance.ExcludeSeries[1] = "mutated"
	got.Redemption.Hours[0].To = 1
	list, _ := s.ListSeries(ctx, store.SeriesQuery{})
	list[0].Reminders[0].DaysBefore = 0
	again, _ := s.Series(ctx, "s1")
	want := testSeries("s1")
	want.Version = 1
	if diff := cmp.Diff(want, again, opts); diff != "" {
		t.Errorf("series changed through a returned copy (-want +got):\n%s", diff)
	}

	cs, _ := s.ListCoupons(ctx, store.CouponQuery{})
	cs[0].Holder = "mallory"
	byCode, _ := s.CouponsByCode(ctx, "s1", "A")
	byCode[0].State = coupon.Revoked
	ev := coupon.Event{ID: "e1", CouponID: "c1", Customer: "alice", Reason: "r"}
	mustApply(t, s, &store.Change{Events: []coupon.Event{ev}})
	evs, _ := s.Events(ctx, store.EventQuery{CouponID: "c1"})
	evs[0].Reason = "mutated"
	c, _ := s.Coupon(ctx, "c1")
	evs2, _ := s.Events(ctx, store.EventQuery{Customer: "alice"})
	if c.Holder != "alice" || c.State != coupon.Issued || evs2[0].Reason != "r" {
		t.Errorf("store changed through returned values: %+v, %+v", c, evs2[0])
	}
}

func TestCanceledContext(t *testing.T) {
	s := New()
	c, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Apply(c, &store.Change{}); err == nil {
		t.Error("Apply with a canceled context succeeded")
	}
	if _, err := s.Coupon(c, "x"); err == nil || errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("Coupon with a canceled context: %v", err)
	}
}

func TestCounterLengthMismatch(t *testing.T) {
	err := New().Counters(ctx, make([]store.CounterKey, 2), make([]store.Count, 1))
	if !errors.Is(err, errcode.ErrInvalidArgument) {
		t.Errorf("error = %v", err)
	}
}

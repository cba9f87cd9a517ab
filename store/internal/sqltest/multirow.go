package sqltest

import (
	"fmt"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// issueChange is a change as Engine.IssueBatch makes it: a coupon and its
// event per customer of custs (a customer may come more than once), a bump
// of the series' issued counter by the number of coupons (limit total),
// and one of each customer's by theirs (limit 3), in the order of their
// first coupon.
func issueChange(sid string, custs []string, total limits.Limit) *store.Change {
	c := &store.Change{Bumps: []store.Bump{{Key: store.CounterKey{Counter: limits.SeriesIssued, Series: sid}, Delta: int64(len(custs)), At: t0,
		Guard: limits.Guard{Counter: limits.SeriesIssued, Limit: total}}}}
	bumpOf := map[string]int{}
	for i, cust := range custs {
		cp := Issued(fmt.Sprintf("%s-%05d", sid, i), sid, fmt.Sprintf("CODE%05d", i), cust)
		c.NewCoupons = append(c.NewCoupons, cp)
		c.Events = append(c.Events, coupon.Event{ID: "ev-" + cp.ID, Kind: coupon.EventIssued, CouponID: cp.ID, SeriesID: sid,
			Code: cp.Code, Customer: cust, Actor: "bulk", At: t0})
		if j, ok := bumpOf[cust]; ok {
			c.Bumps[j].Delta++
			continue
		}
		bumpOf[cust] = len(c.Bumps)
		c.Bumps = append(c.Bumps, store.Bump{Key: customerIssued(sid, cust), Delta: 1, At: t0,
			Guard: limits.Guard{Counter: limits.CustomerIssued, Limit: 3}})
	}
	return c
}

func customerIssued(sid, cust string) store.CounterKey {
	return store.CounterKey{Counter: limits.CustomerIssued, Series: sid, Customer: cust}
}

// bulkCustomers is 1,200 customers, the first 100 twice: more rows than
// one multi-row statement takes.
func bulkCustomers() []string {
	var custs []string
	for i := range 1200 {
		custs = append(custs, fmt.Sprintf("cust%04d", i))
		if i < 100 {
			custs = append(custs, fmt.Sprintf("cust%04d", i))
		}
	}
	return custs
}

// testApplyLargeChange applies a change of 1,300 coupons, events and 1,201
// bumps, which the store writes with multi-row statements: a guard that
// refuses in the middle of it fails all of it with the GuardError one
// statement per bump gives, and the change without that row is written
// whole, in order, with every bump's After.
func testApplyLargeChange(t *testing.T, be Backend) {
	s := be.Open(t)
	CreateSeries(t, s, "s1")
	custs := bulkCustomers()
	full := customerIssued("s1", "cust0700")
	for range 3 {
		mustApply(t, s, &store.Change{Bumps: []store.Bump{{Key: full, Delta: 1, At: t0.Add(-time.Hour)}}})
	}

	err := s.Apply(ctx, issueChange("s1", custs, 5000))
	ge := wantErr[*store.GuardError](t, err, errcode.ErrGuardFailed)
	if ge.Key != full || ge.Count.N != 3 || !ge.Count.Last.Equal(t0.Add(-time.Hour)) || ge.Guard.Limit != 3 {
		t.Errorf("guard error %+v, want cust0700's counter, seen at 3", ge)
	}
	if cs, _ := s.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: "s1"}}); len(cs) != 0 {
		t.Errorf("%d coupons of a failed change stored", len(cs))
	}
	if evs, _ := s.Events(ctx, store.EventQuery{SeriesID: "s1"}); len(evs) != 0 {
		t.Errorf("%d events of a failed change stored", len(evs))
	}
	seriesKey := store.CounterKey{Counter: limits.SeriesIssued, Series: "s1"}
	if got := Counts(t, s, []store.CounterKey{seriesKey, customerIssued("s1", "cust0000"), full}); got[0] != 0 || got[1] != 0 || got[2] != 3 {
		t.Errorf("counters after a failed change %v, want [0 0 3]", got)
	}

	// The series' limit, one below the coupons of the change: a bump
	// larger than its limit is refused whatever the counter holds.
	err = s.Apply(ctx, issueChange("s1", custs[:50], 49))
	ge = wantErr[*store.GuardError](t, err, errcode.ErrGuardFailed)
	if ge.Key != seriesKey || ge.Count != (store.Count{}) {
		t.Errorf("guard error %+v, want the series' counter, seen at zero", ge)
	}

	var ok []string
	for _, c := range custs {
		if c != "cust0700" {
			ok = append(ok, c)
		}
	}
	ch := issueChange("s1", ok, limits.Limit(len(ok)))
	mustApply(t, s, ch)
	for i, b := range ch.Bumps {
		if b.After.N != b.Delta || !b.After.Last.Equal(t0) {
			t.Fatalf("bump %d (%+v) After %+v, want %d at %v", i, b.Key, b.After, b.Delta, t0)
		}
	}
	cs, err := s.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: "s1"}})
	if err != nil || len(cs) != len(ok) {
		t.Fatalf("%d coupons, %v; want %d", len(cs), err, len(ok))
	}
	evs, err := s.Events(ctx, store.EventQuery{SeriesID: "s1"})
	if err != nil || len(evs) != len(ok) {
		t.Fatalf("%d events, %v; want %d", len(evs), err, len(ok))
	}
	for i := range evs {
		if evs[i] != ch.Events[i] {
			t.Fatalf("event %d is %+v, want %+v: events are stored in the change's order", i, evs[i], ch.Events[i])
		}
	}
	wantLargeChangeCounters(t, s, len(ok))
}

// wantLargeChangeCounters checks every customer's counter after
// testApplyLargeChange's change of issued coupons (the first 100 customers
// twice, cust0700 three times before), and one never bumped, read at
// once.
func wantLargeChangeCounters(t *testing.T, s Store, issued int) {
	t.Helper()
	keys := []store.CounterKey{customerIssued("s1", "nobody"), {Counter: limits.SeriesIssued, Series: "s1"}}
	for i := range 1200 {
		keys = append(keys, customerIssued("s1", fmt.Sprintf("cust%04d", i)))
	}
	got := Counts(t, s, keys)
	for i, n := range got {
		want := int64(1)
		switch {
		case i == 0:
			want = 0
		case i == 1:
			want = int64(issued)
		case i-2 < 100:
			want = 2
		case i-2 == 700:
			want = 3
		}
		if n != want {
			t.Errorf("counter %+v = %d, want %d", keys[i], n, want)
		}
	}
}

// testApplyLargeChangeNamesRow checks that a multi-row insert refused by a
// constraint fails the change with the error a row at a time gives, naming
// the row, and writes nothing.
func testApplyLargeChangeNamesRow(t *testing.T, be Backend) {
	s := be.Open(t)
	CreateSeries(t, s, "s1")
	mustApply(t, s, &store.Change{NewCoupons: []coupon.Coupon{Issued("old", "s1", "CODE00250", "alice")}})
	custs := bulkCustomers()[:300]

	err := s.Apply(ctx, issueChange("s1", custs, 0)) // coupon 250 has an existing code
	if ee := wantErr[*store.ExistsError](t, err, errcode.ErrAlreadyExists); ee.Kind != "coupon" || ee.Key != "s1/CODE00250" {
		t.Errorf("exists error %+v, want coupon s1/CODE00250", ee)
	}

	ch := issueChange("s1", custs, 0)
	ch.NewCoupons[280].Code, ch.NewCoupons[280].Canonical = "CODE00007", "CODE00007" // twice in the change
	ch.NewCoupons[250].Code, ch.NewCoupons[250].Canonical = "FREE", "FREE"
	err = s.Apply(ctx, ch)
	if ee := wantErr[*store.ExistsError](t, err, errcode.ErrAlreadyExists); ee.Kind != "coupon" || ee.Key != "s1/CODE00007" {
		t.Errorf("exists error %+v, want coupon s1/CODE00007", ee)
	}

	ch.NewCoupons[280].Code, ch.NewCoupons[280].Canonical = "FREE2", "FREE2"
	ch.NewCoupons[260].ID = "old"
	err = s.Apply(ctx, ch)
	// (The key names the id on PostgreSQL; on SQLite, whose message
	// constraint does not parse for the primary key, the coupon's
	// unique key, as a row at a time has always done.)
	if ee := wantErr[*store.ExistsError](t, err, errcode.ErrAlreadyExists); ee.Kind != "coupon" || (ee.Key != "old" && ee.Key != "s1/CODE00260") {
		t.Errorf("exists error %+v, want coupon old", ee)
	}

	ch.NewCoupons[260].ID = "new260"
	ch.NewCoupons[10].SeriesID = "nope"
	err = s.Apply(ctx, ch)
	wantErr[*errcode.Error](t, err, errcode.ErrNotFound)

	ch.NewCoupons[10].SeriesID = "s1"
	ch.NewRedemptions = []coupon.Redemption{
		{ID: "r1", CouponID: "old", SeriesID: "s1", Customer: "alice", IdempotencyKey: "k1", Status: coupon.StatusRedeemed, At: t0},
		{ID: "r2", CouponID: "old", SeriesID: "s1", Customer: "alice", IdempotencyKey: "k1", Status: coupon.StatusRedeemed, At: t0},
	}
	err = s.Apply(ctx, ch)
	if ee := wantErr[*store.ExistsError](t, err, errcode.ErrAlreadyExists); ee.Kind != "redemption" || ee.Key != "old/k1" {
		t.Errorf("exists error %+v, want redemption old/k1", ee)
	}

	if cs, _ := s.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: "s1"}}); len(cs) != 1 {
		t.Errorf("%d coupons after failed changes, want 1", len(cs))
	}
	if evs, _ := s.Events(ctx, store.EventQuery{SeriesID: "s1"}); len(evs) != 0 {
		t.Errorf("%d events after failed changes, want 0", len(evs))
	}
	if got := Counts(t, s, []store.CounterKey{{Counter: limits.SeriesIssued, Series: "s1"}}); got[0] != 0 {
		t.Errorf("series counter %d after failed changes, want 0", got[0])
	}

	ch.NewRedemptions[1].IdempotencyKey = "k2"
	mustApply(t, s, ch)
	if cs, _ := s.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: "s1"}}); len(cs) != 301 {
		t.Errorf("%d coupons, want 301", len(cs))
	}
	if rs, _ := s.ListRedemptions(ctx, store.RedemptionQuery{CouponID: "old"}); len(rs) != 2 {
		t.Errorf("%d redemptions, want 2", len(rs))
	}
}

// testWithTxLargeChange checks that a large change that fails inside a
// caller's transaction is undone alone, and one that passes is kept.
func testWithTxLargeChange(t *testing.T, be Backend) {
	s := be.Open(t)
	CreateSeries(t, s, "s1")
	custs := bulkCustomers()[:400]
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ts := s.WithTx(tx)
	err = ts.Apply(ctx, issueChange("s1", custs, 399))
	if ge := wantErr[*store.GuardError](t, err, errcode.ErrGuardFailed); ge.Count.N != 0 || ge.Key.Counter != limits.SeriesIssued {
		t.Errorf("guard error %+v, want the series' counter seen at 0", ge)
	}
	dup := issueChange("s1", custs, 0)
	dup.NewCoupons[300].Code, dup.NewCoupons[300].Canonical = "CODE00001", "CODE00001"
	err = ts.Apply(ctx, dup)
	wantErr[*store.ExistsError](t, err, errcode.ErrAlreadyExists)
	mustApply(t, ts, issueChange("s1", custs, 400))
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if cs, _ := s.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: "s1"}}); len(cs) != 400 {
		t.Errorf("%d coupons, want 400", len(cs))
	}
	if evs, _ := s.Events(ctx, store.EventQuery{SeriesID: "s1"}); len(evs) != 400 {
		t.Errorf("%d events, want 400", len(evs))
	}
	if got := Counts(t, s, []store.CounterKey{{Counter: limits.SeriesIssued, Series: "s1"}, customerIssued("s1", "cust0000")}); got[0] != 400 || got[1] != 2 {
		t.Errorf("counters %v, want [400 2]", got)
	}
}

// testCountersManyKeys reads many counters at once (a bulk batch reads one
// per customer), keys with NUL bytes and backslashes and keys never bumped
// among them, in more than one statement: each reads as it does alone.
func testCountersManyKeys(t *testing.T, be Backend) {
	s := be.Open(t)
	var keys []store.CounterKey
	for i := range 700 {
		k := store.CounterKey{Counter: limits.CustomerIssued, Series: "s\\1", Customer: fmt.Sprintf("c\x00%d", i)}
		if i%3 == 0 {
			k = store.CounterKey{Counter: limits.CodeUses, Series: "s\\1", Code: fmt.Sprintf("X\\0%d", i)}
		}
		keys = append(keys, k)
	}
	var ch store.Change
	for i, k := range keys {
		if i%4 > 0 { // 0: never bumped
			ch.Bumps = append(ch.Bumps, store.Bump{Key: k, Delta: int64(i % 4), At: t0.Add(time.Duration(i) * time.Second)})
		}
	}
	mustApply(t, s, &ch)
	want := make([]int64, len(keys))
	for i := range want {
		want[i] = int64(i % 4)
	}
	keys = append(keys, keys[5], keys[1]) // twice, and out of order
	want = append(want, 1, 1)
	all := make([]store.Count, len(keys))
	if err := s.Counters(ctx, keys, all); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		one := make([]store.Count, 1)
		if err := s.Counters(ctx, []store.CounterKey{k}, one); err != nil {
			t.Fatal(err)
		}
		if all[i].N != one[0].N || !all[i].Last.Equal(one[0].Last) || all[i].N != want[i] {
			t.Errorf("key %d (%q): %+v read with others, %+v alone, want %d", i, k, all[i], one[0], want[i])
		}
	}
}

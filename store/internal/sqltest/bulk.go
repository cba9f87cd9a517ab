package sqltest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

func batch(sid string, from, n int) ([]coupon.Coupon, []coupon.Event) {
	var cs []coupon.Coupon
	var evs []coupon.Event
	for i := from; i < from+n; i++ {
		id := fmt.Sprintf("%s-c%06d", sid, i)
		cs = append(cs, Available(id, sid, fmt.Sprintf("CODE%06d", i)))
		evs = append(evs, coupon.Event{ID: "ev-" + id, Kind: coupon.EventCreated, CouponID: id, SeriesID: sid,
			Code: fmt.Sprintf("CODE%06d", i), At: t0})
	}
	return cs, evs
}

func testInsertCouponsIdempotent(t *testing.T, be Backend) {
	s := be.Open(t)
	CreateSeries(t, s, "s1")
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
	dupID := Available("s1-c000000", "s1", "FRESHCODE") // id taken
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
	_, err = s.InsertCoupons(ctx, []coupon.Coupon{Available("", "s1", "X")}, nil)
	wantErr[*errcode.Error](t, err, errcode.ErrInvalidArgument)
}

func testListCouponsFilters(t *testing.T, be Backend) {
	s := be.Open(t)
	CreateSeries(t, s, "s1", "s2")
	a := Issued("a", "s1", "A", "alice")
	a.ExpiresAt = t0.Add(time.Hour)
	b := Issued("b", "s1", "B", "alice")
	b.Redemptions, b.State, b.ExpiresAt = 1, coupon.Redeemed, time.Time{}
	c := Available("c", "s1", "C")
	d := Issued("d", "s2", "D", "bob")
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
}

func testUpdateWhere(t *testing.T, be Backend) {
	s := be.Open(t)
	CreateSeries(t, s, "s1")
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
}

func testExpireByTime(t *testing.T, be Backend) {
	s := be.Open(t)
	CreateSeries(t, s, "s1")
	var cs []coupon.Coupon
	for i := range 6 {
		c := Issued(fmt.Sprintf("c%d", i), "s1", fmt.Sprintf("E%d", i), "alice")
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
}

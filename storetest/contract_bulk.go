package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

// The store contract's bulk methods: InsertCoupons skips what is taken, so
// that a batch runs twice safely, and UpdateWhere moves at most Limit
// coupons a call, in id order, each with its event.

func testContractInsert(t *testing.T, e *env) {
	e.putRawSeries("s1")
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
	e.putRawSeries("s1", "s2")
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

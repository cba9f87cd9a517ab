package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// The store contract's reads: every field of the list queries, order by id
// (events in the order applied), paging, and the optional interfaces
// agreeing with the plain reads.

func testContractListCoupons(t *testing.T, e *env) {
	e.putRawSeries("s1")
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
	e.putRawSeries("s1", "s2")
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
	e.putRawSeries("s1", "s2")
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
	e.putRawSeries("s1")
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

// A store that implements store.CouponsByCodeAppender appends exactly what
// CouponsByCode returns, after what dst already holds.
func testContractAppendByCode(t *testing.T, e *env) {
	a, ok := e.st.(store.CouponsByCodeAppender)
	if !ok {
		t.Skip("the store does not implement store.CouponsByCodeAppender")
	}
	e.putRawSeries("s1")
	e.putRawSeries("s2")
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

// testContractRedemptionsByCustomer checks RedemptionQuery.Customer, alone
// and with the other fields, and that it follows an update of a record's
// customer.
func testContractRedemptionsByCustomer(t *testing.T, e *env) {
	e.putRawSeries("s1", "s2")
	x := rawIssued("x", "s1", "X", alice)
	y := rawIssued("y", "s2", "Y", bob)
	e.apply(&store.Change{NewCoupons: []coupon.Coupon{x, y}})
	mk := func(id, cid, sid, cust string, st coupon.RedemptionStatus) coupon.Redemption {
		r := coupon.Redemption{ID: id, CouponID: cid, SeriesID: sid, Customer: cust, IdempotencyKey: id, Status: st, At: t0}
		if st == coupon.StatusHeld {
			r.HoldExpiresAt = t0.Add(time.Hour)
		}
		return r
	}
	moved := mk("r4", "x", "s1", carol, coupon.StatusHeld)
	e.apply(&store.Change{NewRedemptions: []coupon.Redemption{
		mk("r3", "x", "s1", bob, coupon.StatusRedeemed), mk("r1", "x", "s1", alice, coupon.StatusRedeemed),
		mk("r2", "y", "s2", alice, coupon.StatusHeld), moved, mk("r5", "x", "s1", alice, coupon.StatusReversed),
	}})
	ids := func(q store.RedemptionQuery) []string {
		got, err := e.st.ListRedemptions(e.ctx, q)
		mustOK(t, err, "ListRedemptions")
		return idsOf(got, func(r coupon.Redemption) string { return r.ID })
	}
	same(t, ids(store.RedemptionQuery{Customer: alice}), []string{"r1", "r2", "r5"}, "the redemptions of a customer, in every series, ordered by id")
	same(t, ids(store.RedemptionQuery{Customer: alice, SeriesID: "s1"}), []string{"r1", "r5"}, "the redemptions of a customer in a series")
	same(t, ids(store.RedemptionQuery{Customer: alice, Status: coupon.StatusHeld}), []string{"r2"}, "the holds of a customer")
	same(t, ids(store.RedemptionQuery{Customer: bob, CouponID: "x"}), []string{"r3"}, "the redemptions of a customer of one coupon")
	same(t, ids(store.RedemptionQuery{Customer: dave}), []string(nil), "a customer with no redemption has none")
	same(t, ids(store.RedemptionQuery{Customer: alice, Limit: 1}), []string{"r1"}, "Limit caps a customer's redemptions, in id order")
	to := moved
	to.Customer = alice
	e.apply(&store.Change{Redemptions: []store.RedemptionUpdate{{Redemption: to, ExpectStatus: coupon.StatusHeld}}})
	same(t, ids(store.RedemptionQuery{Customer: alice, SeriesID: "s1"}), []string{"r1", "r4", "r5"}, "a record whose customer an update changed is listed under the new one")
	same(t, ids(store.RedemptionQuery{Customer: carol}), []string(nil), "and no longer under the old one")
}

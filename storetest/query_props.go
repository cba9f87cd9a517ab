package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// propertyChecks is how many random cases a contract property runs: 100,
// or 20 with -short or Sizes.Short. An explicit -rapid.checks flag
// or RAPID_CHECKS wins.
func (e *env) propertyChecks() int {
	if e.sizes.Short || testing.Short() {
		return 20
	}
	return 100
}

// testPropertyQueriesMatch: what a store lists is what the query types'
// Match methods keep (store.SeriesQuery, store.CouponFilter,
// store.RedemptionQuery, store.EventQuery), one definition for every
// store, however it filters (in Go, or by a WHERE clause): ListSeries,
// ListCoupons (after AfterID, in id order, at most Limit), ListRedemptions
// (in id order, at most Limit), Events (in the order applied, at most
// Limit) and the coupons UpdateWhere moves (the first Limit that match, in
// id order). Each case stores random series, coupons, redemptions and
// events of its own, with field values drawn from small sets so that the
// bounds of the filters are met, and runs random queries over them.
func testPropertyQueriesMatch(t *testing.T, e *env) {
	var n atomic.Int64
	withRapidFlags(e.propertyChecks(), 0, func() {
		rapid.Check(t, func(rt *rapid.T) {
			q := newQueryCase(rt, e, fmt.Sprintf("q%d-", n.Add(1)))
			for range rapid.IntRange(1, 4).Draw(rt, "queries") {
				q.checkSeries()
				q.checkCoupons()
				q.checkRedemptions()
				q.checkEvents()
			}
			q.checkUpdateWhere()
		})
	})
}

// queryCase is one case of testPropertyQueriesMatch: the records it stored.
type queryCase struct {
	t       *rapid.T
	e       *env
	prefix  string
	series  []series.Series
	coupons []coupon.Coupon
	reds    []coupon.Redemption
	events  []coupon.Event
}

// The values a case draws its fields from.
var (
	qTimes     = []time.Time{{}, t0.Add(-time.Hour), t0, t0.Add(time.Hour), t0.Add(2 * time.Hour)}
	qCustomers = []string{"", alice, bob, carol}
	qPlaces    = []limits.PlaceRef{{Kind: limits.Till, ID: "t1"}, {Kind: limits.Store, ID: "t1"}, {Kind: limits.Zone, ID: "north"}}
	qStates    = []coupon.State{coupon.Available, coupon.Issued, coupon.Redeemed, coupon.Expired, coupon.Revoked}
	qStatuses  = []coupon.RedemptionStatus{coupon.StatusHeld, coupon.StatusRedeemed, coupon.StatusReleased, coupon.StatusReversed}
)

func newQueryCase(rt *rapid.T, e *env, prefix string) *queryCase {
	q := &queryCase{t: rt, e: e, prefix: prefix}
	for i := range rapid.IntRange(1, 3).Draw(rt, "series") {
		s := rawSeries(fmt.Sprintf("%ss%d", prefix, i))
		s.Status = rapid.SampledFrom([]series.Status{series.Active, series.Paused, series.Ended}).Draw(rt, "status")
		var refs []limits.PlaceRef
		for _, p := range qPlaces {
			if rapid.IntRange(0, 2).Draw(rt, "place") == 0 {
				refs = append(refs, p)
			}
		}
		s.Redemption.Places = limits.NewPlaceSet(refs...)
		q.series = append(q.series, s)
	}
	var ch store.Change
	for i := range rapid.IntRange(0, 12).Draw(rt, "coupons") {
		c := q.drawCoupon(i)
		ch.NewCoupons = append(ch.NewCoupons, c)
		q.coupons = append(q.coupons, c)
	}
	for i := range rapid.IntRange(0, 8).Draw(rt, "redemptions") {
		if len(q.coupons) == 0 {
			break
		}
		c := rapid.SampledFrom(q.coupons).Draw(rt, "redeemed")
		r := coupon.Redemption{ID: fmt.Sprintf("%sr%02d", prefix, i), CouponID: c.ID, SeriesID: c.SeriesID,
			Customer: rapid.SampledFrom(qCustomers[1:]).Draw(rt, "customer"), IdempotencyKey: fmt.Sprintf("k%d", i),
			Status: rapid.SampledFrom(qStatuses).Draw(rt, "status"), At: t0, HoldExpiresAt: rapid.SampledFrom(qTimes).Draw(rt, "holdExpires")}
		ch.NewRedemptions = append(ch.NewRedemptions, r)
		q.reds = append(q.reds, r)
	}
	for i := range rapid.IntRange(0, 8).Draw(rt, "events") {
		ev := coupon.Event{ID: fmt.Sprintf("%se%02d", prefix, i), Kind: coupon.EventIssued, At: t0,
			SeriesID: rapid.SampledFrom(q.series).Draw(rt, "eventSeries").ID, Customer: rapid.SampledFrom(qCustomers).Draw(rt, "eventCustomer")}
		if len(q.coupons) > 0 && rapid.Bool().Draw(rt, "ofCoupon") {
			ev.CouponID = rapid.SampledFrom(q.coupons).Draw(rt, "eventCoupon").ID
		}
		ch.Events = append(ch.Events, ev)
		q.events = append(q.events, ev)
	}
	for i := range q.series {
		q.ok(e.st.Apply(e.ctx, &store.Change{Series: &store.SeriesWrite{Series: q.series[i]}}), "storing a series")
		q.series[i].Version = 1
	}
	q.ok(e.st.Apply(e.ctx, &ch), "storing a case's records")
	return q
}

// drawCoupon draws the i-th coupon of the case.
func (q *queryCase) drawCoupon(i int) coupon.Coupon {
	rt := q.t
	id := fmt.Sprintf("%sc%02d", q.prefix, i)
	c := coupon.Coupon{ID: id, SeriesID: rapid.SampledFrom(q.series).Draw(rt, "couponSeries").ID,
		Code: "C" + id, Canonical: "C" + strings.ToUpper(id), State: rapid.SampledFrom(qStates).Draw(rt, "state"),
		CreatedAt: t0, ExpiresAt: rapid.SampledFrom(qTimes).Draw(rt, "expires"), LastStatusChange: t0, Version: 1,
		Redemptions: rapid.IntRange(0, 1).Draw(rt, "uses"), Holds: rapid.IntRange(0, 1).Draw(rt, "holds")}
	if c.State != coupon.Available {
		c.Holder, c.IssuedAt, c.Version = rapid.SampledFrom(qCustomers[1:]).Draw(rt, "holder"), t0, 2
	}
	if rapid.Bool().Draw(rt, "keyed") {
		c.IssueKey = fmt.Sprintf("key%d", rapid.IntRange(0, 2).Draw(rt, "issueKey")) + id
	}
	return c
}

// drawFilter draws a coupon filter of one of the case's series, or of
// some of its coupons' ids (which, unlike the other fields, may reach
// beyond the case: ids are the case's own).
func (q *queryCase) drawFilter() store.CouponFilter {
	rt := q.t
	var f store.CouponFilter
	ids := make([]string, len(q.coupons))
	for i := range q.coupons {
		ids[i] = q.coupons[i].ID
	}
	if len(ids) > 0 && rapid.IntRange(0, 3).Draw(rt, "byIDs") == 0 {
		f.IDs = rapid.SliceOfNDistinct(rapid.SampledFrom(ids), 1, 4, rapid.ID[string]).Draw(rt, "ids")
	} else {
		f.SeriesID = rapid.SampledFrom(q.series).Draw(rt, "filterSeries").ID
	}
	if rapid.IntRange(0, 2).Draw(rt, "byHolder") == 0 {
		f.Holder = rapid.SampledFrom(qCustomers[1:]).Draw(rt, "filterHolder")
	}
	if rapid.Bool().Draw(rt, "byStates") {
		f.States = rapid.SliceOfN(rapid.SampledFrom(qStates), 1, 3).Draw(rt, "states")
	}
	f.Unused = rapid.IntRange(0, 3).Draw(rt, "unused") == 0
	f.ExpiresBefore = rapid.SampledFrom(qTimes).Draw(rt, "expiresBefore")
	f.ExpiresAfter = rapid.SampledFrom(qTimes).Draw(rt, "expiresAfter")
	if len(q.coupons) > 0 && rapid.IntRange(0, 3).Draw(rt, "byIssueKeys") == 0 {
		var keys []string
		for _, c := range rapid.SliceOfN(rapid.SampledFrom(q.coupons), 1, 3).Draw(rt, "issueKeysOf") {
			keys = append(keys, c.IssueKey) // "" for a coupon issued without one
		}
		f.IssueKeys = keys
	}
	return f
}

// ok stops the case when err is not nil.
func (q *queryCase) ok(err error, what string) {
	if err != nil {
		q.t.Fatalf("%s: %v", what, err)
	}
}

// fail reports a list that differs from the one the rule gives.
func (q *queryCase) fail(what string, query any, got, want []string) {
	q.t.Fatalf("%s %+v lists %v; the query's Match keeps %v", what, query, got, want)
}

func (q *queryCase) checkSeries() {
	rt := q.t
	var sq store.SeriesQuery
	if rapid.Bool().Draw(rt, "byStatus") {
		sq.Status = rapid.SampledFrom([]series.Status{series.Active, series.Paused, series.Ended}).Draw(rt, "seriesStatus")
	}
	if rapid.Bool().Draw(rt, "byPlace") {
		p := rapid.SampledFrom(qPlaces).Draw(rt, "seriesPlace")
		sq.Place = &p
	}
	got, err := q.e.st.ListSeries(q.e.ctx, sq)
	q.ok(err, "ListSeries")
	var have, want []string
	for i := range got {
		if strings.HasPrefix(got[i].ID, q.prefix) { // the case's series, among others
			have = append(have, got[i].ID)
		}
	}
	for i := range q.series {
		if sq.Match(&q.series[i]) {
			want = append(want, q.series[i].ID)
		}
	}
	if !slices.Equal(have, want) {
		q.fail("ListSeries", sq, have, want)
	}
}

func (q *queryCase) checkCoupons() {
	rt := q.t
	cq := store.CouponQuery{CouponFilter: q.drawFilter(), Limit: rapid.IntRange(0, 4).Draw(rt, "limit")}
	if len(q.coupons) > 0 && rapid.IntRange(0, 3).Draw(rt, "paged") == 0 {
		cq.AfterID = rapid.SampledFrom(q.coupons).Draw(rt, "afterID").ID
	}
	got, err := q.e.st.ListCoupons(q.e.ctx, cq)
	q.ok(err, "ListCoupons")
	var want []string
	for i := range q.coupons {
		if c := &q.coupons[i]; c.ID > cq.AfterID && cq.CouponFilter.Match(c) {
			want = append(want, c.ID)
		}
	}
	slices.Sort(want)
	if cq.Limit > 0 && len(want) > cq.Limit {
		want = want[:cq.Limit]
	}
	if have := couponIDs(got); !slices.Equal(have, want) {
		q.fail("ListCoupons", cq, have, want)
	}
}

func (q *queryCase) checkRedemptions() {
	rt := q.t
	var rq store.RedemptionQuery
	if len(q.coupons) > 0 && rapid.IntRange(0, 2).Draw(rt, "byCoupon") == 0 {
		rq.CouponID = rapid.SampledFrom(q.coupons).Draw(rt, "redemptionsOf").ID
	} else {
		rq.SeriesID = rapid.SampledFrom(q.series).Draw(rt, "redemptionSeries").ID
	}
	if rapid.IntRange(0, 2).Draw(rt, "byCustomer") == 0 {
		rq.Customer = rapid.SampledFrom(qCustomers[1:]).Draw(rt, "redeemer")
	}
	if rapid.Bool().Draw(rt, "byRedemptionStatus") {
		rq.Status = rapid.SampledFrom(qStatuses).Draw(rt, "redemptionStatus")
	}
	rq.HoldExpiresBefore = rapid.SampledFrom(qTimes).Draw(rt, "holdExpiresBefore")
	rq.Limit = rapid.IntRange(0, 3).Draw(rt, "redemptionLimit")
	got, err := q.e.st.ListRedemptions(q.e.ctx, rq)
	q.ok(err, "ListRedemptions")
	var have, want []string
	for i := range got {
		have = append(have, got[i].ID)
	}
	for i := range q.reds {
		if rq.Match(&q.reds[i]) {
			want = append(want, q.reds[i].ID)
		}
	}
	slices.Sort(want)
	if rq.Limit > 0 && len(want) > rq.Limit {
		want = want[:rq.Limit]
	}
	if !slices.Equal(have, want) {
		q.fail("ListRedemptions", rq, have, want)
	}
}

func (q *queryCase) checkEvents() {
	rt := q.t
	eq := store.EventQuery{SeriesID: rapid.SampledFrom(q.series).Draw(rt, "eventsOf").ID, Limit: rapid.IntRange(0, 3).Draw(rt, "eventLimit")}
	if rapid.IntRange(0, 2).Draw(rt, "eventsByCustomer") == 0 {
		eq.Customer = rapid.SampledFrom(qCustomers[1:]).Draw(rt, "eventsCustomer")
	}
	if len(q.coupons) > 0 && rapid.IntRange(0, 2).Draw(rt, "eventsByCoupon") == 0 {
		eq.CouponID = rapid.SampledFrom(q.coupons).Draw(rt, "eventsCoupon").ID
	}
	got, err := q.e.st.Events(q.e.ctx, eq)
	q.ok(err, "Events")
	var have, want []string
	for i := range got {
		have = append(have, got[i].ID)
	}
	for i := range q.events {
		if eq.Match(&q.events[i]) && (eq.Limit == 0 || len(want) < eq.Limit) {
			want = append(want, q.events[i].ID)
		}
	}
	if !slices.Equal(have, want) {
		q.fail("Events", eq, have, want)
	}
}

// checkUpdateWhere revokes the coupons of a random filter, at most a random
// limit of them: the first that match, in id order.
func (q *queryCase) checkUpdateWhere() {
	rt := q.t
	f := q.drawFilter()
	u := store.BulkUpdate{To: coupon.Revoked, At: t0.Add(time.Minute), Limit: rapid.IntRange(0, 4).Draw(rt, "updateLimit"),
		Event: coupon.Event{Kind: coupon.EventRevoked, At: t0.Add(time.Minute)}, EventIDPrefix: q.prefix + "rv-"}
	got, err := q.e.st.UpdateWhere(q.e.ctx, f, u)
	q.ok(err, "UpdateWhere")
	var want []string
	for i := range q.coupons {
		if f.Match(&q.coupons[i]) {
			want = append(want, q.coupons[i].ID)
		}
	}
	slices.Sort(want)
	if u.Limit > 0 && len(want) > u.Limit {
		want = want[:u.Limit]
	}
	if have := couponIDs(got); !slices.Equal(have, want) {
		q.fail("UpdateWhere", f, have, want)
	}
}

func couponIDs(cs []coupon.Coupon) []string {
	var ids []string
	for i := range cs {
		ids = append(ids, cs[i].ID)
	}
	return ids
}

package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// keyed returns an Issued coupon (version 2) held by holder, issued with
// the issue key key.
func keyed(id, seriesID, code, holder, key string) coupon.Coupon {
	c := rawIssued(id, seriesID, code, holder)
	c.IssueKey = key
	return c
}

// testContractIssueKeys checks the issue keys of coupons: unique within a
// series when set, whether a coupon is inserted with one or an Available
// coupon is issued with one; found by CouponFilter.IssueKeys; skipped by
// InsertCoupons when taken.
func testContractIssueKeys(t *testing.T, e *env) {
	e.seedSeries("s1", "s2")
	pool, _ := rawCoupon("p", "s1", "P")
	pool2, _ := rawCoupon("p2", "s1", "P2")
	e.apply(&store.Change{NewCoupons: []coupon.Coupon{
		keyed("a", "s1", "A", alice, "k1"), keyed("b", "s2", "B", bob, "k1"), rawIssued("c", "s1", "C", carol), pool, pool2}})
	issuedFromPool := func(c coupon.Coupon, holder, key string) coupon.Coupon {
		out, _, err := coupon.Issue(c, holder, t0, time.Time{}, "test")
		if err != nil {
			t.Fatal(err)
		}
		out.IssueKey = key
		return out
	}
	k := key(limits.SeriesIssued, "s1", "", "")
	for _, tc := range []struct {
		what string
		ch   store.Change
	}{
		{"a coupon insert with the issue key of another coupon of the series",
			store.Change{NewCoupons: []coupon.Coupon{keyed("a2", "s1", "A2", bob, "k1")}}},
		{"two coupon inserts with one issue key in one change",
			store.Change{NewCoupons: []coupon.Coupon{keyed("n1", "s1", "N1", alice, "k2"), keyed("n2", "s1", "N2", bob, "k2")}}},
		{"an Available coupon issued with the issue key of another coupon of the series",
			store.Change{Coupons: []store.CouponUpdate{{Coupon: issuedFromPool(pool, bob, "k1"), ExpectVersion: 1}}}},
		{"two Available coupons issued with one issue key in one change",
			store.Change{Coupons: []store.CouponUpdate{{Coupon: issuedFromPool(pool, bob, "k5"), ExpectVersion: 1},
				{Coupon: issuedFromPool(pool2, bob, "k5"), ExpectVersion: 1}}}},
	} {
		tc.ch.Bumps = []store.Bump{{Key: k, Delta: 1, At: t0}}
		err := e.st.Apply(e.ctx, &tc.ch)
		wantCode(t, err, errcode.AlreadyExists, "%s must fail the change with AlreadyExists", tc.what)
		var ex *store.ExistsError
		if errors.As(err, &ex) && ex.Kind != "issue" {
			t.Errorf("%s: the *store.ExistsError is of kind %q, want \"issue\"", tc.what, ex.Kind)
		} else if err != nil && ex == nil {
			t.Errorf("%s: the error must be a *store.ExistsError: %T", tc.what, err)
		}
		if c := e.count(k); c.N != 0 {
			t.Errorf("%s: the failed change must not bump its counter", tc.what)
		}
	}
	for _, id := range []string{"a2", "n1", "n2"} {
		_, err := e.st.Coupon(e.ctx, id)
		wantCode(t, err, errcode.NotFound, "a change whose issue key collides inserts nothing (%s)", id)
	}
	if p := e.stored("p"); p.State != coupon.Available || p.IssueKey != "" {
		t.Errorf("a change whose issue key collides updates nothing: %+v", p)
	}

	// Keys that do not collide: a new key, the same key in another series
	// (above), and coupons without a key.
	err := e.st.Apply(e.ctx, &store.Change{
		Coupons:    []store.CouponUpdate{{Coupon: issuedFromPool(pool, bob, "k3"), ExpectVersion: 1}},
		NewCoupons: []coupon.Coupon{rawIssued("u1", "s1", "U1", dave), rawIssued("u2", "s1", "U2", dave)}})
	wantOK(t, err, "an Available coupon issued with a new key, and two coupons without a key, do not collide")
	if p := e.stored("p"); p.IssueKey != "k3" || p.Holder != bob {
		t.Errorf("a coupon issued with a key keeps it: %+v", p)
	}

	ids := func(f store.CouponFilter) []string {
		cs, err := e.st.ListCoupons(e.ctx, store.CouponQuery{CouponFilter: f})
		mustOK(t, err, "ListCoupons")
		return idsOf(cs, func(c coupon.Coupon) string { return c.ID })
	}
	same(t, ids(store.CouponFilter{SeriesID: "s1", IssueKeys: []string{"k3", "k1", "none", "k1"}}), []string{"a", "p"},
		"IssueKeys with SeriesID finds the series' coupons with those keys, ordered by id")
	same(t, ids(store.CouponFilter{IssueKeys: []string{"k1"}}), []string{"a", "b"}, "IssueKeys without SeriesID finds the key in every series")
	same(t, ids(store.CouponFilter{SeriesID: "s1", IssueKeys: []string{"k1"}, Holder: bob}), []string(nil), "IssueKeys with the other fields: every set field must match")
	same(t, ids(store.CouponFilter{SeriesID: "s1", IssueKeys: []string{""}}), []string(nil), "an empty issue key finds no coupon, not those issued without a key")

	// An update that leaves the key as it is keeps it.
	a := e.stored("a")
	used := a
	used.Redemptions, used.Version = 1, a.Version+1
	e.apply(&store.Change{Coupons: []store.CouponUpdate{{Coupon: used, ExpectVersion: a.Version}}})
	same(t, ids(store.CouponFilter{SeriesID: "s1", IssueKeys: []string{"k1"}}), []string{"a"}, "a coupon updated without changing its key keeps it")

	// InsertCoupons skips a coupon whose issue key is taken, and its event.
	taken, fresh := keyed("i1", "s1", "I1", dave, "k1"), keyed("i2", "s1", "I2", dave, "k4")
	n, err := e.st.InsertCoupons(e.ctx, []coupon.Coupon{taken, fresh}, []coupon.Event{
		rawEvent("ev-i1", coupon.EventIssued, taken, dave, t0), rawEvent("ev-i2", coupon.EventIssued, fresh, dave, t0)})
	if wantOK(t, err, "InsertCoupons") && n != 1 {
		t.Errorf("InsertCoupons skips a coupon whose issue key the series has: inserted %d, want 1", n)
	}
	_, err = e.st.Coupon(e.ctx, "i1")
	wantCode(t, err, errcode.NotFound, "the coupon whose issue key is taken is not inserted")
	if evs := e.events(store.EventQuery{CouponID: "i1"}); len(evs) != 0 {
		t.Errorf("the skipped coupon's event is skipped: %d", len(evs))
	}
	same(t, ids(store.CouponFilter{SeriesID: "s1", IssueKeys: []string{"k4"}}), []string{"i2"}, "a coupon inserted in bulk is found by its issue key")
}

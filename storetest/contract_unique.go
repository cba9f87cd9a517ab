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

// The store contract's unique keys: ids, (series, canonical code, slot),
// (coupon, idempotency key) and (series, issue key), within one change and
// against the stored records.

func testContractUnique(t *testing.T, e *env) {
	e.putRawSeries("s1", "s2")
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
	testContractUniqueFree(t, e, sh)
}

// testContractUniqueFree is the second half of testContractUnique: keys
// that do not collide, and the slot a moved shared coupon frees. sh makes
// a coupon of the shared code SHARED of series s1 for a holder.
func testContractUniqueFree(t *testing.T, e *env, sh func(id, holder string) coupon.Coupon) {
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
	e.putRawSeries("s1", "s2")
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

	testContractIssueKeysFound(t, e)
}

// testContractIssueKeysFound is the second half of testContractIssueKeys,
// on the coupons it stored: CouponFilter.IssueKeys finds a coupon by its
// key, an update that leaves the key keeps it, and InsertCoupons skips a
// coupon whose key is taken.
func testContractIssueKeysFound(t *testing.T, e *env) {
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

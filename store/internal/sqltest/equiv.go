package sqltest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// testMultiRowEqualsOneByOne applies random changes, large and small, to
// two stores: with multi-row statements (Apply) and with one statement per
// row and per bump (sqlcore.ApplyRowByRow, the way Apply wrote every
// change before). The outcomes must be the same: the same error, naming
// the same row, counter and value seen, or the same Afters; and the same
// coupons, events and counters stored afterwards.
func testMultiRowEqualsOneByOne(t *testing.T, be Backend) {
	multi, single := be.Open(t), be.Open(t)
	iter := 0
	rapid.Check(t, func(rt *rapid.T) {
		iter++
		e := &equivCase{t: rt, b: be, multi: multi, single: single, prefix: fmt.Sprintf("i%d-", iter)}
		e.setup()
		c := e.change()
		e.compare(c)
	})
}

// equivCase is one case of testMultiRowEqualsOneByOne.
type equivCase struct {
	t             *rapid.T
	b             Backend
	multi, single Store
	prefix        string
	sid, missing  string
	nCust         int
	keys          []store.CounterKey
	pre           []coupon.Coupon // coupons stored before the change
	preN          []int           // each key's count before the change
}

// both applies c, one statement per row, to both stores.
func (e *equivCase) both(what string, c func() *store.Change) {
	for _, s := range []Store{e.multi, e.single} {
		if err := sqlcore.ApplyRowByRow(context.Background(), e.b.Core(s), c()); err != nil {
			e.t.Fatalf("%s: %v", what, err)
		}
	}
}

// oldCode is the code of the i-th coupon stored before the change.
func oldCode(i int) string { return fmt.Sprintf("CODE%d", i) }

// setup stores the state before the change in both stores: the series, a
// few coupons and a redemption, and counters part way up.
func (e *equivCase) setup() {
	t := e.t
	e.sid, e.missing = e.prefix+"s", e.prefix+"missing"
	e.nCust = rapid.IntRange(1, 40).Draw(t, "customers")
	e.keys = []store.CounterKey{
		{Counter: limits.SeriesIssued, Series: e.sid},
		{Counter: limits.SeriesUses, Series: e.sid},
		{Counter: limits.CodeUses, Series: e.sid, Code: "A\x00b", Holder: "h"},
	}
	for i := range e.nCust {
		e.keys = append(e.keys, store.CounterKey{Counter: limits.CustomerIssued, Series: e.sid, Customer: fmt.Sprintf("c%d\\", i)})
	}
	nCodes := rapid.IntRange(1, 600).Draw(t, "codes") // small: codes collide
	for _, i := range rapid.SliceOfNDistinct(rapid.IntRange(0, nCodes-1), 0, 5, rapid.ID[int]).Draw(t, "existing") {
		e.pre = append(e.pre, issuedCoupon(e.prefix+"old"+oldCode(i), e.sid, oldCode(i), "c0", t0))
	}
	e.both("series", func() *store.Change {
		ser := series.Series{ID: e.sid, Name: e.sid, Status: series.Active, TimeZone: "UTC", Source: series.Source{Kind: series.Uploaded},
			Version: 1, CreatedAt: t0, UpdatedAt: t0}
		return &store.Change{Series: &store.SeriesWrite{Series: ser}, NewCoupons: e.pre}
	})
	if len(e.pre) > 0 {
		e.both("redemption", func() *store.Change {
			return &store.Change{NewRedemptions: []coupon.Redemption{{ID: e.prefix + "r-old", CouponID: e.pre[0].ID, SeriesID: e.sid,
				Customer: "c0", IdempotencyKey: "k0", Status: coupon.StatusRedeemed, At: t0}}}
		})
	}
	e.preN = make([]int, len(e.keys))
	for i, k := range e.keys {
		e.preN[i] = rapid.IntRange(0, 4).Draw(t, fmt.Sprintf("pre%d", i))
		if e.preN[i] > 0 {
			e.both("pre bump", func() *store.Change {
				return &store.Change{Bumps: []store.Bump{{Key: k, Delta: int64(e.preN[i]), At: t0}}}
			})
		}
	}
}

// change draws the change: mostly one that passes, sometimes one with a
// fault (a missing series, a duplicate code or id, a guard that refuses).
func (e *equivCase) change() *store.Change {
	t := e.t
	c := &store.Change{}
	nNew := rapid.IntRange(0, 300).Draw(t, "newCoupons")
	for i := range nNew {
		c.NewCoupons = append(c.NewCoupons, issuedCoupon(fmt.Sprintf("%snew%04d", e.prefix, i), e.sid, fmt.Sprintf("NEW%d", i),
			fmt.Sprintf("c%d\\", rapid.IntRange(0, e.nCust-1).Draw(t, "holder")), t0))
	}
	if nNew > 0 {
		cp := &c.NewCoupons[rapid.IntRange(0, nNew-1).Draw(t, "faulty")]
		switch rapid.IntRange(0, 15).Draw(t, "couponFault") {
		case 0:
			cp.SeriesID = e.missing
		case 1:
			if len(e.pre) > 0 {
				cp.Code, cp.Canonical = e.pre[0].Code, e.pre[0].Canonical
			}
		case 2:
			if len(e.pre) > 0 {
				cp.ID = e.pre[0].ID
			}
		case 3:
			other := c.NewCoupons[rapid.IntRange(0, nNew-1).Draw(t, "twin")]
			cp.Code, cp.Canonical = other.Code, other.Canonical
		}
	}
	if len(e.pre) > 0 {
		for i := range rapid.IntRange(0, 3).Draw(t, "newRedemptions") {
			c.NewRedemptions = append(c.NewRedemptions, coupon.Redemption{ID: fmt.Sprintf("%sr%d", e.prefix, i), CouponID: e.pre[0].ID,
				SeriesID: e.sid, Customer: "c0", IdempotencyKey: fmt.Sprintf("k%d", rapid.IntRange(0, 30).Draw(t, "key")),
				Status: coupon.StatusRedeemed, At: t0})
		}
	}
	for i := range rapid.IntRange(0, 300).Draw(t, "events") {
		c.Events = append(c.Events, coupon.Event{ID: fmt.Sprintf("%sev%d", e.prefix, i), Kind: coupon.EventIssued,
			CouponID: fmt.Sprintf("%snew%04d", e.prefix, i), SeriesID: e.sid, Code: oldCode(i),
			Customer: fmt.Sprintf("c%d\\", i%e.nCust), Actor: "bulk", At: t0})
	}
	c.Bumps = e.bumps()
	return c
}

// bumps draws the change's bumps: one of k of each counter, in any order,
// under a limit that leaves room for them exactly or with some to spare;
// at most one counter whose guard refuses (one too many, or a gap), and
// now and then a bump the multi-row upsert cannot take (a decrement, a
// read, another guard or time).
func (e *equivCase) bumps() []store.Bump {
	t := e.t
	at := rapid.SampledFrom([]time.Time{t0, t0.Add(time.Hour)}).Draw(t, "at")
	fault := rapid.IntRange(-len(e.keys), len(e.keys)-1).Draw(t, "faultyCounter") // < 0: none
	var bumps []store.Bump
	for i, k := range e.keys {
		n := rapid.IntRange(0, 4).Draw(t, "k")
		if k.Customer == "" {
			n = rapid.IntRange(0, 300).Draw(t, "seriesWideK")
		}
		g := limits.Guard{Counter: k.Counter}
		switch slack := rapid.IntRange(-2, 3).Draw(t, "slack"); {
		case slack < 0 && i == fault:
			g.Limit = limits.Limit(e.preN[i] + n - 1)
		case slack < 0:
			g.Limit = limits.NoLimit
		default:
			g.Limit = limits.Limit(e.preN[i] + n + slack)
		}
		if n <= 1 && (i != fault || e.preN[i] == 0) && rapid.IntRange(0, 3).Draw(t, "gapped") == 0 {
			g.MinGap = time.Hour // passes unless a fault: at t0, a counter bumped at t0
		} else if i == fault && rapid.Bool().Draw(t, "gapFault") {
			g.MinGap = 2 * time.Hour
		}
		if n > 0 {
			bumps = append(bumps, store.Bump{Key: k, Delta: int64(n), Guard: g, At: at})
		}
	}
	bumps = rapid.Permutation(bumps).Draw(t, "order")
	if len(bumps) > 0 {
		b := &bumps[rapid.IntRange(0, len(bumps)-1).Draw(t, "odd")]
		switch rapid.IntRange(0, 11).Draw(t, "oddKind") {
		case 0:
			b.Delta = -1
		case 1:
			b.Delta = 0
		case 2:
			b.Guard.Limit = limits.NoLimit
		case 3:
			b.At = t0.Add(3 * time.Hour)
		}
	}
	return bumps
}

// compare applies c both ways and compares the outcomes and the states.
func (e *equivCase) compare(c *store.Change) {
	t, ctx := e.t, context.Background()
	cm, cs := cloneChange(c), cloneChange(c)
	errM, errS := e.multi.Apply(ctx, cm), sqlcore.ApplyRowByRow(ctx, e.b.Core(e.single), cs)
	if d := cmp.Diff(errSummary(errS), errSummary(errM)); d != "" {
		t.Fatalf("errors differ (-one by one +multi-row):\n%s\nmulti-row: %v\none by one: %v", d, errM, errS)
	}
	if errM == nil {
		for i := range cm.Bumps {
			if a, b := cm.Bumps[i].After, cs.Bumps[i].After; a.N != b.N || !a.Last.Equal(b.Last) {
				t.Fatalf("bump %d After: multi-row %+v, one by one %+v", i, a, b)
			}
		}
	}
	for _, sidOf := range []string{e.sid, e.missing} {
		q := store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: sidOf}}
		gm, err1 := e.multi.ListCoupons(ctx, q)
		gs, err2 := e.single.ListCoupons(ctx, q)
		em, err3 := e.multi.Events(ctx, store.EventQuery{SeriesID: sidOf})
		es, err4 := e.single.Events(ctx, store.EventQuery{SeriesID: sidOf})
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(gs, gm); d != "" {
			t.Fatalf("coupons differ (-one by one +multi-row):\n%s", d)
		}
		if d := cmp.Diff(es, em); d != "" {
			t.Fatalf("events differ (-one by one +multi-row):\n%s", d)
		}
	}
	rm, err1 := e.multi.ListRedemptions(ctx, store.RedemptionQuery{SeriesID: e.sid})
	rs, err2 := e.single.ListRedemptions(ctx, store.RedemptionQuery{SeriesID: e.sid})
	km, ks := make([]store.Count, len(e.keys)), make([]store.Count, len(e.keys))
	if err := errors.Join(err1, err2, e.multi.Counters(ctx, e.keys, km), e.single.Counters(ctx, e.keys, ks)); err != nil {
		t.Fatal(err)
	}
	if len(rm) != len(rs) {
		t.Fatalf("%d redemptions with multi-row statements, %d one by one", len(rm), len(rs))
	}
	for i := range e.keys {
		if km[i].N != ks[i].N || !km[i].Last.Equal(ks[i].Last) {
			t.Fatalf("counter %+v: multi-row %+v, one by one %+v", e.keys[i], km[i], ks[i])
		}
	}
}

func issuedCoupon(id, sid, code, holder string, at time.Time) coupon.Coupon {
	return coupon.Coupon{ID: id, SeriesID: sid, Code: code, Canonical: code, State: coupon.Issued, Holder: holder,
		CreatedAt: at, IssuedAt: at, ExpiresAt: at.Add(72 * time.Hour), LastStatusChange: at, Version: 2}
}

// cloneChange copies the slices of c that Apply writes to (the Afters).
func cloneChange(c *store.Change) *store.Change {
	d := *c
	d.Bumps = append([]store.Bump(nil), c.Bumps...)
	return &d
}

// errSummary is what a caller can tell of an Apply error.
func errSummary(err error) string {
	var ge *store.GuardError
	var ce *store.ConflictError
	var ee *store.ExistsError
	var ec *errcode.Error
	switch {
	case err == nil:
		return "nil"
	case errors.As(err, &ge):
		return fmt.Sprintf("guard %+v %+v seen %d at %v", ge.Key, ge.Guard, ge.Count.N, ge.Count.Last.UnixNano())
	case errors.As(err, &ce):
		return fmt.Sprintf("conflict %+v", *ce)
	case errors.As(err, &ee):
		return fmt.Sprintf("exists %+v", *ee)
	case errors.As(err, &ec):
		return fmt.Sprintf("errcode %d %s", ec.Code, ec.Field)
	}
	return "other " + err.Error()
}

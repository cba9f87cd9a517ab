package storetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// testPropertyBumps: Apply bumps counters by the rule of store.Bump, on
// any sequence of changes. Each case applies changes of one to four bumps
// (each of a counter of its own, whose keys differ in one field only,
// Holder beside Code and Customer among them) with random deltas, guards,
// times and rewinds, and checks each outcome against a plain model that
// takes an increment of k as k increments of one, each checked by the
// guard, and drops a change whole at its first refusal: the error's code,
// the GuardError's counter and the value it saw, every Bump.After, and
// then every counter.
func testPropertyBumps(t *testing.T, e *env) {
	var n atomic.Int64
	withRapidFlags(e.propertyChecks(), 0, func() {
		rapid.Check(t, func(rt *rapid.T) {
			sid := fmt.Sprintf("b%d-s", n.Add(1))
			keys := []store.CounterKey{
				{Counter: limits.CodeUses, Series: sid, Code: "A", Holder: "B"},
				{Counter: limits.CodeUses, Series: sid, Code: "AB"},
				{Counter: limits.CodeUses, Series: sid, Code: "A", Customer: "B"},
				{Counter: limits.CustomerCodeUses, Series: sid, Code: "A", Holder: "B", Customer: "B"},
				{Counter: limits.CustomerCodeUses, Series: sid, Code: "A", Customer: "B"},
				{Counter: limits.SeriesUses, Series: sid},
				{Counter: limits.CustomerSeriesUses, Series: sid, Customer: "B"},
				{Counter: limits.CustomerSeriesUses, Series: sid, Holder: "B"},
			}
			m := bumpModel{}
			now := t0
			for range rapid.IntRange(1, 25).Draw(rt, "changes") {
				now = now.Add(time.Duration(rapid.IntRange(0, 90).Draw(rt, "minutes")) * time.Minute)
				ch := &store.Change{}
				for _, k := range rapid.Permutation(keys).Draw(rt, "keys")[:rapid.IntRange(1, 4).Draw(rt, "bumps")] {
					ch.Bumps = append(ch.Bumps, m.draw(rt, k, now))
				}
				want, refused := m.apply(ch.Bumps)
				err := e.st.Apply(e.ctx, ch)
				checkBumpOutcome(rt, ch.Bumps, err, want, refused, m)
				if err == nil {
					for k, v := range want {
						m[k] = v
					}
				}
			}
			got := make([]store.Count, len(keys))
			if err := e.st.Counters(e.ctx, keys, got); err != nil {
				rt.Fatalf("Counters: %v", err)
			}
			for i, k := range keys {
				if w := m[k]; got[i].N != w.N || !got[i].Last.Equal(w.Last) {
					rt.Fatalf("counter %v reads %+v; the changes applied leave %+v", k, got[i], w)
				}
			}
		})
	})
}

// bumpModel is the counters as the changes applied so far leave them.
type bumpModel map[store.CounterKey]store.Count

// draw makes a bump of k at now: mostly increments under a guard that the
// counter is near, now and then a decrement, a read, or a rewind that
// expects the counter's value or another.
func (m bumpModel) draw(rt *rapid.T, k store.CounterKey, now time.Time) store.Bump {
	cur := m[k]
	b := store.Bump{Key: k, At: now, Delta: int64(rapid.IntRange(-2, 4).Draw(rt, "delta"))}
	b.Guard = limits.Guard{Counter: k.Counter,
		Limit:  limits.Limit(max(0, cur.N+int64(rapid.IntRange(-1, 4).Draw(rt, "room")))),
		MinGap: time.Duration(rapid.IntRange(0, 2).Draw(rt, "gapHours")) * time.Hour}
	if b.Delta < 0 && rapid.Bool().Draw(rt, "rewind") {
		expect := cur
		if rapid.IntRange(0, 3).Draw(rt, "staleRewind") == 0 {
			expect.N++
		}
		b.Rewind = &store.Rewind{Expect: expect, Last: now.Add(-time.Duration(rapid.IntRange(0, 3).Draw(rt, "rewindHours")) * time.Hour)}
	}
	return b
}

// apply returns the counters after bumps, one by one, and the indexes of
// the bumps the rule refuses (nil when none does, and the values then).
func (m bumpModel) apply(bumps []store.Bump) (bumpModel, map[int]errcode.Code) {
	next := bumpModel{}
	refused := map[int]errcode.Code{}
	for i := range bumps {
		b := &bumps[i]
		cur := m[b.Key]
		for range b.Delta { // an increment of k: k increments of one
			if !b.Guard.Check(cur.N, cur.Last, b.At) {
				refused[i] = errcode.GuardFailed
				break
			}
			cur.N++
			cur.Last = b.At
		}
		if r := b.Rewind; b.Delta < 0 && (cur.N+b.Delta < 0 || r != nil && (r.Expect.N != cur.N || !r.Expect.Last.Equal(cur.Last))) {
			refused[i] = errcode.Conflict
		}
		if b.Delta < 0 {
			cur.N += b.Delta
			if b.Rewind != nil {
				cur.Last = b.Rewind.Last
			}
		}
		next[b.Key] = cur
	}
	if len(refused) == 0 {
		refused = nil
	}
	return next, refused
}

// checkBumpOutcome fails the case unless err is what the model says of
// the bumps: no error and every After as the model leaves it, or the
// refusal of one of the bumps the model refuses, a GuardError naming its
// counter and the value before the change.
func checkBumpOutcome(rt *rapid.T, bumps []store.Bump, err error, want bumpModel, refused map[int]errcode.Code, m bumpModel) {
	if refused == nil {
		if err != nil {
			rt.Fatalf("Apply(%+v) = %v; the rule lets every bump pass", bumps, err)
		}
		for _, b := range bumps {
			if w := want[b.Key]; b.After.N != w.N || !b.After.Last.Equal(w.Last) {
				rt.Fatalf("bump %v After %+v, want %+v", b.Key, b.After, w)
			}
		}
		return
	}
	var ge *store.GuardError
	errors.As(err, &ge)
	ok := slices.ContainsFunc(slices.Collect(maps.Keys(refused)), func(i int) bool {
		if refused[i] != errcode.CodeOf(err) {
			return false
		}
		return ge == nil || ge.Key == bumps[i].Key && ge.Count.N == m[ge.Key].N && ge.Count.Last.Equal(m[ge.Key].Last)
	})
	if !ok {
		rt.Fatalf("Apply(%+v) = %v; the rule refuses bumps %v (code by index)", bumps, err, refused)
	}
}

// testPropertyWrittenTwice: a store refuses every change that writes a
// record twice (store.Change.Validate), and only such changes, with a
// *store.TwiceError naming a record written twice, and writes nothing of
// it. Each case draws a change of coupon inserts and updates, redemption
// inserts and updates, bumps and audience updates from small pools of
// ids, so that some write a record twice and others do not.
func testPropertyWrittenTwice(t *testing.T, e *env) {
	var n atomic.Int64
	withRapidFlags(e.propertyChecks(), 0, func() {
		rapid.Check(t, func(rt *rapid.T) {
			p := fmt.Sprintf("w%d-", n.Add(1))
			sid := p + "s"
			stored := rawIssued(p+"u1", sid, p+"U1", alice)
			held := coupon.Redemption{ID: p + "h1", CouponID: stored.ID, SeriesID: sid, Customer: alice, IdempotencyKey: "k", Status: coupon.StatusHeld, At: t0}
			if err := e.st.Apply(e.ctx, &store.Change{Series: &store.SeriesWrite{Series: rawSeries(sid)}}); err != nil {
				rt.Fatalf("storing a series: %v", err)
			}
			if err := e.st.Apply(e.ctx, &store.Change{NewCoupons: []coupon.Coupon{stored}, NewRedemptions: []coupon.Redemption{held}}); err != nil {
				rt.Fatalf("storing a coupon: %v", err)
			}
			ch, twice := drawWrites(rt, p, stored, held)
			err := e.st.Apply(e.ctx, ch)
			var te *store.TwiceError
			switch {
			case len(twice) == 0 && errors.As(err, &te):
				rt.Fatalf("a change that writes each record once is refused: %v", err)
			case len(twice) == 0:
				return // applied, or refused for a reason of its own
			case !errors.As(err, &te) || !twice[te.Kind+" "+te.Key] || errcode.CodeOf(err) != errcode.InvalidArgument:
				rt.Fatalf("Apply = %v; want a TwiceError naming one of %v", err, twice)
			}
			checkNothingWritten(rt, e, p, sid, stored, held)
		})
	})
}

// drawWrites draws a change over the records of a case with prefix p, and
// the records it writes twice ("kind key", as a TwiceError names them).
func drawWrites(rt *rapid.T, p string, stored coupon.Coupon, held coupon.Redemption) (*store.Change, map[string]bool) {
	ch := &store.Change{}
	seen, twice := map[string]bool{}, map[string]bool{}
	write := func(kind, key string) {
		if seen[kind+" "+key] {
			twice[kind+" "+key] = true
		}
		seen[kind+" "+key] = true
	}
	fresh := []string{p + "n1", p + "n2"}
	for _, id := range rapid.SliceOfN(rapid.SampledFrom(fresh), 0, 2).Draw(rt, "inserts") {
		ch.NewCoupons = append(ch.NewCoupons, rawIssued(id, stored.SeriesID, id+"-"+fmt.Sprint(len(ch.NewCoupons)), bob))
		write("coupon", id)
	}
	for _, id := range rapid.SliceOfN(rapid.SampledFrom(append(fresh, stored.ID)), 0, 2).Draw(rt, "updates") {
		next := stored
		next.ID, next.Version = id, stored.Version+1
		ch.Coupons = append(ch.Coupons, store.CouponUpdate{Coupon: next, ExpectVersion: stored.Version})
		write("coupon", id)
	}
	for _, id := range rapid.SliceOfN(rapid.SampledFrom([]string{p + "r1", p + "r2"}), 0, 2).Draw(rt, "redemptionInserts") {
		ch.NewRedemptions = append(ch.NewRedemptions, coupon.Redemption{ID: id, CouponID: stored.ID, SeriesID: stored.SeriesID,
			IdempotencyKey: id + fmt.Sprint(len(ch.NewRedemptions)), Status: coupon.StatusRedeemed, At: t0})
		write("redemption", id)
	}
	if rapid.Bool().Draw(rt, "confirm") {
		r := held
		r.Status = coupon.StatusRedeemed
		ch.Redemptions = append(ch.Redemptions, store.RedemptionUpdate{Redemption: r, ExpectStatus: coupon.StatusHeld})
		write("redemption", held.ID)
	}
	keys := []store.CounterKey{{Counter: limits.SeriesUses, Series: stored.SeriesID},
		{Counter: limits.CodeUses, Series: stored.SeriesID, Code: stored.Canonical, Holder: "x"}}
	for _, k := range rapid.SliceOfN(rapid.SampledFrom(keys), 0, 3).Draw(rt, "bumpKeys") {
		ch.Bumps = append(ch.Bumps, store.Bump{Key: k, Delta: 1, At: t0})
		write("counter", k.String())
	}
	for _, c := range rapid.SliceOfN(rapid.SampledFrom([]string{carol, dave}), 0, 3).Draw(rt, "members") {
		ch.Audience = append(ch.Audience, addMember(stored.SeriesID, c, t0))
		write("audience", stored.SeriesID+"/"+c)
	}
	ch.Events = []coupon.Event{{ID: p + "ev", Kind: coupon.EventIssued, SeriesID: stored.SeriesID, Customer: erin, At: t0}}
	return ch, twice
}

// checkNothingWritten fails the case unless the store holds what the case
// stored before its refused change, and nothing of that change.
func checkNothingWritten(rt *rapid.T, e *env, p, sid string, stored coupon.Coupon, held coupon.Redemption) {
	if c, err := e.st.Coupon(e.ctx, stored.ID); err != nil || c.Version != stored.Version {
		rt.Fatalf("a refused change updated a coupon: %+v, %v", c, err)
	}
	for _, id := range []string{p + "n1", p + "n2"} {
		if _, err := e.st.Coupon(e.ctx, id); errcode.CodeOf(err) != errcode.NotFound {
			rt.Fatalf("a refused change inserted coupon %s: %v", id, err)
		}
	}
	rs, err := e.st.ListRedemptions(e.ctx, store.RedemptionQuery{SeriesID: sid})
	if err != nil || len(rs) != 1 || rs[0].Status != held.Status {
		rt.Fatalf("a refused change wrote redemptions: %+v, %v", rs, err)
	}
	keys := []store.CounterKey{{Counter: limits.SeriesUses, Series: sid}, {Counter: limits.CodeUses, Series: sid, Code: stored.Canonical, Holder: "x"}}
	got := make([]store.Count, len(keys))
	if err := e.st.Counters(e.ctx, keys, got); err != nil || got[0] != (store.Count{}) || got[1] != (store.Count{}) {
		rt.Fatalf("a refused change bumped counters: %+v, %v", got, err)
	}
	if ms, err := e.st.Audience(e.ctx, store.AudienceQuery{SeriesID: sid}); err != nil || len(ms) != 0 {
		rt.Fatalf("a refused change added audience members: %+v, %v", ms, err)
	}
	if evs, err := e.st.Events(e.ctx, store.EventQuery{SeriesID: sid, Customer: erin}); err != nil || len(evs) != 0 {
		rt.Fatalf("a refused change appended events: %+v, %v", evs, err)
	}
}

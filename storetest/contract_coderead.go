package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// RunCodeReader runs, as the subtest CodeReader, the contract test of
// store.CodeReader alone (RunContract runs it too): for a store that
// offers several ways of reading a code, each of which should be checked.
// It skips when the store does not implement store.CodeReader.
func RunCodeReader(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("CodeReader", func(t *testing.T) {
		testContractReadCode(t, newEnv(t, newStore(t)))
	})
}

// testContractReadCode checks ReadCode against the rule it stands for
// (store.ReadCodeWith: CouponsByCode, SeriesVersion, Counters one after
// another): unique and shared codes, a code in two series, keys with a
// backslash, counters never bumped, a code no coupon has, a series at its
// second version; then the same reads from many goroutines at once (a
// store may combine concurrent reads), some of them given up.
func testContractReadCode(t *testing.T, e *env) {
	cr, ok := e.st.(store.CodeReader)
	if !ok {
		t.Skip("the store does not implement store.CodeReader")
	}
	e.putRawSeries("s1", "s2")
	e.apply(&store.Change{Series: &store.SeriesWrite{Series: rawSeries("s2"), ExpectVersion: 1}})
	shared := func(id, holder string) coupon.Coupon {
		c := rawIssued(id, "s1", "SH", holder)
		c.Shared = true
		return c
	}
	cs := []coupon.Coupon{rawIssued("c1", "s1", "A1", alice), shared("c2", alice), shared("c3", `b\ob`),
		rawIssued("c4", "s1", "DUP", alice), rawIssued("c5", "s2", "DUP", alice), rawIssued("c6", "s1", `B\X`, alice)}
	e.apply(&store.Change{NewCoupons: cs})
	counters := [][]store.CouponCounter{
		{{Counter: limits.CodeUses, ByCode: true}, {Counter: limits.CustomerCodeUses, ByCode: true, Customer: alice},
			{Counter: limits.SeriesUses}, {Counter: limits.CustomerSeriesUses, Customer: alice}},
		{{Counter: limits.CustomerSeriesUses, Customer: `b\ob`}, {Counter: limits.CodeUses, ByCode: true},
			{Counter: limits.SeriesBudget}, {Counter: limits.CustomerBudget, Customer: alice},
			{Counter: limits.CustomerCodeUses, ByCode: true, Customer: `b\ob`}, {Counter: limits.SeriesIssued}},
		nil,
	}
	bumpReadCounters(e, cs, counters)
	var reads []codeReadCase
	for _, sid := range []string{"", "s1", "s2", "none"} {
		for _, code := range []string{"A1", "SH", "DUP", `B\X`, "NONE"} {
			for _, set := range counters {
				got, err := cr.ReadCode(e.ctx, sid, code, set, nil)
				mustOK(t, err, "ReadCode(%q, %q)", sid, code)
				want, err := store.ReadCodeWith(e.ctx, e.st, sid, code, set, nil)
				mustOK(t, err, "ReadCodeWith(%q, %q)", sid, code)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("ReadCode(%q, %q, %v):\n got %+v\nwant %+v", sid, code, set, got, want)
				}
				reads = append(reads, codeReadCase{sid, code, set, want})
			}
		}
	}
	readConcurrently(t, e, cr, reads)
	_, err := cr.ReadCode(e.ctx, "", "A1", make([]store.CouponCounter, store.MaxCodeCounters+1), nil)
	wantCode(t, err, errcode.InvalidArgument, "ReadCode of more than MaxCodeCounters counters")
}

// bumpReadCounters bumps every counter the sets name for each coupon but
// c4, by the coupon's index, at its own time.
func bumpReadCounters(e *env, cs []coupon.Coupon, sets [][]store.CouponCounter) {
	for i := range cs {
		if cs[i].ID == "c4" {
			continue
		}
		var bumps []store.Bump
		seen := map[store.CounterKey]bool{}
		for _, set := range sets {
			for _, cc := range set {
				if k := cc.Key(&cs[i]); !seen[k] {
					seen[k] = true
					bumps = append(bumps, store.Bump{Key: k, Delta: int64(i + 1), At: t0.Add(time.Duration(i) * time.Minute)})
				}
			}
		}
		e.apply(&store.Change{Bumps: bumps})
	}
}

// codeReadCase is a ReadCode's request and its answer.
type codeReadCase struct {
	sid, code string
	set       []store.CouponCounter
	want      []store.CodeRead
}

// readConcurrently makes the reads of cases from many goroutines at once:
// each must get its own answer, appended after what its dst held. Callers
// that give up while they wait leave: the others are still answered, and
// so are reads after them.
func readConcurrently(t *testing.T, e *env, cr store.CodeReader, reads []codeReadCase) {
	t.Helper()
	ctx := e.ctx
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 20 {
				r := reads[(g*7+i)%len(reads)]
				pre := []store.CodeRead{{SeriesVersion: -1}}
				got, err := cr.ReadCode(ctx, r.sid, r.code, r.set, pre)
				if err != nil {
					t.Errorf("concurrent ReadCode(%q, %q): %v", r.sid, r.code, err)
					return
				}
				if len(got) == 0 || got[0].SeriesVersion != -1 || !reflect.DeepEqual(got[1:], r.want) && len(r.want)+len(got[1:]) > 0 {
					t.Errorf("concurrent ReadCode(%q, %q, %v):\n got %+v\nwant %+v after dst", r.sid, r.code, r.set, got, r.want)
					return
				}
			}
		})
	}
	for g := range 16 {
		wg.Go(func() {
			gone, cancel := context.WithCancel(ctx)
			cancel()
			r := reads[g%len(reads)]
			if _, err := cr.ReadCode(gone, r.sid, r.code, r.set, nil); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("a read whose context ended: %v", err)
			}
		})
	}
	wg.Wait()
	for _, r := range reads[:3] {
		if _, err := cr.ReadCode(ctx, r.sid, r.code, r.set, nil); err != nil {
			t.Errorf("a read after callers left: %v", err)
		}
	}
}

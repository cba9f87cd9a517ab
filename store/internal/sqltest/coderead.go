package sqltest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// testReadCode checks the one-statement ReadCode against the rule it
// stands for (store.ReadCodeWith: CouponsByCode, SeriesVersion, Counters
// one after another): unique and shared codes, a code in two series, keys
// that KeyText escapes, counters never bumped, a code no coupon has.
func testReadCode(t *testing.T, be Backend) {
	s := be.Open(t)
	CreateSeries(t, s, "s1", "s2")
	shared := func(id, holder string) coupon.Coupon {
		c := Issued(id, "s1", "SH", holder)
		c.Shared = true
		return c
	}
	cs := []coupon.Coupon{Issued("c1", "s1", "A1", "alice"), shared("c2", "alice"), shared("c3", `b\ob`),
		Issued("c4", "s1", "DUP", "alice"), Issued("c5", "s2", "DUP", "alice"), Issued("c6", "s1", "B\\X", "alice")}
	mustApply(t, s, &store.Change{NewCoupons: cs})
	counters := [][]store.CouponCounter{
		{{Counter: limits.CodeUses, ByCode: true}, {Counter: limits.CustomerCodeUses, ByCode: true, Customer: "alice"},
			{Counter: limits.SeriesUses}, {Counter: limits.CustomerSeriesUses, Customer: "alice"}},
		{{Counter: limits.CustomerSeriesUses, Customer: `b\ob`}, {Counter: limits.CodeUses, ByCode: true}},
		nil,
	}
	// Bump the counters of every coupon but c4, by its index, at its time.
	for i := range cs {
		if cs[i].ID == "c4" {
			continue
		}
		var bumps []store.Bump
		seen := map[store.CounterKey]bool{}
		for _, set := range counters {
			for _, cc := range set {
				if k := cc.Key(&cs[i]); !seen[k] {
					seen[k] = true
					bumps = append(bumps, store.Bump{Key: k, Delta: int64(i + 1), At: t0.Add(time.Duration(i) * time.Minute)})
				}
			}
		}
		mustApply(t, s, &store.Change{Bumps: bumps})
	}
	var reads []codeReadCase
	for _, sid := range []string{"", "s1", "s2"} {
		for _, code := range []string{"A1", "SH", "DUP", "B\\X", "NONE"} {
			for _, set := range counters {
				got, err := s.(store.CodeReader).ReadCode(ctx, sid, code, set, nil)
				if err != nil {
					t.Fatalf("ReadCode(%q, %q): %v", sid, code, err)
				}
				want, err := store.ReadCodeWith(ctx, s, sid, code, set, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("ReadCode(%q, %q, %v):\n got %+v\nwant %+v", sid, code, set, got, want)
				}
				reads = append(reads, codeReadCase{sid, code, set, want})
			}
		}
	}
	readConcurrently(t, s.(store.CodeReader), reads)
	if _, err := s.(store.CodeReader).ReadCode(ctx, "", "A1", make([]store.CouponCounter, store.MaxCodeCounters+1), nil); err == nil {
		t.Error("ReadCode took more than MaxCodeCounters counters")
	}
}

// codeReadCase is a ReadCode's request and its answer.
type codeReadCase struct {
	sid, code string
	set       []store.CouponCounter
	want      []store.CodeRead
}

// readConcurrently makes the reads of cases from many goroutines at once
// (a store may combine concurrent reads into one statement): each must
// get its own answer, appended after what its dst held.
func readConcurrently(t *testing.T, cr store.CodeReader, reads []codeReadCase) {
	t.Helper()
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
	// Callers that give up while they wait leave the queue: the others
	// are still answered, and so are reads after them.
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

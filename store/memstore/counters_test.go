package memstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// Wherever the store keeps a counter (in the coupon of its code, in loose,
// in the customer's record, in the series' counts or in odd), counters
// behave as one map from CounterKey to Count: whatever coupons are
// inserted, whatever their series, codes, holders and sharing become, and
// however many customers use one code. The model is that map.
func TestCountersAreOneMap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := New()
		model := map[store.CounterKey]store.Count{}
		var coupons []coupon.Coupon // as stored
		seriesIDs := []string{"s1", "s2"}
		codes := []string{"A", "B", "A\x00B"} // the last has a NUL, no separator of anything
		customers := []string{"", "x", "y", "z"}
		for i := range fewCounters + 4 { // enough to pass a counterSet's slice
			customers = append(customers, fmt.Sprintf("c%d", i))
		}
		// genKey draws a key whose Holder may name a shared coupon's slot,
		// and whose fields may not fit the counter's scope.
		genKey := func(t *rapid.T) store.CounterKey {
			k := store.CounterKey{
				Counter:  limits.Counter(rapid.IntRange(1, 7).Draw(t, "counter")),
				Series:   rapid.SampledFrom(seriesIDs).Draw(t, "series"),
				Customer: rapid.SampledFrom(customers).Draw(t, "customer"),
			}
			if rapid.IntRange(0, 3).Draw(t, "withCode") > 0 {
				k.Code = rapid.SampledFrom(codes).Draw(t, "code")
				if rapid.Bool().Draw(t, "slot") {
					k.Holder = rapid.SampledFrom(customers).Draw(t, "slotHolder")
				}
			}
			return k
		}
		at := t0
		t.Repeat(map[string]func(*rapid.T){
			"bump": func(t *rapid.T) {
				n := rapid.IntRange(1, 4).Draw(t, "bumps")
				ch := &store.Change{}
				want := map[store.CounterKey]store.Count{}
				for range n {
					k := genKey(t)
					if _, dup := want[k]; dup {
						continue // a change bumps a counter once
					}
					cur := model[k]
					d := int64(1)
					if cur.N > 0 && rapid.Bool().Draw(t, "down") {
						d = -1
					}
					at = at.Add(time.Minute)
					ch.Bumps = append(ch.Bumps, store.Bump{Key: k, Delta: d, At: at})
					cur.N += d
					if d > 0 {
						cur.Last = at
					}
					want[k] = cur
				}
				if err := s.Apply(ctx, ch); err != nil {
					t.Fatalf("Apply: %v", err)
				}
				for k, v := range want {
					model[k] = v
				}
			},
			"insert": func(t *rapid.T) {
				c := coupon.Coupon{
					ID:       fmt.Sprintf("k%03d", len(coupons)),
					SeriesID: rapid.SampledFrom(seriesIDs).Draw(t, "series"),
					State:    coupon.Issued, Version: 1,
				}
				c.Code = rapid.SampledFrom(codes).Draw(t, "code")
				c.Canonical = c.Code
				c.Shared = rapid.Bool().Draw(t, "shared")
				c.Holder = rapid.SampledFrom(customers).Draw(t, "holder")
				err := s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{c}})
				if err != nil {
					return // its key is taken: nothing changed
				}
				coupons = append(coupons, c)
			},
			"move": func(t *rapid.T) {
				if len(coupons) == 0 {
					t.Skip("no coupon")
				}
				i := rapid.IntRange(0, len(coupons)-1).Draw(t, "coupon")
				c := coupons[i]
				switch rapid.IntRange(0, 3).Draw(t, "what") {
				case 0:
					c.Holder = rapid.SampledFrom(customers).Draw(t, "holder")
				case 1:
					c.SeriesID = rapid.SampledFrom(seriesIDs).Draw(t, "series")
				case 2:
					c.Canonical = rapid.SampledFrom(codes).Draw(t, "code")
				case 3:
					c.Shared = !c.Shared
				}
				c.Version++
				err := s.Apply(ctx, &store.Change{Coupons: []store.CouponUpdate{{Coupon: c, ExpectVersion: coupons[i].Version}}})
				if err != nil {
					return // its new key is taken
				}
				coupons[i] = c
			},
			"": func(t *rapid.T) {
				keys := []store.CounterKey{}
				want := []store.Count{}
				for k, v := range model {
					keys = append(keys, k)
					want = append(want, v)
				}
				got := make([]store.Count, len(keys))
				if err := s.Counters(ctx, keys, got); err != nil {
					t.Fatal(err)
				}
				if !cmp.Equal(got, want) {
					t.Fatalf("counters (-model +store):\n%s", cmp.Diff(want, got))
				}
			},
		})
	})
}

// A code used by more customers than a counterSet searches one by one keeps
// every customer's count when its counters move to a map.
func TestCountersOfManyCustomersOfOneCode(t *testing.T) {
	s := fill(t, available("c1", "s1", "CODE"))
	n := 3 * fewCounters
	var keys []store.CounterKey
	for i := range n {
		k := store.CounterKey{Counter: limits.CustomerCodeUses, Series: "s1", Code: "CODE", Customer: fmt.Sprintf("u%02d", i)}
		keys = append(keys, k)
		for range i + 1 {
			mustApply(t, s, &store.Change{Bumps: []store.Bump{{Key: k, Delta: 1, At: t0}}})
		}
	}
	got := counts(t, s, keys...)
	for i := range n {
		if got[i].N != int64(i+1) {
			t.Errorf("customer %s: %d uses counted, want %d", keys[i].Customer, got[i].N, i+1)
		}
	}
}

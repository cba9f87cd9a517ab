package memstore

import (
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/coupon"
)

// Every stored redemption is found by its id, also when ids' hashes
// collide (here: every id hashes alike) and across growths of the index;
// all yields them in the order stored.
func TestRedTable(t *testing.T) {
	for name, hash := range map[string]func(string) uint64{
		"one hash for all": func(string) uint64 { return 7 },
		"real hash":        newRedTable().hash,
	} {
		x := newRedTable()
		x.hash = hash
		n := 2000 // past a slab and a growth of the index
		if name == "one hash for all" {
			n = 300 // every lookup probes them all
		}
		var ids []string
		for i := range n {
			id := fmt.Sprintf("r%04d", i)
			ids = append(ids, id)
			if b := x.add(&coupon.Redemption{ID: id}); b.r.ID != id {
				t.Fatalf("%s: add(%s) stored %s", name, id, b.r.ID)
			}
		}
		for _, id := range ids {
			if p := x.get(id); p == nil || p.ID != id {
				t.Fatalf("%s: get(%q) = %v", name, id, p)
			}
		}
		if p := x.get("missing"); p != nil {
			t.Errorf("%s: get(missing) = %v", name, p)
		}
		var all []string
		for p := range x.all() {
			all = append(all, p.ID)
		}
		if !slices.Equal(all, ids) {
			t.Errorf("%s: all gives %d ids, not the %d stored in order", name, len(all), len(ids))
		}
	}
}

// A heldSet is an ordered set, whether it holds one id inline or many.
func TestHeldSetModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var h heldSet
		model := map[string]bool{}
		ids := []string{"a", "b", "c", "d"}
		for range rapid.IntRange(0, 30).Draw(t, "ops") {
			id := rapid.SampledFrom(ids).Draw(t, "id")
			if rapid.Bool().Draw(t, "add") {
				h.add(id)
				model[id] = true
			} else {
				h.remove(id)
				delete(model, id)
			}
			after := rapid.SampledFrom(append([]string{""}, ids...)).Draw(t, "after")
			var want, got []string
			for _, x := range ids {
				if model[x] && x > after {
					want = append(want, x)
				}
			}
			for x := range h.after(after) {
				got = append(got, x)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("after(%q) = %v, want %v", after, got, want)
			}
		}
	})
}

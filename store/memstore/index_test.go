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
			if num := x.add(&coupon.Redemption{ID: id, IdempotencyKey: "k" + id}); num != i {
				t.Fatalf("%s: add(%s) gave number %d, want %d", name, id, num, i)
			}
		}
		for i, id := range ids {
			if num, ok := x.get(id); !ok || num != i || x.decode(num).ID != id || !x.keyIs(num, "k"+id) {
				t.Fatalf("%s: get(%q) = %d, %v", name, id, num, ok)
			}
		}
		if num, ok := x.get("missing"); ok {
			t.Errorf("%s: get(missing) = %d", name, num)
		}
		var all []string
		for num := range x.all() {
			all = append(all, x.decode(num).ID)
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

// A codeIndex is a map from code to entry, also when codes' hashes clash
// (here: every code hashes alike) and entries come and go.
func TestCodeIndexModel(t *testing.T) {
	for name, hash := range map[string]func(string) uint64{
		"one hash for all": func(string) uint64 { return 7 },
		"real hash":        newCodeIndex().hash,
	} {
		t.Run(name, func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				x := newCodeIndex()
				x.hash = hash
				model := map[string]codeIdx{}
				codes := []string{"A", "B", "C", "D"}
				for range rapid.IntRange(0, 40).Draw(t, "ops") {
					code := rapid.SampledFrom(codes).Draw(t, "code")
					switch rapid.IntRange(0, 2).Draw(t, "op") {
					case 0:
						e := codeIdx{one: &couponRec{c: coupon.Coupon{Canonical: code}}}
						if rapid.Bool().Draw(t, "set") {
							e = codeIdx{set: new(idSet)}
						}
						x.put(code, e)
						model[code] = e
					case 1:
						x.remove(code)
						delete(model, code)
					}
					for _, c := range codes {
						if got, want := x.get(c), model[c]; got != want {
							t.Fatalf("get(%s) = %+v, want %+v", c, got, want)
						}
					}
				}
			})
		})
	}
}

package couponkit

import (
	"slices"
	"testing"
)

// Ids of the default generator, alone or in pairs, are distinct, all of one
// length, and increase in the order made.
func TestIDsIncreaseAndNeverRepeat(t *testing.T) {
	g, err := newIDGen()
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{newID: g.next, ids: g}
	var ids []string
	for i := range 5000 {
		if i%2 == 0 {
			a, b := e.idPair()
			ids = append(ids, a, b)
		} else {
			ids = append(ids, e.newID())
		}
	}
	for i, id := range ids {
		if len(id) != idLen {
			t.Fatalf("id %q has length %d, want %d", id, len(id), idLen)
		}
		if i > 0 && id <= ids[i-1] {
			t.Fatalf("id %q made after %q does not sort after it", id, ids[i-1])
		}
	}
	if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Fatal("ids repeat")
	}
	// A caller's NewID is called for each id of a pair.
	n := 0
	custom := &Engine{newID: func() string { n++; return string(rune('a' + n)) }}
	if a, b := custom.idPair(); a != "b" || b != "c" {
		t.Errorf("idPair with Config.NewID = %q, %q; want two calls of it", a, b)
	}
}

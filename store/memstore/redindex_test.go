package memstore

import (
	"fmt"
	"slices"
	"testing"

	"github.com/couponkit/couponkit/coupon"
)

// Ids whose hashes collide are all found: here every id hashes alike.
func TestRedIndexClashes(t *testing.T) {
	for _, hash := range map[string]func(string) uint64{
		"one hash for all": func(string) uint64 { return 7 },
		"real hash":        newRedIndex().hash,
	} {
		x := newRedIndex()
		x.hash = hash
		var ids []string
		for i := range 50 {
			id := fmt.Sprintf("r%02d", i)
			ids = append(ids, id)
			x.put(&coupon.Redemption{ID: id})
		}
		for _, id := range ids {
			if p := x.get(id); p == nil || p.ID != id {
				t.Fatalf("get(%q) = %v", id, p)
			}
		}
		if p := x.get("missing"); p != nil {
			t.Errorf("get(missing) = %v", p)
		}
		var all []string
		for p := range x.all() {
			all = append(all, p.ID)
		}
		slices.Sort(all)
		if !slices.Equal(all, ids) {
			t.Errorf("all = %v, want %v", all, ids)
		}
	}
}

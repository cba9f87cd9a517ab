package sqlcore

import (
	"context"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// TestFoldIsSequential checks the folded bump of a group against the
// changes' bumps applied one after another (store.Bump.Next, the
// contract's rule): from any stored count, the fold passes exactly when
// every bump passes in turn, and each change's After is the count the
// sequence leaves after it.
func TestFoldIsSequential(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		key := store.CounterKey{Counter: limits.SeriesUses, Series: "s"}
		t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		m := &Merged{}
		n := rapid.IntRange(2, 8).Draw(t, "changes")
		for j := range n {
			b := store.Bump{Key: key, Delta: rapid.Int64Range(1, 3).Draw(t, "delta"), At: t0.Add(time.Duration(j) * time.Second),
				Guard: limits.Guard{Counter: key.Counter, Limit: limits.Limit(rapid.IntRange(0, 20).Draw(t, "limit"))}}
			c := &store.Change{Bumps: []store.Bump{b}}
			m.group = append(m.group, &Waiter{Ctx: context.Background(), P: &Planned{c: c, after: make([]store.Count, 1)}})
			m.src = append(m.src, []mergedBump{{at: 0, fold: true}})
		}
		ws := make([]int, n)
		for j := range ws {
			ws[j] = j
		}
		fb, ok := m.fold(key, ws)
		start := store.Count{N: rapid.Int64Range(0, 25).Draw(t, "stored")}
		cur, pass := start, true
		var seq []store.Count
		for _, w := range m.group {
			next, err := w.P.c.Bumps[0].Next(cur)
			if err != nil {
				pass = false
				break
			}
			cur = next
			seq = append(seq, cur)
		}
		if !ok {
			if _, err := sequence(m, store.Count{}); err == nil {
				t.Fatalf("not folded, yet the bumps pass from zero")
			}
			return
		}
		got, err := fb.Next(start)
		if (err == nil) != pass {
			t.Fatalf("fold %+v from %d: %v; the sequence passes: %v", fb, start.N, err, pass)
		}
		if !pass {
			return
		}
		if got != cur {
			t.Fatalf("fold leaves %+v, the sequence %+v", got, cur)
		}
		m.P = &Planned{after: []store.Count{got}}
		m.setLess(map[store.CounterKey]int{key: 0})
		m.Done()
		for j, w := range m.group {
			if w.P.after[0] != seq[j] {
				t.Fatalf("change %d: After %+v, the sequence %+v", j, w.P.after[0], seq[j])
			}
		}
	})
}

// sequence applies the group's bumps one after another from cur.
func sequence(m *Merged, cur store.Count) (store.Count, error) {
	for _, w := range m.group {
		var err error
		if cur, err = w.P.c.Bumps[0].Next(cur); err != nil {
			return cur, err
		}
	}
	return cur, nil
}

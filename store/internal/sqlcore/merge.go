package sqlcore

import (
	"math"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// Merged groups.
//
// A group of changes of a hot series (redemptions of distinct coupons,
// each bumping the series' use counter) is written, first, as one change
// made of them all (mergeGroup): their inserts are multi-row statements
// across the group, and the bumps that several changes make of one counter
// are one guarded bump of their sum, whose bound is exact: the changes
// j = 1..m adding d_j under limits L_j (each d_j increments passing while
// n < L_j) all pass one after another from a stored n exactly when
// n + P_j <= L_j for every j, P_j = d_1 + ... + d_j, that is when
// n <= min_j (L_j - P_j). No savepoint is taken. When anything of the
// merged change fails (a guard, a version, a duplicate, any error), its
// transaction is rolled back whole and the group is written again the
// usual way, one change at a time under savepoints, so that each change
// gets its own outcome: the merged write is only ever taken when every
// change of the group succeeds, and then leaves what running them one
// after another leaves.
//
// Only changes that write coupons, redemptions, events and counters are
// merged, and only when no record is touched by two of them: a merged
// change writes its parts table by table (all inserts of a table before
// its updates), which, with records of distinct changes disjoint, gives
// the outcome of the changes in order, or a failure (a unique key taken
// earlier than it would have been), never a success where the changes in
// order would fail.

// Merged is a group of changes planned as one (MergeGroup).
type Merged struct {
	// P is the merged change's plan.
	P     *Planned
	group []*Waiter
	// src[w][i] is where the i-th bump of the w-th waiter's change is in
	// P's change: its index, and for a folded bump (fold) how much less
	// than the fold's total its counter stood after that change.
	src [][]mergedBump
}

type mergedBump struct {
	at   int
	fold bool
	less int64
}

// MergeGroup plans the group's changes (those whose caller is still
// waiting) as one change, or returns nil when they cannot be merged:
// fewer than two, a change of another kind, a record two changes touch, a
// counter two changes bump that cannot be folded.
func MergeGroup(s *Store, group []*Waiter) *Merged {
	live := make([]*Waiter, 0, len(group))
	for _, w := range group {
		if w.Err = w.Ctx.Err(); w.Err == nil {
			live = append(live, w)
		}
	}
	if len(live) < 2 {
		return nil
	}
	m := &Merged{group: live, src: make([][]mergedBump, len(live))}
	c := mergedChange(live)
	coupons, reds := make(map[string]int, 2*len(live)), make(map[string]int, len(live))
	keys := make(map[store.CounterKey][]int, 4*len(live)) // the waiters bumping each key
	for j, w := range live {
		x := w.P.c
		if !mergeable(x) || !claim(coupons, j, couponIDs(x)) || !claim(reds, j, redemptionIDs(x)) {
			return nil
		}
		c.NewCoupons = append(c.NewCoupons, x.NewCoupons...)
		c.Coupons = append(c.Coupons, x.Coupons...)
		c.NewRedemptions = append(c.NewRedemptions, x.NewRedemptions...)
		c.Redemptions = append(c.Redemptions, x.Redemptions...)
		c.Events = append(c.Events, x.Events...)
		for i := range x.Bumps {
			keys[x.Bumps[i].Key] = append(keys[x.Bumps[i].Key], j)
		}
	}
	folds := map[store.CounterKey]int{} // key -> index of its fold in c.Bumps
	for j, w := range live {
		x := w.P.c
		m.src[j] = make([]mergedBump, len(x.Bumps))
		for i := range x.Bumps {
			b := &x.Bumps[i]
			if len(keys[b.Key]) == 1 {
				m.src[j][i] = mergedBump{at: len(c.Bumps)}
				c.Bumps = append(c.Bumps, *b)
				continue
			}
			f, ok := folds[b.Key]
			if !ok {
				fb, ok := m.fold(b.Key, keys[b.Key])
				if !ok {
					return nil
				}
				f = len(c.Bumps)
				folds[b.Key] = f
				c.Bumps = append(c.Bumps, fb)
			}
			m.src[j][i] = mergedBump{at: f, fold: true}
		}
	}
	m.setLess(folds)
	if m.P = s.planMerged(c); m.P == nil {
		return nil
	}
	return m
}

// mergedChange returns an empty change with room for the records of the
// changes of live.
func mergedChange(live []*Waiter) *store.Change {
	var nc, cu, nr, ru, ev, bu int
	for _, w := range live {
		x := w.P.c
		nc, cu, nr, ru = nc+len(x.NewCoupons), cu+len(x.Coupons), nr+len(x.NewRedemptions), ru+len(x.Redemptions)
		ev, bu = ev+len(x.Events), bu+len(x.Bumps)
	}
	return &store.Change{NewCoupons: make([]coupon.Coupon, 0, nc), Coupons: make([]store.CouponUpdate, 0, cu),
		NewRedemptions: make([]coupon.Redemption, 0, nr), Redemptions: make([]store.RedemptionUpdate, 0, ru),
		Events: make([]coupon.Event, 0, ev), Bumps: make([]store.Bump, 0, bu)}
}

// planMerged plans the merged change c, or returns nil. The group's
// coupon updates are one statement too: naming every column, or on a
// database with a narrow update (Statements.CouponUpdateUsual) the usual
// one's columns.
func (s *Store) planMerged(c *store.Change) *Planned {
	updates := c.Coupons
	rows := len(updates) > 1
	if rows {
		c.Coupons = nil
	}
	p, err := s.plan(c, true)
	if err != nil {
		return nil
	}
	if rows {
		c.Coupons = updates
		planRows := s.planCouponRows
		if s.d.SQL.CouponUpdateUsual != "" {
			planRows = s.planCouponRowsUsual
		}
		if !planRows(p, updates) {
			return nil
		}
	}
	return p
}

// mergeable reports whether c writes nothing but coupons, redemptions,
// events and counters.
func mergeable(c *store.Change) bool {
	return c.Series == nil && len(c.Audience) == 0 && len(c.Notices) == 0 && c.Sequence == nil &&
		len(c.Leases) == 0 && len(c.LeaseOps) == 0 && len(c.TillEntries) == 0 && len(c.TillEntryUpdates) == 0
}

// claim records ids as the j-th change's; false when another change has
// one of them.
func claim(owner map[string]int, j int, ids []string) bool {
	for _, id := range ids {
		if o, ok := owner[id]; ok && o != j {
			return false
		}
		owner[id] = j
	}
	return true
}

// couponIDs are the coupons c writes or names.
func couponIDs(c *store.Change) []string {
	ids := make([]string, 0, len(c.NewCoupons)+len(c.Coupons)+len(c.NewRedemptions)+len(c.Redemptions))
	for i := range c.NewCoupons {
		ids = append(ids, c.NewCoupons[i].ID)
	}
	for i := range c.Coupons {
		ids = append(ids, c.Coupons[i].Coupon.ID)
	}
	for i := range c.NewRedemptions {
		ids = append(ids, c.NewRedemptions[i].CouponID)
	}
	for i := range c.Redemptions {
		ids = append(ids, c.Redemptions[i].Redemption.CouponID)
	}
	return ids
}

// redemptionIDs are the redemptions c writes.
func redemptionIDs(c *store.Change) []string {
	ids := make([]string, 0, len(c.NewRedemptions)+len(c.Redemptions))
	for i := range c.NewRedemptions {
		ids = append(ids, c.NewRedemptions[i].ID)
	}
	for i := range c.Redemptions {
		ids = append(ids, c.Redemptions[i].Redemption.ID)
	}
	return ids
}

// fold returns the one bump of key k that stands for the bumps of it by
// the waiters ws (in queue order), or false when they cannot be folded:
// one is not an increment that a counter never bumped passes
// (classOf), or has a minimum gap, or their bound is below zero (the
// group cannot pass from zero). The fold adds their sum K, at the last
// one's time, under the limit B + K (B the bound above: its k increments
// pass while n <= B), or none when no bump has a limit.
func (m *Merged) fold(k store.CounterKey, ws []int) (store.Bump, bool) {
	var sum int64
	bound, limited := int64(math.MaxInt64), false
	var at store.Bump
	for _, j := range ws {
		b := bumpOf(m.group[j].P.c, k)
		if b.Guard.MinGap > 0 || b.Rewind != nil {
			return store.Bump{}, false
		}
		if _, ok := classOf(b); !ok || sum > math.MaxInt64-b.Delta {
			return store.Bump{}, false
		}
		sum += b.Delta
		if b.Guard.Limit > limits.NoLimit {
			limited = true
			bound = min(bound, int64(b.Guard.Limit)-sum)
		}
		at = *b
	}
	f := store.Bump{Key: k, Delta: sum, At: at.At, Guard: limits.Guard{Counter: at.Guard.Counter}}
	if limited {
		if bound < 0 || bound > math.MaxInt64-sum {
			return store.Bump{}, false
		}
		f.Guard.Limit = limits.Limit(bound + sum)
	}
	return f, true
}

// bumpOf returns c's bump of k (a change bumps a counter once).
func bumpOf(c *store.Change, k store.CounterKey) *store.Bump {
	for i := range c.Bumps {
		if c.Bumps[i].Key == k {
			return &c.Bumps[i]
		}
	}
	return nil
}

// setLess records, for each folded bump, how far below the fold's total
// its counter stood after its change: the deltas of the later changes.
func (m *Merged) setLess(folds map[store.CounterKey]int) {
	for k := range folds {
		var later int64
		for j := len(m.group) - 1; j >= 0; j-- {
			x := m.group[j].P.c
			for i := range x.Bumps {
				if x.Bumps[i].Key == k {
					m.src[j][i].less = later
					later += x.Bumps[i].Delta
				}
			}
		}
	}
}

// Done reports the merged change written: every change of it succeeded,
// its bumps' counters as they stood after it.
func (m *Merged) Done() {
	for j, w := range m.group {
		w.Err = nil
		x := w.P.c
		for i := range x.Bumps {
			src := m.src[j][i]
			a := m.P.after[src.at]
			if src.fold {
				a = store.Count{N: a.N - src.less, Last: x.Bumps[i].At}
			}
			w.P.after[i] = a
		}
	}
}

package memstore

import (
	"iter"
	"slices"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/store"
)

// matcher is a CouponFilter prepared for matching: its ids sorted and
// without duplicates, which the candidates honour, and the filter without
// them, which each candidate must pass.
type matcher struct {
	f   *store.CouponFilter
	ids []string
	g   store.CouponFilter // f without IDs
}

func newMatcher(f *store.CouponFilter) matcher {
	m := matcher{f: f, g: *f}
	m.g.IDs = nil
	if len(f.IDs) > 0 {
		m.ids = slices.Clone(f.IDs)
		slices.Sort(m.ids)
		m.ids = slices.Compact(m.ids)
	}
	return m
}

// match reports whether c passes every set field of the filter but IDs,
// which the candidates already honour.
func (m *matcher) match(c *coupon.Coupon) bool { return m.g.Match(c) }

// candidates yields, in increasing order and above afterID, the ids of the
// coupons that may match m: those named by IDs, else those with the issue
// keys, else those of the holder, else the series' pool when only
// Available coupons are asked for, else those of the series, else every
// coupon. The caller holds the lock and still checks each candidate with
// m.match.
func (s *Store) candidates(m *matcher, afterID string) iter.Seq[string] {
	switch {
	case m.ids != nil:
		return above(m.ids, afterID)
	case len(m.f.IssueKeys) > 0:
		return above(s.issueKeyIDs(m.f), afterID)
	case m.f.Holder != "":
		if r := s.custs[m.f.Holder]; r != nil {
			return r.coupons.after(afterID)
		}
		return func(func(string) bool) {}
	case m.f.SeriesID != "":
		r := s.series[m.f.SeriesID]
		switch {
		case r == nil:
			return func(func(string) bool) {}
		case len(m.f.States) == 1 && m.f.States[0] == coupon.Available:
			return r.pool.after(afterID)
		}
		return r.ids.after(afterID)
	}
	return s.all.after(afterID)
}

// above yields the ids of sorted ids that are greater than afterID.
func above(ids []string, afterID string) iter.Seq[string] {
	return func(yield func(string) bool) {
		i, _ := slices.BinarySearch(ids, afterID)
		for _, id := range ids[i:] {
			if id > afterID && !yield(id) {
				return
			}
		}
	}
}

// issueKeyIDs returns, sorted, the ids of the coupons with f's issue keys,
// in f's series or, when it names none, in any: one index lookup per key
// (and series). The caller holds the lock.
func (s *Store) issueKeyIDs(f *store.CouponFilter) []string {
	var ids []string
	find := func(series string) {
		for _, k := range f.IssueKeys {
			if id, ok := s.issueIdx[issueKey{series, k}]; ok {
				ids = append(ids, id)
			}
		}
	}
	if f.SeriesID != "" {
		find(f.SeriesID)
	} else {
		for id := range s.series {
			find(id)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

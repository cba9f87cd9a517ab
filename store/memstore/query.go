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
// coupons that may match m: those named by IDs, else those of the holder,
// else the series' pool when only Available coupons are asked for, else
// those of the series, else every coupon. The caller holds the lock and
// still checks each candidate with m.match.
func (s *Store) candidates(m *matcher, afterID string) iter.Seq[string] {
	switch {
	case m.ids != nil:
		return func(yield func(string) bool) {
			i, _ := slices.BinarySearch(m.ids, afterID)
			for _, id := range m.ids[i:] {
				if id > afterID && !yield(id) {
					return
				}
			}
		}
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

package memstore

import (
	"context"

	"github.com/couponkit/couponkit/store"
)

// ReadCode implements store.CodeReader: the coupons of the code, the
// version of each one's series and the counters of its uses, under one
// read lock, finding the code-level and customer-level counters from the
// coupon's record (see codeHome) rather than by their keys.
func (s *Store) ReadCode(ctx context.Context, seriesID, code string, counters []store.CouponCounter, dst []store.CodeRead) ([]store.CodeRead, error) {
	if err := ctx.Err(); err != nil {
		return dst, err
	}
	if len(counters) > store.MaxCodeCounters {
		return store.ReadCodeWith(ctx, s, seriesID, code, counters, dst) // its error
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	x := s.byCode.get(code)
	if x.one != nil { // the usual case: one coupon has the code
		if r := x.one; seriesID == "" || r.c.SeriesID == seriesID {
			return s.appendCodeRead(dst, r, counters)
		}
		return dst, nil
	}
	for id := range x.set.after("") {
		if r := s.recs[id]; seriesID == "" || r.c.SeriesID == seriesID {
			var err error
			if dst, err = s.appendCodeRead(dst, r, counters); err != nil {
				return dst, err
			}
		}
	}
	return dst, nil
}

// appendCodeRead appends to dst the read of the stored coupon r: a copy of
// it, its series' version and the counters named. A coupon whose series is
// not stored fails as store.SeriesVersion does. Caller holds the lock.
func (s *Store) appendCodeRead(dst []store.CodeRead, r *couponRec, counters []store.CouponCounter) ([]store.CodeRead, error) {
	sr := s.storedSeries(r.c.SeriesID)
	if sr == nil {
		return dst, notFound("series", r.c.SeriesID)
	}
	dst = append(dst, store.CodeRead{Coupon: r.c, SeriesVersion: sr.Version})
	read := &dst[len(dst)-1]
	for i := range counters {
		k := counters[i].Key(&r.c)
		if p := s.counter(&k, false, r); p != nil {
			read.Counts[i] = *p
		}
	}
	return dst, nil
}

package memstore

import (
	"context"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/store"
)

// InsertCoupons implements store.Store. A coupon is skipped when its id,
// its unique key or its issue key is already stored or taken by an earlier
// coupon of the batch; an event is skipped when its CouponID names a skipped coupon and no
// inserted one. The whole batch is written under one lock hold.
func (s *Store) InsertCoupons(ctx context.Context, coupons []coupon.Coupon, events []coupon.Event) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	for i := range coupons {
		if coupons[i].ID == "" {
			return 0, emptyID("ID")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var skipped, inserted map[string]bool // inserted is kept only when there are events
	if len(events) > 0 {
		inserted = make(map[string]bool, len(coupons))
	}
	n := 0
	for i := range coupons {
		c := &coupons[i]
		_, keyTaken := s.unique[keyOf(c)]
		if k, ok := issueKeyOf(c); ok && !keyTaken {
			_, keyTaken = s.issueIdx[k]
		}
		if keyTaken || s.stored(c.ID) != nil {
			if skipped == nil {
				skipped = make(map[string]bool)
			}
			skipped[c.ID] = true
			continue
		}
		s.insertCoupon(c)
		n++
		if inserted != nil {
			inserted[c.ID] = true
		}
	}
	for i := range events {
		e := &events[i]
		if skipped[e.CouponID] && !inserted[e.CouponID] {
			continue
		}
		s.appendEvent(e)
	}
	return n, nil
}

// UpdateWhere implements store.Store. The whole update is written under one
// lock hold.
func (s *Store) UpdateWhere(ctx context.Context, f store.CouponFilter, u store.BulkUpdate) ([]coupon.Coupon, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := newMatcher(&f)
	s.mu.Lock()
	defer s.mu.Unlock()
	var hits []*coupon.Coupon
	for id := range s.candidates(&m, "") {
		r := s.stored(id)
		if r == nil || !m.match(&r.c) {
			continue
		}
		p := &r.c
		hits = append(hits, p)
		if u.Limit > 0 && len(hits) == u.Limit {
			break
		}
	}
	if len(hits) == 0 {
		return nil, nil
	}
	out := make([]coupon.Coupon, len(hits))
	for i, p := range hits {
		if p.State != u.To {
			s.movePool(p, p.SeriesID, u.To)
			p.State = u.To
			p.LastStatusChange = u.At
		}
		p.Version++
		out[i] = *p
		e := u.Event
		e.ID = u.EventIDPrefix + p.ID
		e.CouponID = p.ID
		e.SeriesID = p.SeriesID
		e.Code = p.Code
		e.Customer = p.Holder
		s.appendEvent(&e)
	}
	return out, nil
}

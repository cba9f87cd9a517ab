package memstore

import (
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/store"
)

// The redemptions of a change: checkRedemptions checks the inserts and
// updates against the stored records and their idempotency keys;
// insertRedemption and updateRedemption write them and keep the indexes.

func (s *Store) checkRedemptions(c *store.Change) error {
	for i := range c.NewRedemptions {
		r := &c.NewRedemptions[i]
		if r.ID == "" {
			return emptyID("NewRedemptions.ID")
		}
		if _, ok := s.reds.get(r.ID); ok {
			return exists("redemption", r.ID)
		}
		if r.IdempotencyKey != "" {
			if rec := s.lookup(r.CouponID); rec != nil {
				if _, ok := s.redByKey(rec, r.IdempotencyKey); ok {
					return exists("redemption", r.CouponID+"/"+r.IdempotencyKey)
				}
			}
		}
		for k := range i { // two records of the change with one key
			if o := &c.NewRedemptions[k]; r.IdempotencyKey != "" && o.IdempotencyKey == r.IdempotencyKey && o.CouponID == r.CouponID {
				return exists("redemption", r.CouponID+"/"+r.IdempotencyKey)
			}
		}
	}
	sc := &s.scratch
	sc.reds = sc.reds[:0]
	for j := range c.Redemptions {
		u := &c.Redemptions[j]
		num, stored := s.reds.get(u.Redemption.ID)
		if !stored || s.reds.status(num) != u.ExpectStatus {
			return conflict("redemption", u.Redemption.ID)
		}
		if r := &u.Redemption; r.IdempotencyKey != "" &&
			(!s.reds.keyIs(num, r.IdempotencyKey) || string(s.reds.field(num, fieldCoupon)) != r.CouponID) {
			if rec := s.lookup(r.CouponID); rec != nil {
				if o, ok := s.redByKey(rec, r.IdempotencyKey); ok && o != num {
					return exists("redemption", r.CouponID+"/"+r.IdempotencyKey)
				}
			}
			for k := range c.NewRedemptions {
				if o := &c.NewRedemptions[k]; o.IdempotencyKey == r.IdempotencyKey && o.CouponID == r.CouponID {
					return exists("redemption", r.CouponID+"/"+r.IdempotencyKey)
				}
			}
		}
		sc.reds = append(sc.reds, num)
	}
	return nil
}

func (s *Store) insertRedemption(r *coupon.Redemption) {
	num := s.reds.add(r)
	rec := s.recFor(r.CouponID)
	rec.addRed(s.refOf(num, r))
	if r.Customer != "" {
		cr := s.custOf(r.Customer, rec)
		if cr == nil {
			cr = s.custFor(r.Customer)
		}
		cr.addRed(num)
	}
	sr := s.seriesFor(r.SeriesID)
	sr.reds = append(sr.reds, int32(num))
	if r.Status == coupon.StatusHeld {
		s.held[num] = struct{}{}
	}
}

// updateRedemption replaces stored redemption num by r (the same id),
// moving it in the indexes when its coupon, series, key or status change.
func (s *Store) updateRedemption(num int, r *coupon.Redemption) {
	old := s.reds.decode(num)
	if r.Status == coupon.StatusHeld {
		s.held[num] = struct{}{}
	} else {
		delete(s.held, num)
	}
	if old.SeriesID != r.SeriesID {
		o := s.seriesFor(old.SeriesID)
		o.reds = without(o.reds, num)
		n := s.seriesFor(r.SeriesID)
		n.reds = append(n.reds, int32(num))
	}
	if old.Customer != r.Customer {
		if old.Customer != "" {
			o := s.custFor(old.Customer)
			o.reds = without(o.reds, num)
		}
		if r.Customer != "" {
			s.custFor(r.Customer).addRed(num)
		}
	}
	switch {
	case old.CouponID != r.CouponID:
		s.recFor(old.CouponID).removeRed(num)
		s.recFor(r.CouponID).addRed(s.refOf(num, r))
	case old.IdempotencyKey != r.IdempotencyKey:
		s.recFor(r.CouponID).rekey(s.refOf(num, r))
	}
	s.reds.update(num, r)
}

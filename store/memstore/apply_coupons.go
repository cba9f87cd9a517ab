package memstore

import (
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/store"
)

// The coupons of a change: checkCoupons checks the inserts and updates
// against the stored coupons and their unique keys; insertCoupon and
// updateCoupon write them and keep the indexes.

func (s *Store) checkCoupons(c *store.Change) error {
	for i := range c.NewCoupons {
		id := c.NewCoupons[i].ID
		if id == "" {
			return emptyID("NewCoupons.ID")
		}
		if s.stored(id) != nil {
			return exists("coupon", id)
		}
	}
	sc := &s.scratch
	sc.coupons = sc.coupons[:0]
	keyMoved := false
	for j := range c.Coupons {
		u := &c.Coupons[j]
		id := u.Coupon.ID
		r := s.lookupCoupon(id, u.Coupon.Canonical)
		if r == nil || !r.stored || r.c.Version != u.ExpectVersion {
			return conflict("coupon", id)
		}
		p := &r.c
		if keyOf(p) != keyOf(&u.Coupon) || p.IssueKey != u.Coupon.IssueKey {
			keyMoved = true
		}
		sc.coupons = append(sc.coupons, p)
	}
	if len(c.NewCoupons) > 0 || keyMoved {
		if err := s.checkCouponKeys(c); err != nil {
			return err
		}
		return s.checkIssueKeys(c)
	}
	return nil
}

// checkIssueKeys does for issue keys what checkCouponKeys does for the
// coupons' unique keys: the (series, issue key) that c's inserts and
// updates leave on a coupon must be on no other coupon after c.
func (s *Store) checkIssueKeys(c *store.Change) error {
	written := make(map[string]*coupon.Coupon, len(c.NewCoupons)+len(c.Coupons))
	for i := range c.NewCoupons {
		written[c.NewCoupons[i].ID] = &c.NewCoupons[i]
	}
	for j := range c.Coupons {
		written[c.Coupons[j].Coupon.ID] = &c.Coupons[j].Coupon
	}
	taken := make(map[issueKey]string)
	check := func(cp *coupon.Coupon) error {
		k, ok := issueKeyOf(cp)
		if !ok {
			return nil
		}
		if _, dup := taken[k]; dup {
			return exists("issue", k.String())
		}
		taken[k] = cp.ID
		// A stored owner keeps the key unless c rewrites it, and then the
		// check above sees it if it keeps the key.
		if owner, stored := s.issueIdx[k]; stored && owner != cp.ID && written[owner] == nil {
			return exists("issue", k.String())
		}
		return nil
	}
	for i := range c.NewCoupons {
		if err := check(&c.NewCoupons[i]); err != nil {
			return err
		}
	}
	for j := range c.Coupons {
		if err := check(&c.Coupons[j].Coupon); err != nil {
			return err
		}
	}
	return nil
}

// checkCouponKeys checks that ids and unique keys stay unique in the state
// after c: the keys that c's inserts and key-changing updates take must be
// taken by no other coupon, unless that coupon gives its key up in c.
func (s *Store) checkCouponKeys(c *store.Change) error {
	type take struct {
		key uniqueKey
		id  string
	}
	takes := make([]take, 0, len(c.NewCoupons))
	for i := range c.NewCoupons {
		nc := &c.NewCoupons[i]
		takes = append(takes, take{keyOf(nc), nc.ID})
	}
	freed := make(map[string]bool) // stored coupons whose key c changes
	for j, p := range s.scratch.coupons {
		u := &c.Coupons[j].Coupon
		if k := keyOf(u); k != keyOf(p) {
			freed[u.ID] = true
			takes = append(takes, take{k, u.ID})
		}
	}
	taken := make(map[uniqueKey]string, len(takes))
	for _, t := range takes {
		if _, ok := taken[t.key]; ok {
			return exists("coupon", t.key.String())
		}
		taken[t.key] = t.id
		if owner, ok := s.unique[t.key]; ok && owner != t.id && !freed[owner] {
			return exists("coupon", t.key.String())
		}
	}
	return nil
}

func (s *Store) insertCoupon(c *coupon.Coupon) {
	r := s.recFor(c.ID)
	r.c, r.stored = *c, true
	p := &r.c
	s.unique[keyOf(p)] = p.ID
	if k, ok := issueKeyOf(p); ok {
		s.issueIdx[k] = p.ID
	}
	s.addCode(p.Canonical, r)
	sr := s.seriesFor(p.SeriesID)
	sr.ids.add(p.ID)
	if p.State == coupon.Available {
		sr.pool.add(p.ID)
	}
	if p.Holder != "" {
		r.holder = s.custFor(p.Holder)
		r.holder.coupons.add(p.ID)
	}
	s.all.add(p.ID)
	s.home(r)
}

// updateCoupon replaces the stored coupon *p by *c (the same id), moving it
// in the indexes when its series, code, holder, slot or state change.
func (s *Store) updateCoupon(p, c *coupon.Coupon) {
	s.movePool(p, c.SeriesID, c.State)
	if p.IssueKey != c.IssueKey || p.IssueKey != "" && p.SeriesID != c.SeriesID {
		s.moveIssueKey(p, c)
	}
	if p.SeriesID != c.SeriesID || p.Canonical != c.Canonical || p.Holder != c.Holder || p.Shared != c.Shared {
		id := p.ID
		r := s.lookup(id)
		s.unhome(r)
		defer s.home(r) // once *p is *c
		if old := keyOf(p); old != keyOf(c) {
			if s.unique[old] == id {
				delete(s.unique, old)
			}
			s.unique[keyOf(c)] = id
		}
		if p.Canonical != c.Canonical {
			s.removeCode(p.Canonical, r)
			s.addCode(c.Canonical, r)
		}
		if p.SeriesID != c.SeriesID {
			s.seriesFor(p.SeriesID).ids.remove(id)
			s.seriesFor(c.SeriesID).ids.add(id)
		}
		if p.Holder != c.Holder {
			if p.Holder != "" {
				s.custFor(p.Holder).coupons.remove(id)
			}
			r.holder = nil
			if c.Holder != "" {
				r.holder = s.custFor(c.Holder)
				r.holder.coupons.add(id)
			}
		}
	}
	*p = *c
}

// moveIssueKey moves the issue key index entry of coupon p to what c
// holds; call it before changing p.
func (s *Store) moveIssueKey(p, c *coupon.Coupon) {
	if old, ok := issueKeyOf(p); ok && s.issueIdx[old] == p.ID {
		delete(s.issueIdx, old)
	}
	if k, ok := issueKeyOf(c); ok {
		s.issueIdx[k] = p.ID
	}
}

// movePool keeps the pool index right when coupon p moves to series and
// state; call it before changing p.
func (s *Store) movePool(p *coupon.Coupon, series string, state coupon.State) {
	was, is := p.State == coupon.Available, state == coupon.Available
	switch {
	case was && (!is || p.SeriesID != series):
		s.seriesFor(p.SeriesID).pool.remove(p.ID)
		if is {
			s.seriesFor(series).pool.add(p.ID)
		}
	case !was && is:
		s.seriesFor(series).pool.add(p.ID)
	}
}

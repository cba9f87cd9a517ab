package memstore

import (
	"context"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

// scratch holds what Apply's check found, for its commit to use without a
// second lookup. It is reused from call to call under the write lock, so a
// change allocates nothing for it.
type scratch struct {
	coupons []*coupon.Coupon // stored target of each c.Coupons[i]
	reds    []int            // number of the stored target of each c.Redemptions[i]
	values  []store.Count    // value of each counter after c.Bumps[i]
	next    int64            // the sequence's next index after c.Sequence

	lastID       string     // the id s.lookup found last
	last         *couponRec // its record
	lastCustID   string     // the id s.custFor found last
	lastCust     *custRec   // its record
	lastSeriesID string     // the id s.seriesFor found last
	lastSeries   *seriesRec // its record
}

// Apply implements store.Store. It refuses a change that writes a record
// twice (store.Change.Validate), then checks every part of c against the
// stored state under the write lock before it writes anything; on success
// it sets c.Bumps[i].After.
func (s *Store) Apply(ctx context.Context, c *store.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c == nil {
		return errcode.New(errcode.InvalidArgument, "Change", "is nil")
	}
	if err := c.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(c); err != nil {
		return err
	}
	s.commit(c)
	return nil
}

func exists(kind, key string) error { return &store.ExistsError{Kind: kind, Key: key} }

func conflict(kind, id string) error { return &store.ConflictError{Kind: kind, ID: id} }

func emptyID(field string) error { return errcode.New(errcode.InvalidArgument, field, "is empty") }

// check validates every part of c against the stored state, in the order
// the parts apply, and fills s.scratch. It writes nothing else.
func (s *Store) check(c *store.Change) error {
	if err := s.checkSeries(c.Series); err != nil {
		return err
	}
	if err := s.checkCoupons(c); err != nil {
		return err
	}
	if err := s.checkRedemptions(c); err != nil {
		return err
	}
	if err := s.checkAudience(c); err != nil {
		return err
	}
	if err := s.checkLeases(c); err != nil {
		return err
	}
	if err := s.checkBumps(c); err != nil {
		return err
	}
	return s.checkSequence(c.Sequence)
}

// checkSequence checks a sequence advance against the stored next index
// and records the index after it.
func (s *Store) checkSequence(a *store.SequenceAdvance) error {
	if a == nil {
		return nil
	}
	var cur int64
	if r := s.series[a.SeriesID]; r != nil {
		cur = r.next
	}
	next, err := a.Next(cur)
	s.scratch.next = next
	return err
}

func (s *Store) checkSeries(w *store.SeriesWrite) error {
	if w == nil {
		return nil
	}
	id := w.Series.ID
	if id == "" {
		return emptyID("Series.ID")
	}
	old := s.storedSeries(id)
	switch {
	case w.ExpectVersion == 0 && old != nil:
		return exists("series", id)
	case w.ExpectVersion != 0 && (old == nil || old.Version != w.ExpectVersion):
		return conflict("series", id)
	}
	return nil
}

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

// checkBumps checks each bump against the stored counter (store.Bump.Next;
// a change bumps a counter at most once) and records its value after.
func (s *Store) checkBumps(c *store.Change) error {
	sc := &s.scratch
	sc.values = sc.values[:0]
	for i := range c.Bumps {
		b := &c.Bumps[i]
		var cur store.Count
		if p := s.counter(&b.Key, false, sc.last); p != nil {
			cur = *p
		}
		cur, err := b.Next(cur)
		if err != nil {
			return err
		}
		sc.values = append(sc.values, cur)
	}
	return nil
}

// commit writes c, which check accepted.
func (s *Store) commit(c *store.Change) {
	sc := &s.scratch
	if w := c.Series; w != nil {
		v := w.Series.Clone()
		v.Version = w.ExpectVersion + 1
		s.seriesFor(v.ID).s = &v
	}
	for i := range c.NewCoupons {
		s.insertCoupon(&c.NewCoupons[i])
	}
	for j := range c.Coupons {
		s.updateCoupon(sc.coupons[j], &c.Coupons[j].Coupon)
	}
	for i := range c.NewRedemptions {
		s.insertRedemption(&c.NewRedemptions[i])
	}
	for j := range c.Redemptions {
		s.updateRedemption(sc.reds[j], &c.Redemptions[j].Redemption)
	}
	s.commitAudience(c)
	s.commitLeases(c)
	// Where a counter lives is looked up again: the coupons written above
	// may have moved code-level counters.
	for i := range c.Bumps {
		*s.counter(&c.Bumps[i].Key, true, sc.last) = sc.values[i]
		c.Bumps[i].After = sc.values[i]
	}
	for i := range c.Events {
		s.appendEvent(&c.Events[i])
	}
	if a := c.Sequence; a != nil {
		s.seriesFor(a.SeriesID).next = sc.next
	}
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

// appendEvent logs e and chains it to the coupon's and the customer's
// previous events.
func (s *Store) appendEvent(e *coupon.Event) {
	var r *couponRec
	var cr *custRec
	var prevCoupon, prevCustomer evPos
	if e.CouponID != "" {
		r = s.recFor(e.CouponID)
		prevCoupon = r.lastEvent
	}
	if e.Customer != "" {
		if cr = s.custOf(e.Customer, r); cr == nil {
			cr = s.custFor(e.Customer)
		}
		prevCustomer = cr.lastEvent
	}
	p := s.events.append(e, prevCoupon, prevCustomer)
	if r != nil {
		r.lastEvent = p
	}
	if cr != nil {
		cr.lastEvent = p
	}
}

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
	if len(c.Notices) > 0 {
		s.commitNotices(c)
	}
	if a := c.Sequence; a != nil {
		s.seriesFor(a.SeriesID).next = sc.next
	}
}

// commitNotices appends the event of each notice of c whose counter c's
// bumps, written already, took across its value: the counter's value
// before c is the value after its bump less the bump's delta.
func (s *Store) commitNotices(c *store.Change) {
	for i := range c.Notices {
		n := &c.Notices[i]
		for j := range c.Bumps {
			if b := &c.Bumps[j]; b.Key == n.Key && n.Crossed(b.After.N-b.Delta, b.After.N) {
				s.appendEvent(&n.Event)
			}
		}
	}
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

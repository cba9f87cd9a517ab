package refstore

import (
	"context"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// pending is what one Apply would write: every record the change touches,
// as the change leaves it. Apply stages the whole change here, checking each
// part against the stored state (a change writes each record at most once:
// store.Change.Validate), and writes it to the Store only when every check
// has passed.
type pending struct {
	s        *Store
	series   *series.Series
	coupons  map[string]coupon.Coupon
	reds     map[string]coupon.Redemption
	counters map[store.CounterKey]store.Count
	after    []store.Count // the value after each bump, for Bump.After
	next     int64         // the sequence's next index after Change.Sequence
}

// Apply implements store.Store. It is atomic because it writes nothing
// until the whole change has been checked, all under the one mutex.
func (s *Store) Apply(ctx context.Context, c *store.Change) error {
	if c == nil {
		return errcode.New(errcode.InvalidArgument, "Change", "is nil")
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	p := &pending{
		s:        s,
		coupons:  make(map[string]coupon.Coupon),
		reds:     make(map[string]coupon.Redemption),
		counters: make(map[store.CounterKey]store.Count),
	}
	if err := p.stage(c); err != nil {
		return err
	}
	if err := s.stageLeases(c); err != nil {
		return err
	}
	p.commit(c)
	s.commitLeases(c)
	return nil
}

func exists(kind, key string) error { return &store.ExistsError{Kind: kind, Key: key} }

func conflict(kind, id string) error { return &store.ConflictError{Kind: kind, ID: id} }

func emptyID(field string) error { return errcode.New(errcode.InvalidArgument, field, "is empty") }

// stage checks the parts of c in the order they apply and records them in
// p. It writes nothing to the Store.
func (p *pending) stage(c *store.Change) error {
	if w := c.Series; w != nil {
		id := w.Series.ID
		if id == "" {
			return emptyID("Series.ID")
		}
		old, ok := p.s.series[id]
		if w.ExpectVersion == 0 && ok {
			return exists("series", id)
		}
		if w.ExpectVersion != 0 && (!ok || old.Version != w.ExpectVersion) {
			return conflict("series", id)
		}
		v := w.Series.Clone()
		v.Version = w.ExpectVersion + 1
		p.series = &v
	}
	for _, nc := range c.NewCoupons {
		if nc.ID == "" {
			return emptyID("NewCoupons.ID")
		}
		if _, ok := p.s.coupons[nc.ID]; ok {
			return exists("coupon", nc.ID)
		}
		p.coupons[nc.ID] = nc
	}
	for _, u := range c.Coupons {
		if cur, ok := p.s.coupons[u.Coupon.ID]; !ok || cur.Version != u.ExpectVersion {
			return conflict("coupon", u.Coupon.ID)
		}
		p.coupons[u.Coupon.ID] = u.Coupon
	}
	if err := p.checkCouponKeys(); err != nil {
		return err
	}
	for _, nr := range c.NewRedemptions {
		if nr.ID == "" {
			return emptyID("NewRedemptions.ID")
		}
		if _, ok := p.s.reds[nr.ID]; ok {
			return exists("redemption", nr.ID)
		}
		p.reds[nr.ID] = copyRedemption(nr)
	}
	for _, u := range c.Redemptions {
		if cur, ok := p.s.reds[u.Redemption.ID]; !ok || cur.Status != u.ExpectStatus {
			return conflict("redemption", u.Redemption.ID)
		}
		p.reds[u.Redemption.ID] = copyRedemption(u.Redemption)
	}
	if err := p.checkRedemptionKeys(); err != nil {
		return err
	}
	if err := p.stageAudience(c); err != nil {
		return err
	}
	for _, b := range c.Bumps {
		cur, err := b.Next(p.s.counters[b.Key])
		if err != nil {
			return err
		}
		p.counters[b.Key] = cur
		p.after = append(p.after, cur)
	}
	if a := c.Sequence; a != nil {
		next, err := a.Next(p.s.sequences[a.SeriesID])
		if err != nil {
			return err
		}
		p.next = next
	}
	return nil
}

// stageAudience checks the audience updates against the stored lists:
// adding a member is an *store.ExistsError, removing a customer who is not
// one a *store.ConflictError.
func (p *pending) stageAudience(c *store.Change) error {
	for _, u := range c.Audience {
		if u.SeriesID == "" {
			return emptyID("Audience.SeriesID")
		}
		if u.Customer == "" {
			return emptyID("Audience.Customer")
		}
		_, in := p.s.audience[u.SeriesID][u.Customer]
		if !u.Remove && in {
			return exists("audience", u.SeriesID+"/"+u.Customer)
		}
		if u.Remove && !in {
			return conflict("audience", u.SeriesID+"/"+u.Customer)
		}
	}
	return nil
}

// checkCouponKeys checks that every staged coupon's unique key, and issue
// key when it has one, is held by no other coupon once the change is
// applied: not by another staged one, and not by a stored one the change
// leaves alone.
func (p *pending) checkCouponKeys() error {
	taken := make(map[couponKey]string, len(p.coupons))
	issued := make(map[issueKey]string)
	for id, c := range p.coupons {
		k := keyOf(&c)
		if _, dup := taken[k]; dup {
			return exists("coupon", k.String())
		}
		taken[k] = id
		if owner, ok := p.s.unique[k]; ok && owner != id && !p.staged(owner) {
			return exists("coupon", k.String())
		}
		ik, keyed := issueKeyOf(&c)
		if !keyed {
			continue
		}
		if _, dup := issued[ik]; dup {
			return exists("issue", ik.series+"/"+ik.key)
		}
		issued[ik] = id
		if owner, ok := p.s.issueKeys[ik]; ok && owner != id && !p.staged(owner) {
			return exists("issue", ik.series+"/"+ik.key)
		}
	}
	return nil
}

// staged reports whether the change writes the coupon with the given id.
func (p *pending) staged(id string) bool {
	_, ok := p.coupons[id]
	return ok
}

// checkRedemptionKeys does for the (coupon, idempotency key) of redemptions
// what checkCouponKeys does for coupons.
func (p *pending) checkRedemptionKeys() error {
	taken := make(map[redKey]string, len(p.reds))
	for id, r := range p.reds {
		if r.IdempotencyKey == "" {
			continue
		}
		k := redKey{r.CouponID, r.IdempotencyKey}
		if _, dup := taken[k]; dup {
			return exists("redemption", k.coupon+"/"+k.key)
		}
		taken[k] = id
		if owner, ok := p.s.redKeys[k]; ok && owner != id {
			if _, staged := p.reds[owner]; !staged {
				return exists("redemption", k.coupon+"/"+k.key)
			}
		}
	}
	return nil
}

// commit writes the staged change to the Store and sets c.Bumps[i].After.
func (p *pending) commit(c *store.Change) {
	s := p.s
	if p.series != nil {
		s.series[p.series.ID] = *p.series
	}
	for id := range p.coupons { // free the old keys first: coupons may swap keys
		old, ok := s.coupons[id]
		if ok && s.unique[keyOf(&old)] == id {
			delete(s.unique, keyOf(&old))
		}
		if ik, keyed := issueKeyOf(&old); ok && keyed && s.issueKeys[ik] == id {
			delete(s.issueKeys, ik)
		}
	}
	for id, cp := range p.coupons {
		s.coupons[id] = cp
		s.unique[keyOf(&cp)] = id
		if ik, keyed := issueKeyOf(&cp); keyed {
			s.issueKeys[ik] = id
		}
	}
	for id := range p.reds {
		if old, ok := s.reds[id]; ok && s.redKeys[redKey{old.CouponID, old.IdempotencyKey}] == id {
			delete(s.redKeys, redKey{old.CouponID, old.IdempotencyKey})
		}
	}
	for id, r := range p.reds {
		s.reds[id] = r
		if r.IdempotencyKey != "" {
			s.redKeys[redKey{r.CouponID, r.IdempotencyKey}] = id
		}
	}
	for _, u := range c.Audience {
		if u.Remove {
			delete(s.audience[u.SeriesID], u.Customer)
			continue
		}
		if s.audience[u.SeriesID] == nil {
			s.audience[u.SeriesID] = make(map[string]time.Time)
		}
		s.audience[u.SeriesID][u.Customer] = u.At
	}
	s.events = append(s.events, c.Events...)
	for i := range c.Notices {
		n := &c.Notices[i]
		if after, ok := p.counters[n.Key]; ok && n.Crossed(s.counters[n.Key].N, after.N) {
			s.events = append(s.events, n.Event)
		}
	}
	for k, v := range p.counters {
		s.counters[k] = v
	}
	for i := range c.Bumps {
		c.Bumps[i].After = p.after[i]
	}
	if a := c.Sequence; a != nil {
		s.sequences[a.SeriesID] = p.next
	}
}

package storetest

import (
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
)

// The model's uses of a code: redemption, hold and validation, and what
// follows a hold or a redemption (confirm, release, reverse).

// ---- redeem, hold, validate ----

// usePlan is what a redemption or hold decides.
type usePlan struct {
	want   want
	s      *mseries
	c      *coupon.Coupon // the coupon used; a new one when insert
	insert bool
	replay *coupon.Redemption
	// state is the coupon's own refusal (0: none), LimitReached when holds
	// take its last uses.
	state errcode.Code
	rs    []limits.Reason
	// co is what the basket (or the bill) and the budgets decide; bad
	// says its input is refused before anything else.
	co  checkoutPlan
	bad bool
}

// refusals is the list of refusal codes a plan's refusal gives: those of
// the coupon and the rules, then, unless the coupon's own state settles
// the matter, those of the basket or the budgets.
func (p *usePlan) refusals() []errcode.Code {
	out := p.ruleRefusals()
	if len(p.co.refs) > 0 && !settledCodes(out) {
		out = append(out, p.co.refs...)
	}
	return out
}

// ruleRefusals is the list of refusal codes of the coupon and the rules,
// as the refusal model orders and de-duplicates them: the coupon's own
// state alone when it settles the matter; uses held first, then the broken
// rules by code, less the code and customer levels and "once per
// customer" that the held uses already say.
func (p *usePlan) ruleRefusals() []errcode.Code {
	switch p.state {
	case 0, errcode.LimitReached:
	default:
		return []errcode.Code{p.state}
	}
	if slices.Contains(p.rs, limits.NeverIssued) {
		return []errcode.Code{errcode.NotIssued}
	}
	var out []errcode.Code
	held := p.state == errcode.LimitReached
	if held {
		out = append(out, errcode.HeldElsewhere)
	}
	for _, r := range p.rs {
		switch r {
		case limits.CodeLimit, limits.CustomerLimit, limits.RepeatNotAllowed:
			if held {
				continue
			}
		}
		out = append(out, r.Code())
	}
	return out
}

func (m *model) redeemReasons(s *mseries, c *coupon.Coupon, cust string, now time.Time) []limits.Reason {
	r := s.s.Redemption
	var rs []limits.Reason
	if c.IssuedAt.IsZero() {
		rs = append(rs, limits.NeverIssued)
	}
	keys := useKeysOf(s.id(), codeScopeOf(c), cust)
	if !under(m.count(keys[0]).N, s.codeLimit()) {
		rs = append(rs, limits.CodeLimit)
	}
	mine := m.count(keys[1]).N
	if !r.Repeat && mine > 0 {
		rs = append(rs, limits.RepeatNotAllowed)
	} else if !under(mine, s.customerLimit()) {
		rs = append(rs, limits.CustomerLimit)
	}
	if !under(m.count(keys[2]).N, int64(r.MaxPerSeries)) {
		rs = append(rs, limits.SeriesLimit)
	}
	if last := m.count(keys[3]).Last; r.MinGap > 0 && !last.IsZero() && now.Sub(last) < r.MinGap {
		rs = append(rs, limits.RedemptionGap)
	}
	return sortedReasons(rs)
}

// couponState is the coupon's own verdict on one more use: 0, a state
// error, Redeemed when every use is redeemed, LimitReached when the rest
// are held.
func couponState(c *coupon.Coupon, capacity int64, now time.Time) errcode.Code {
	if s := stateAt(c, now); s != coupon.Issued {
		return stateCode(s)
	}
	switch {
	case capacity <= 0:
	case int64(c.Redemptions) >= capacity:
		return errcode.Redeemed
	case int64(c.Redemptions+c.Holds) >= capacity:
		return errcode.LimitReached
	}
	return 0
}

// plan evaluates one use of code by cust on basket b (nil: the bill alone)
// now, as a snapshot: no lapsed hold is released. It is Validate's view
// and the first step of a use. Bad input is refused once the coupon is
// found, before its state and the rules are looked at.
func (m *model) plan(code, cust string, b *mbasket, now time.Time) usePlan {
	cs := m.byCode(code)
	if len(cs) == 0 {
		return usePlan{want: fail(errcode.CouponNotFound)}
	}
	s := m.series[cs[0].SeriesID]
	p := usePlan{s: s, c: cs[0]}
	if s.shared() {
		var own *coupon.Coupon
		issued := false
		for _, c := range cs {
			if c.Holder == cust && own == nil {
				own = c
			}
			issued = issued || !c.IssuedAt.IsZero()
		}
		switch {
		case own != nil:
			p.c = own
		case issued && s.s.Redemption.AnyoneMayRedeem:
			p.insert = true
			p.c = &coupon.Coupon{SeriesID: s.id(), Code: cs[0].Code, Canonical: cs[0].Canonical, Shared: true,
				State: coupon.Issued, Holder: cust, CreatedAt: now, IssuedAt: now, ExpiresAt: s.expiry(now),
				LastStatusChange: now, Version: 2}
		}
	}
	if !s.s.Redemption.AnyoneMayRedeem && p.c.Holder != cust {
		// Not the redeemer's: answered as an unknown code.
		return usePlan{want: fail(errcode.CouponNotFound)}
	}
	if p.co = m.checkout(s, cust, b); p.co.err != 0 {
		p.want, p.bad = fail(p.co.err), true
		return p
	}
	p.state = couponState(p.c, s.capacity(), now)
	p.rs = m.redeemReasons(s, p.c, cust, now)
	if rs := p.refusals(); len(rs) > 0 {
		p.want = refused(rs)
	}
	return p
}

// use runs a redemption (ttl 0) or hold on basket b through the model's
// rules, releasing lapsed holds in the way as the engine does, and returns
// the plan it ends with. It does not apply a success: see applyUse. A
// refusal of the basket alone releases nothing: no hold changes it.
func (m *model) use(code, cust, k string, b *mbasket, hold bool, now time.Time) usePlan {
	for {
		p := m.plan(code, cust, b, now)
		if p.s == nil || p.bad {
			return p // not found, or bad input
		}
		if !p.insert {
			if r := m.byKey(p.c.ID, k); r != nil {
				p.want, p.replay = m.sameUse(r, cust, &p.co, hold, now), r
				if !p.want.success() {
					p.replay = nil
				}
				return p
			}
		}
		if p.want.success() {
			return p
		}
		if p.state != 0 && p.state != errcode.LimitReached || p.state == 0 && len(p.rs) == 0 && !p.co.budget {
			return p
		}
		if m.releaseLapsed(now, func(r *coupon.Redemption) bool { return r.SeriesID == p.s.id() }) > 0 {
			continue
		}
		return p
	}
}

// sameUse is the answer to a request that repeats the key of use r: a
// replay, or the error that says the key was used for another request
// (another kind, customer, bill or basket) or names a hold that is no
// longer live. The model's requests all have the same place.
func (m *model) sameUse(r *coupon.Redemption, cust string, co *checkoutPlan, hold bool, now time.Time) want {
	wasHold := !r.HoldExpiresAt.IsZero()
	switch {
	case wasHold != hold, r.Customer != cust, !r.Bill.Equal(co.bill), m.basketOf[r.ID] != co.basket:
		return fail(errcode.KeyMismatch)
	case !wasHold:
		return ok()
	case r.Status == coupon.StatusReleased && r.ReleasedAt.Before(r.HoldExpiresAt):
		return fail(errcode.HoldReleased)
	case r.Status == coupon.StatusReleased, r.Status == coupon.StatusHeld && !now.Before(r.HoldExpiresAt):
		return fail(errcode.HoldExpired)
	}
	return ok()
}

// applyUse records a successful use of plan p by cust with key k: a
// redemption (ttl 0) or a hold, with the engine's ids for the redemption
// and, when p.insert, the redeemer's new coupon; the bill, discount, parts
// and budget the plan decided, and what it takes of the budgets.
func (m *model) applyUse(p usePlan, cust, k string, ttl time.Duration, redID, newCouponID string, now time.Time) *coupon.Redemption {
	c := p.c
	if p.insert {
		c.ID = newCouponID
		m.coupons[c.ID] = c
		m.event(c, evRec{Kind: coupon.EventIssued, Customer: cust, At: now})
		m.bump(key(limits.SeriesIssued, p.s.id(), "", ""), 1, now)
		m.bump(key(limits.CustomerIssued, p.s.id(), "", cust), 1, now)
	}
	r := &coupon.Redemption{ID: redID, CouponID: c.ID, SeriesID: p.s.id(), Customer: cust, IdempotencyKey: k, At: now,
		Bill: p.co.bill, Discount: decimal.New(p.co.discount, -2), Currency: "EUR",
		Lines: m.digests[p.co.basket], Parts: p.co.parts, Reduced: p.co.reduced, Budget: p.co.spend}
	m.basketOf[r.ID] = p.co.basket
	m.bumpBudgets(r, r.Budget, now)
	kind := coupon.EventRedeemed
	if ttl == 0 {
		r.Status, r.ConfirmedAt = coupon.StatusRedeemed, now
		c.Redemptions++
		if capa := p.s.capacity(); capa > 0 && int64(c.Redemptions) >= capa {
			setState(c, coupon.Redeemed, now)
		}
	} else {
		r.Status, r.HoldExpiresAt = coupon.StatusHeld, now.Add(ttl)
		c.Holds++
		kind = coupon.EventHeld
	}
	c.Version++
	m.reds[r.ID] = r
	m.event(c, useEvent(kind, c, r, now))
	for _, key := range useKeysOf(p.s.id(), codeScopeOf(c), cust) {
		m.bump(key, 1, now)
	}
	return r
}

// ---- confirm, release, reverse ----

// confirm runs Confirm of hold id; on success it returns the redemption.
func (m *model) confirm(id string, now time.Time) (want, *coupon.Redemption, bool) {
	r := m.reds[id]
	if r == nil {
		return fail(errcode.RedemptionNotFound), nil, false
	}
	c := m.coupons[r.CouponID]
	s := m.series[c.SeriesID]
	switch {
	case r.HoldExpiresAt.IsZero():
		return fail(errcode.RedemptionNotFound), nil, false
	case r.Status == coupon.StatusRedeemed || r.Status == coupon.StatusReversed:
		return ok(), r, true
	case r.Status == coupon.StatusReleased && r.ReleasedAt.Before(r.HoldExpiresAt):
		return fail(errcode.HoldReleased), nil, false
	case r.Status == coupon.StatusReleased:
		return fail(errcode.HoldExpired), nil, false
	case !now.Before(r.HoldExpiresAt):
		m.release(r, now)
		return fail(errcode.HoldExpired), nil, false
	}
	if st := stateAt(c, now); st != coupon.Issued {
		return fail(stateCode(st)), nil, false
	}
	capa := s.capacity()
	if capa > 0 && int64(c.Redemptions) >= capa {
		return fail(errcode.Redeemed), nil, false
	}
	c.Holds--
	c.Redemptions++
	if capa > 0 && int64(c.Redemptions) >= capa {
		setState(c, coupon.Redeemed, now)
	}
	c.Version++
	r.Status, r.ConfirmedAt = coupon.StatusRedeemed, now
	m.event(c, useEvent(coupon.EventHoldConfirmed, c, r, now))
	return ok(), r, false
}

func (m *model) releaseHold(id string, now time.Time) want {
	r := m.reds[id]
	switch {
	case r == nil || r.HoldExpiresAt.IsZero():
		return fail(errcode.RedemptionNotFound)
	case r.Status == coupon.StatusReleased:
		return ok() // released before: nothing to do
	case r.Status != coupon.StatusHeld:
		return fail(errcode.InvalidTransition)
	}
	m.release(r, now)
	return ok()
}

// reverse runs Reverse of redemption id, or, when code is set, of the
// redemption of code with idempotency key k.
func (m *model) reverse(id, code, k string, now time.Time) (want, *coupon.Redemption) {
	if code != "" {
		id = ""
		for _, c := range m.byCode(code) {
			if r := m.byKey(c.ID, k); r != nil {
				id = r.ID
				break
			}
		}
	}
	r := m.reds[id]
	if r == nil {
		return fail(errcode.RedemptionNotFound), nil
	}
	c := m.coupons[r.CouponID]
	switch {
	case r.Status == coupon.StatusReversed:
		return fail(errcode.AlreadyReversed), nil
	case r.Status != coupon.StatusRedeemed || c.Redemptions < 1:
		return fail(errcode.RedemptionNotFound), nil
	case c.State == coupon.Revoked:
		return fail(errcode.Revoked), nil
	case c.ReissuedTo != "":
		return fail(errcode.AlreadyReissued), nil
	}
	m.reverseUse(r, c, now, evRec{})
	m.giveBack(r, c, now)
	return ok(), r
}

// reverseUse reverses redemption r of c at now, its event's return fields
// those of back, but gives nothing back to the counters.
func (m *model) reverseUse(r *coupon.Redemption, c *coupon.Coupon, now time.Time, back evRec) {
	c.Redemptions--
	c.Reversed = true
	c.LastStatusChange = now
	if c.State == coupon.Redeemed {
		c.State = coupon.Issued
	}
	c.Version++
	r.Status, r.ReversedAt = coupon.StatusReversed, now
	ev := useEvent(coupon.EventReversed, c, r, now)
	ev.Returned, ev.BudgetBack, ev.UseBack = back.Returned, back.BudgetBack, back.UseBack
	m.event(c, ev)
}

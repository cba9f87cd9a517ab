package couponkit

import (
	"context"
	"errors"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/store"
)

// refuseUse answers a plan that the coupon or the rules refuse. A request
// that repeats a key returns the first result, even when one more use
// would now be refused. A coupon whose own state refuses (revoked, expired,
// not issued, used up) is refused at once: releasing holds would change
// nothing. Otherwise deny decides, after lapsed holds are released.
func (e *Engine) refuseUse(ctx context.Context, p *useplan, req *RedeemRequest, ttl time.Duration, now time.Time, out *RedeemResult) error {
	want := p.params(req)
	if replayed, err := e.replayKey(ctx, p, &want, ttl > 0, now, out); replayed || err != nil {
		return err
	}
	if p.state != nil && !stateRefusal(p.state) {
		return p.state
	}
	if p.state != nil && !errors.Is(p.state, errcode.ErrLimitReached) ||
		p.state == nil && p.d.Allowed() && !p.co.budget {
		// The coupon's state, or the basket alone: releasing holds would
		// change nothing.
		return &refusal.Error{Refusals: p.refusals(time.Time{})}
	}
	return e.deny(ctx, p, now)
}

// stateRefusal reports whether err is the coupon state machine refusing a
// use for a reason the refusal model explains from the coupon itself
// (revoked, expired, not issued, used up, uses held).
func stateRefusal(err error) bool {
	switch errcode.CodeOf(err) {
	case errcode.Revoked, errcode.Expired, errcode.NotIssued, errcode.Redeemed, errcode.LimitReached, errcode.AlreadyIssued:
		return true
	}
	return false
}

// deny returns the refusal of a plan, unless lapsed holds of the series were
// holding the uses it needs: then it releases them and asks for a retry.
func (e *Engine) deny(ctx context.Context, p *useplan, now time.Time) error {
	if p.insert {
		// The plan would make the redeemer's own coupon of a shared code. If
		// a concurrent request made it meanwhile (the same request sent
		// twice, say), this one must see it: its key may replay.
		cs, err := e.st.CouponsByCode(ctx, p.s.ID, p.c.Canonical)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if c.Holder == p.c.Holder {
				return &store.ConflictError{Kind: "coupon", ID: c.ID}
			}
		}
	}
	n, err := e.releaseLapsed(ctx, store.RedemptionQuery{SeriesID: p.s.ID}, now)
	if err != nil {
		return err
	}
	if n > 0 {
		return &store.ConflictError{Kind: "redemption", ID: "lapsed holds released"}
	}
	until, err := e.heldUntil(ctx, p)
	if err != nil {
		return err
	}
	return &refusal.Error{Refusals: p.refusals(until)}
}

// refusals explains the plan's refusal; heldUntil is when the last live hold
// on its coupon lapses. The refusals of the basket and the budgets follow
// those of the rules, unless the coupon's state settles the matter.
//
// It copies what it reads of the plan, so that the plan, which the hot path
// keeps on the stack, does not escape: only a refusal pays for the copies.
func (p *useplan) refusals(heldUntil time.Time) []refusal.Refusal {
	d, rc, q := p.d, p.rc, p.q
	out := refusal.ForUse(&refusal.Use{
		Coupon: p.c, Capacity: p.capacity, HeldUntil: heldUntil,
		Decision: &d, Rules: &p.s.Redemption, Counts: &rc, Request: &q,
		Bill: p.bill, Currency: p.s.Discount.Currency,
	})
	if len(p.co.refs) > 0 && !settled(out) {
		out = append(out, p.co.refs...)
	}
	return out
}

// heldUntil returns when the last hold on the plan's coupon lapses, when
// holds take its last uses (the only case a refusal reports it); the zero
// time otherwise.
func (e *Engine) heldUntil(ctx context.Context, p *useplan) (time.Time, error) {
	if p.insert || p.c.Holds == 0 || p.c.UsesLeft(p.capacity) != 0 {
		return time.Time{}, nil
	}
	hs, err := e.st.ListRedemptions(ctx, store.RedemptionQuery{CouponID: p.c.ID, Status: coupon.StatusHeld})
	if err != nil {
		return time.Time{}, err
	}
	var until time.Time
	for _, h := range hs {
		if h.HoldExpiresAt.After(until) {
			until = h.HoldExpiresAt
		}
	}
	return until, nil
}

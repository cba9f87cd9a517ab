package couponkit

import (
	"context"
	"errors"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// HoldRequest is a redemption request for a use to reserve, with how long
// the hold lives.
type HoldRequest struct {
	RedeemRequest
	// TTL is the hold's time to live; it must be positive.
	TTL time.Duration `json:"ttl"`
}

// Hold reserves one use of a coupon for req.TTL, for a cart not yet paid.
// The hold counts against every limit until it is confirmed (Confirm),
// released (Release) or lapses. Errors are those of Redeem; repeating the
// key of a hold that was released answers ErrHoldReleased, and of one that
// lapsed ErrHoldExpired.
func (e *Engine) Hold(ctx context.Context, req HoldRequest) (RedeemResult, error) {
	ctx, o := e.begin(ctx, observe.Hold, req.Code)
	res, err := e.hold(ctx, req)
	o.end(&err)
	return res, err
}

// hold is Hold, unobserved.
func (e *Engine) hold(ctx context.Context, req HoldRequest) (RedeemResult, error) {
	ttl := req.TTL
	if ttl <= 0 {
		return RedeemResult{}, errcode.New(errcode.InvalidArgument, "TTL", "a hold needs a positive time to live")
	}
	if err := e.holdEnd(ttl); err != nil {
		return RedeemResult{}, err
	}
	return e.use(ctx, req.RedeemRequest, ttl)
}

// UseRef names one use of a coupon (a redemption or a hold): by its id, or
// by the code and the idempotency key it was made with, so that a till need
// not keep ids. SeriesID is needed only when the code exists in several
// series.
//
// Who may call the operations that take one (Confirm, Release, Reverse):
// the checkout or back office that made the use; the id and the key are its
// own. Customer is optional; when given, it must be the customer the use
// was made for, and a use of another customer is reported as not found
// (ErrRedemptionNotFound), exactly as a use that does not exist.
type UseRef struct {
	ID             string      `json:"id,omitempty"`
	Code           string      `json:"code,omitempty"`
	SeriesID       string      `json:"series_id,omitempty"`
	IdempotencyKey string      `json:"idempotency_key,omitempty"`
	Customer       CustomerRef `json:"customer,omitzero"`
}

// ConfirmRequest names a hold to confirm.
type ConfirmRequest struct {
	Hold  UseRef `json:"hold"`
	Actor string `json:"actor,omitempty"`
}

// ReleaseRequest names a hold to give back.
type ReleaseRequest struct {
	Hold   UseRef `json:"hold"`
	Actor  string `json:"actor,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Confirm turns a hold into a redemption. Confirming a confirmed hold
// returns it again (Replayed). A hold whose time to live has passed is
// refused with ErrHoldExpired, whether or not it was already released by a
// cleanup; a hold that was released is refused with ErrHoldReleased.
func (e *Engine) Confirm(ctx context.Context, req ConfirmRequest) (_ RedeemResult, err error) {
	ctx, o := e.begin(ctx, observe.Confirm, req.Hold.Code)
	defer o.end(&err)
	if err := e.admit(req.validate()); err != nil {
		return RedeemResult{}, err
	}
	var out RedeemResult
	err = e.retry(ctx, func() error {
		now := e.now()
		r, c, s, err := e.useOf(ctx, &req.Hold)
		if err != nil {
			return err
		}
		loc, err := e.location(&s)
		if err != nil {
			return err
		}
		p, err := decideConfirm(&r, &c, &s, now, req.Actor)
		switch {
		case p.replay:
			out, err = e.replay(ctx, r, loc)
			return err
		case p.lapsed:
			if rerr := e.releaseHold(ctx, r, c, now, req.Actor, "hold lapsed"); rerr != nil {
				return rerr
			}
			return err
		case err != nil:
			return err
		}
		out = p.w.result(loc)
		return e.st.Apply(ctx, p.w.change(e))
	})
	return out, err
}

// confirmPlan is what a Confirm decides: to answer with the use again
// (replay, the hold was confirmed already), to release a hold that lapsed
// before refusing it (lapsed), or to write w.
type confirmPlan struct {
	replay bool
	lapsed bool
	w      useWrite
}

// decideConfirm decides a Confirm at now of hold r of coupon c in series s.
// A hold that lapsed is refused (HoldExpired) with lapsed set: the engine
// releases it first.
func decideConfirm(r *coupon.Redemption, c *coupon.Coupon, s *series.Series, now time.Time, actor string) (confirmPlan, error) {
	if r.HoldExpiresAt.IsZero() {
		return confirmPlan{}, notAHold(r.ID)
	}
	switch {
	case r.Status == coupon.StatusRedeemed || r.Status == coupon.StatusReversed:
		return confirmPlan{replay: true}, nil
	case r.Status == coupon.StatusHeld && !r.HoldActive(now):
		return confirmPlan{lapsed: true}, holdLive(r, now)
	}
	if err := holdLive(r, now); err != nil {
		return confirmPlan{}, err
	}
	c2, r2, ev, err := coupon.ConfirmHold(*c, *r, now, s.UseCapacity(), actor)
	if err != nil {
		return confirmPlan{}, err
	}
	return confirmPlan{w: useWrite{version: c.Version, c: c2, r: r2, expect: coupon.StatusHeld, ev: ev}}, nil
}

// Release gives a hold back: the use it reserved is free again, and the
// redemption gap counts from the customer's use before it, as a reversal's
// does. Releasing a
// hold that is already released, or lapsed, changes nothing and succeeds, so
// a release can be retried; releasing a confirmed hold is refused with
// ErrInvalidTransition (reverse the redemption instead).
func (e *Engine) Release(ctx context.Context, req ReleaseRequest) (err error) {
	ctx, o := e.begin(ctx, observe.Release, req.Hold.Code)
	defer o.end(&err)
	if err := e.admit(req.validate()); err != nil {
		return err
	}
	reason := req.Reason
	if reason == "" {
		reason = "released"
	}
	return e.retry(ctx, func() error {
		r, c, _, err := e.useOf(ctx, &req.Hold)
		if err != nil {
			return err
		}
		if done, err := decideRelease(&r); done || err != nil {
			return err
		}
		return e.releaseHold(ctx, r, c, e.now(), req.Actor, reason)
	})
}

// decideRelease decides a Release of use r: done when it was released
// already (nothing to write), an error when it is not a hold or was
// confirmed; otherwise the hold is to be released.
func decideRelease(r *coupon.Redemption) (done bool, err error) {
	switch {
	case r.HoldExpiresAt.IsZero():
		return false, notAHold(r.ID)
	case r.Status == coupon.StatusReleased:
		return true, nil
	case r.Status != coupon.StatusHeld:
		return false, errcode.New(errcode.InvalidTransition, "Hold", "the hold was confirmed; reverse the redemption instead")
	}
	return false, nil
}

// ReleaseLapsedHolds releases every hold whose time to live has passed and
// returns how many it released. Lapsed holds are also released on demand
// when they stand in the way of a redemption; this sweep keeps counters
// honest for reports.
func (e *Engine) ReleaseLapsedHolds(ctx context.Context) (_ int, err error) {
	ctx, o := e.begin(ctx, observe.ReleaseLapsedHolds, "")
	defer o.end(&err)
	if err := e.admit(nil); err != nil {
		return 0, err
	}
	return e.releaseLapsed(ctx, store.RedemptionQuery{}, e.now())
}

func (e *Engine) releaseLapsed(ctx context.Context, q store.RedemptionQuery, now time.Time) (int, error) {
	q.Status, q.HoldExpiresBefore, q.Limit = coupon.StatusHeld, now, 256
	n := 0
	for round := 0; ; round++ {
		if round == e.attempts {
			return n, &store.ConflictError{Kind: "redemption", ID: "lapsed holds keep changing"}
		}
		hs, err := e.st.ListRedemptions(ctx, q)
		if err != nil {
			return n, err
		}
		for _, r := range hs {
			c, err := e.st.Coupon(ctx, r.CouponID)
			if err != nil {
				return n, err
			}
			switch err := e.releaseHold(ctx, r, c, now, "", "hold lapsed"); {
			case err == nil:
				n++
			case !errors.Is(err, errcode.ErrConflict):
				return n, err
			}
		}
		if len(hs) < q.Limit {
			return n, nil
		}
	}
}

// releaseHold releases hold r of coupon c at now, giving its use back
// (readGiveBack, giveBackBumps).
func (e *Engine) releaseHold(ctx context.Context, r coupon.Redemption, c coupon.Coupon, now time.Time, actor, reason string) error {
	w, err := releaseWrite(&r, &c, now, actor, reason)
	if err != nil {
		return err
	}
	g, err := e.readGiveBack(ctx, &r, &c)
	if err != nil {
		return err
	}
	w.bumps = giveBackBumps(&g, &r, now)
	return e.st.Apply(ctx, w.change(e))
}

// releaseWrite is the release of hold r of coupon c at now, but for the
// bumps that give its use back. A hold its coupon no longer counts was
// released or confirmed concurrently: a conflict, to read again.
func releaseWrite(r *coupon.Redemption, c *coupon.Coupon, now time.Time, actor, reason string) (useWrite, error) {
	if staleUse(*r, *c) {
		return useWrite{}, &store.ConflictError{Kind: "redemption", ID: r.ID}
	}
	c2, r2, ev, err := coupon.ReleaseHold(*c, *r, now, actor, reason)
	if err != nil {
		return useWrite{}, err
	}
	return useWrite{version: c.Version, c: c2, r: r2, expect: coupon.StatusHeld, ev: ev}, nil
}

// holdLive refuses a hold that was released (ErrHoldReleased) or lapsed
// (ErrHoldExpired), whether or not the lapse was cleaned up yet.
func holdLive(r *coupon.Redemption, now time.Time) error {
	switch {
	case r.HoldExpiresAt.IsZero():
		return nil
	case r.Status == coupon.StatusReleased && r.ReleasedAt.Before(r.HoldExpiresAt):
		return errcode.New(errcode.HoldReleased, "IdempotencyKey", "the hold was released at "+r.ReleasedAt.Format(time.RFC3339))
	case r.Status == coupon.StatusReleased, r.Status == coupon.StatusHeld && !r.HoldActive(now):
		return errcode.New(errcode.HoldExpired, "IdempotencyKey", "the hold lapsed at "+r.HoldExpiresAt.Format(time.RFC3339))
	}
	return nil
}

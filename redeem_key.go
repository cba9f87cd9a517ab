package couponkit

import (
	"context"
	"errors"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// replayKey looks for the use of the plan's coupon with the idempotency key
// of want. When there is one it reports true and either sets *out to that
// first result or, when the key was used with other parameters or names a
// hold that is no longer live, returns the typed error that says so. A
// coupon the plan would make (the redeemer's own of a shared code) has no
// uses yet.
func (e *Engine) replayKey(ctx context.Context, p *useplan, want *coupon.RedeemParams, hold bool, now time.Time, out *RedeemResult) (bool, error) {
	if p.insert {
		return false, nil
	}
	r, err := e.st.RedemptionByKey(ctx, p.c.ID, want.IdempotencyKey)
	if errors.Is(err, errcode.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := sameUse(&r, want, hold, now); err != nil {
		return true, err
	}
	*out, err = e.replay(ctx, r, p.q.At.Location())
	return true, err
}

// sameUse checks that a repeated request is the use r recorded: the same
// kind (hold or redemption), customer, bill, place and lines (none, for a
// bill alone), and, for a hold, one still live or confirmed.
func sameUse(r *coupon.Redemption, want *coupon.RedeemParams, hold bool, now time.Time) error {
	mismatch := func(field, what string) error {
		return errcode.New(errcode.KeyMismatch, field, "the idempotency key was used for "+what+"; use a new key for a new request")
	}
	wasHold := !r.HoldExpiresAt.IsZero()
	switch {
	case wasHold && !hold:
		return mismatch("IdempotencyKey", "a hold, not a redemption")
	case !wasHold && hold:
		return mismatch("IdempotencyKey", "a redemption, not a hold")
	case r.Customer != want.Customer:
		return mismatch("Customer", "another customer")
	case r.Currency != want.Currency || !r.Bill.Equal(want.Bill):
		return mismatch("Bill", "a bill of "+r.Bill.String()+" "+r.Currency)
	case r.Location != want.Location:
		return mismatch("Place", "another place")
	case r.Lines != want.Lines:
		return mismatch("Lines", "other lines")
	}
	return holdLive(r, now)
}

// replay answers a repeated request with use r as first recorded, and its
// coupon as it is now, their times in loc (the series' time zone).
func (e *Engine) replay(ctx context.Context, r coupon.Redemption, loc *time.Location) (RedeemResult, error) {
	c, err := e.st.Coupon(ctx, r.CouponID)
	if err != nil {
		return RedeemResult{}, err
	}
	return RedeemResult{Redemption: r.In(loc), Coupon: c.In(loc), Discount: series.Money{Amount: r.Discount, Currency: r.Currency}, Replayed: true}, nil
}

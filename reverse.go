package couponkit

import (
	"context"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// ReverseRequest names a redemption to reverse.
type ReverseRequest struct {
	Redemption UseRef `json:"redemption"`
	Actor      string `json:"actor,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// Reverse undoes one redemption: the use is given back to every limit and
// the coupon is usable again, with Reversed set and LastStatusChange now.
// The redemption gap then counts from the customer's latest unreversed use
// or live hold in the series, as if the reversed one had not been made. A
// redemption is reversed once; again is ErrAlreadyReversed.
func (e *Engine) Reverse(ctx context.Context, req ReverseRequest) (RedeemResult, error) {
	if err := e.admit(req.validate()); err != nil {
		return RedeemResult{}, err
	}
	var out RedeemResult
	err := e.retry(ctx, func() error {
		r, c, _, err := e.useOf(ctx, &req.Redemption)
		if err != nil {
			return err
		}
		now := e.now()
		c2, r2, ev, err := coupon.Reverse(c, r, now, req.Actor, req.Reason)
		if err != nil {
			return err
		}
		ev.ID = e.newID()
		bumps, err := e.undoUse(ctx, &r, &c, now)
		if err != nil {
			return err
		}
		err = e.st.Apply(ctx, &store.Change{
			Coupons:     []store.CouponUpdate{{Coupon: c2, ExpectVersion: c.Version}},
			Redemptions: []store.RedemptionUpdate{{Redemption: r2, ExpectStatus: coupon.StatusRedeemed}},
			Bumps:       bumps,
			Events:      []coupon.Event{ev},
		})
		out = RedeemResult{Redemption: r2, Coupon: c2, Discount: series.Money{Amount: r2.Discount, Currency: r2.Currency}}
		return err
	})
	return out, err
}

// undoUse returns the bumps that give back the use (or hold) r of coupon c
// at now: one use back on each counter it took and, on the customer's
// series uses counter, whose last-increment time the redemption gap counts
// from, that time moved back to the customer's latest other use that
// still counts (coupon.LastUse). The counter is read before the records, and the
// rewind expects the value read: a use or a give-back of the same customer
// in the series that commits in between makes the change conflict, and the
// engine decides again, so that a concurrent redemption is never
// overwritten.
func (e *Engine) undoUse(ctx context.Context, r *coupon.Redemption, c *coupon.Coupon, now time.Time) ([]store.Bump, error) {
	keys := useKeys(r.SeriesID, store.CodeScope(c), r.Customer)
	bumps := undoBumps(keys[:], now)
	for i := range bumps {
		if bumps[i].Key.Counter != limits.CustomerSeriesUses {
			continue
		}
		var cur [1]store.Count
		if err := e.st.Counters(ctx, keys[i:i+1], cur[:]); err != nil {
			return nil, err
		}
		rs, err := e.st.ListRedemptions(ctx, store.RedemptionQuery{SeriesID: r.SeriesID, Customer: r.Customer})
		if err != nil {
			return nil, err
		}
		bumps[i].Rewind = &store.Rewind{Expect: cur[0], Last: coupon.LastUse(rs, r.ID, now)}
	}
	return bumps, nil
}

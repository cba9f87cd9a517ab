package couponkit

import (
	"context"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// undoUse returns the bumps that give back the use (or hold) r of coupon c
// at now: one use back on each counter it took and, on the customer's
// series uses counter, whose last-increment time the redemption gap counts
// from, that time moved back to the customer's latest other use that
// still counts (lastUse). The counter is read before the records, and the
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
		bumps[i].Rewind = &store.Rewind{Expect: cur[0], Last: lastUse(rs, r.ID, now)}
	}
	return bumps, nil
}

// lastUse is the time the redemption gap counts from once the use except
// is given back: the time of the latest of the other records that still
// count, an unreversed redemption or a hold live at now; the zero time
// when there is none.
func lastUse(rs []coupon.Redemption, except string, now time.Time) time.Time {
	var last time.Time
	for i := range rs {
		r := &rs[i]
		if r.ID == except || !(r.Status == coupon.StatusRedeemed || r.HoldActive(now)) {
			continue
		}
		if r.At.After(last) {
			last = r.At
		}
	}
	return last
}

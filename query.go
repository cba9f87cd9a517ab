package couponkit

import (
	"context"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// CouponView is a coupon with its state now.
type CouponView struct {
	coupon.Coupon
	// Now is the coupon's state at the time of the query (an Issued coupon
	// past its expiry is Expired).
	Now coupon.State `json:"now"`
}

// CouponDetails is a coupon with its state now and its redemptions and
// holds. In JSON the records are "redemption_records": the coupon's own
// "redemptions" is its count.
type CouponDetails struct {
	CouponView
	Redemptions []coupon.Redemption `json:"redemption_records"`
}

// Coupon returns the details of the coupon a code names. For a common code,
// give the holder (customer); otherwise customer may be zero.
func (e *Engine) Coupon(ctx context.Context, seriesID, code string, customer CustomerRef) (CouponDetails, error) {
	holder := ""
	if !customer.IsZero() {
		c, err := e.customers.Resolve(ctx, customer)
		if err != nil {
			return CouponDetails{}, err
		}
		holder = c.ID
	}
	c, _, err := e.couponOf(ctx, seriesID, code, holder)
	if err != nil {
		return CouponDetails{}, err
	}
	rs, err := e.st.ListRedemptions(ctx, store.RedemptionQuery{CouponID: c.ID})
	if err != nil {
		return CouponDetails{}, err
	}
	return CouponDetails{CouponView: CouponView{Coupon: c, Now: c.StateAt(e.now())}, Redemptions: rs}, nil
}

// CustomerCoupons returns the coupons a customer holds, in one series or
// (seriesID "") in all, with their state now; each coupon's Reversed and
// LastStatusChange fields tell whether a redemption of it was reversed and
// when its status last changed.
func (e *Engine) CustomerCoupons(ctx context.Context, customer CustomerRef, seriesID string) ([]CouponView, error) {
	c, err := e.customers.Resolve(ctx, customer)
	if err != nil {
		return nil, err
	}
	cs, err := e.st.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: seriesID, Holder: c.ID}})
	if err != nil {
		return nil, err
	}
	now := e.now()
	out := make([]CouponView, len(cs))
	for i, x := range cs {
		out[i] = CouponView{Coupon: x, Now: x.StateAt(now)}
	}
	return out, nil
}

// CouponHistory returns a coupon's events in the order they happened.
func (e *Engine) CouponHistory(ctx context.Context, couponID string) ([]coupon.Event, error) {
	return e.st.Events(ctx, store.EventQuery{CouponID: couponID})
}

// CustomerHistory returns the events in a customer's history, in the order
// they happened, in one series or (seriesID "") in all.
func (e *Engine) CustomerHistory(ctx context.Context, customer CustomerRef, seriesID string) ([]coupon.Event, error) {
	c, err := e.customers.Resolve(ctx, customer)
	if err != nil {
		return nil, err
	}
	return e.st.Events(ctx, store.EventQuery{Customer: c.ID, SeriesID: seriesID})
}

// SeriesCounters are a series' running totals.
type SeriesCounters struct {
	// Issued is the number of coupons issued from the series.
	Issued int64 `json:"issued"`
	// Uses is the number of unreversed redemptions and live holds.
	Uses int64 `json:"uses"`
	// RemainingIssuable is how many more coupons the series may issue, or
	// -1 without a series maximum.
	RemainingIssuable int64 `json:"remaining_issuable"`
	// RemainingUses is how many more redemptions the series allows, or -1
	// without a series level.
	RemainingUses int64 `json:"remaining_uses"`
}

// Counters returns a series' running totals.
func (e *Engine) Counters(ctx context.Context, seriesID string) (SeriesCounters, error) {
	s, err := e.st.Series(ctx, seriesID)
	if err != nil {
		return SeriesCounters{}, err
	}
	keys := []store.CounterKey{{Counter: limits.SeriesIssued, Series: s.ID}, {Counter: limits.SeriesUses, Series: s.ID}}
	var counts [2]store.Count
	if err := e.st.Counters(ctx, keys, counts[:]); err != nil {
		return SeriesCounters{}, err
	}
	out := SeriesCounters{Issued: counts[0].N, Uses: counts[1].N, RemainingIssuable: -1, RemainingUses: -1}
	if m := s.Issuance.MaxTotal; m > 0 {
		out.RemainingIssuable = max(0, int64(m)-out.Issued)
	}
	if m := s.Redemption.MaxPerSeries; m > 0 {
		out.RemainingUses = max(0, int64(m)-out.Uses)
	}
	return out, nil
}

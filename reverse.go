package couponkit

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// ReverseRequest names a redemption to reverse, whole or in part.
//
// Without Lines, Amount, Chargeback and IdempotencyKey it is a whole
// reversal. With any of them it is a return (see Reverse), and
// IdempotencyKey is required.
type ReverseRequest struct {
	Redemption UseRef `json:"redemption"`
	Actor      string `json:"actor,omitempty"`
	Reason     string `json:"reason,omitempty"`
	// Lines, for a redemption made on a basket's lines, are the units
	// handed back, each line (coupon.Part.Line) at most once; at most
	// basket.MaxLines.
	Lines []basket.Return `json:"lines,omitempty"`
	// Amount, for a redemption made on a basket's lines, is the amount
	// handed back, in the redemption's currency, exact in its minor units
	// and measured before the discount (as coupon.Part.Base). Not with
	// Lines.
	Amount decimal.Decimal `json:"amount,omitzero"`
	// Chargeback marks a return forced by a payment dispute: it never
	// gives back the use. Without Lines or Amount it returns everything
	// left.
	Chargeback bool `json:"chargeback,omitempty"`
	// IdempotencyKey names the return, per redemption: a repeat with the
	// same key and input answers the first result and changes nothing;
	// other input under it is ErrKeyMismatch.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// Reverse undoes one redemption: the use is given back to every limit and
// the coupon is usable again, with Reversed set and LastStatusChange now.
// The redemption gap then counts from the customer's latest unreversed use
// or live hold in the series, as if the reversed one had not been made. A
// redemption is reversed once; again is ErrAlreadyReversed. What it took
// of the series' budgets and no return gave back yet is given back.
//
// With Lines or Amount it is a return of part of a redemption made on a
// basket's lines; with Chargeback and neither, a chargeback of everything
// left; with only an IdempotencyKey, a whole reversal recorded as a
// return. The series' return policy (series.ReturnPolicy) says what a
// partial return or a chargeback gives back: the returned share of the
// budgets, the use (with the return that brings everything back; never
// for a chargeback), both or neither. Returns add up and never give back
// more than was taken; the result's Return says what this one gave back.
// Bad input is an errcode.InvalidArgument error naming the field (more
// units than are left to return, a line the redemption does not hold, an
// amount past what is left), and changes nothing.
func (e *Engine) Reverse(ctx context.Context, req ReverseRequest) (_ RedeemResult, err error) {
	ctx, o := e.begin(ctx, observe.Reverse, req.Redemption.Code)
	defer o.end(&err)
	if err := e.admit(first(req.validate(), req.validateReturn())); err != nil {
		return RedeemResult{}, err
	}
	var out RedeemResult
	err = e.retry(ctx, func() error {
		r, c, s, err := e.useOf(ctx, &req.Redemption)
		if err != nil {
			return err
		}
		// The redemption again, read after its coupon: a return committed
		// after this read moved the coupon's version, which the write
		// expects, so no return is overwritten or given back twice.
		if r, err = e.st.Redemption(ctx, r.ID); err != nil {
			return err
		}
		if req.returning() {
			return e.returnUse(ctx, &req, &r, &c, &s, &out)
		}
		loc, err := e.location(&s)
		if err != nil {
			return err
		}
		now := e.now()
		w, err := reverseWrite(&r, &c, now, req.Actor, req.Reason)
		if err != nil {
			return err
		}
		g, err := e.readGiveBack(ctx, &r, &c)
		if err != nil {
			return err
		}
		w.bumps = giveBackBumps(&g, &r, now)
		out = w.result(loc)
		return e.st.Apply(ctx, w.change(e))
	})
	return out, err
}

// reverseWrite is the reversal of redemption r of coupon c at now, but for
// the bumps that give its use back.
func reverseWrite(r *coupon.Redemption, c *coupon.Coupon, now time.Time, actor, reason string) (useWrite, error) {
	c2, r2, ev, err := coupon.Reverse(*c, *r, now, actor, reason)
	if err != nil {
		return useWrite{}, err
	}
	return useWrite{version: c.Version, c: c2, r: r2, expect: coupon.StatusRedeemed, ev: ev}, nil
}

// useWrite is the change of one transition of a recorded use (a confirm, a
// release, a reversal): the coupon's update from version, the
// redemption's update from status expect, its event, and the bumps that
// give the use back.
type useWrite struct {
	version int64
	c       coupon.Coupon
	r       coupon.Redemption
	expect  coupon.RedemptionStatus
	ev      coupon.Event
	bumps   []store.Bump
}

// change is the store.Change of w, its event's id taken from ids.
func (w *useWrite) change(ids idSource) *store.Change {
	ev := w.ev
	ev.ID = ids.nextID()
	return &store.Change{
		Coupons:     []store.CouponUpdate{{Coupon: w.c, ExpectVersion: w.version}},
		Redemptions: []store.RedemptionUpdate{{Redemption: w.r, ExpectStatus: w.expect}},
		Bumps:       w.bumps,
		Events:      []coupon.Event{ev},
	}
}

// result is the answer of w's operation, its times in loc (the series'
// time zone).
func (w *useWrite) result(loc *time.Location) RedeemResult {
	return RedeemResult{Redemption: w.r.In(loc), Coupon: w.c.In(loc), Discount: series.Money{Amount: w.r.Discount, Currency: w.r.Currency}}
}

// giveBack is what giving back a use reads: the counters of the use and,
// on the customer's series uses counter, whose last-increment time the
// redemption gap counts from, its value and then the customer's uses in
// the series.
type giveBack struct {
	keys    [4]store.CounterKey
	current store.Count         // the customer's series uses counter
	uses    []coupon.Redemption // the customer's uses in the series
}

// readGiveBack reads what giving back the use (or hold) r of coupon c
// needs. The counter is read before the records, and the rewind expects
// the value read (giveBackBumps): a use or a give-back of the same
// customer in the series that commits in between makes the change
// conflict, and the engine decides again, so that a concurrent redemption
// is never overwritten.
func (e *Engine) readGiveBack(ctx context.Context, r *coupon.Redemption, c *coupon.Coupon) (giveBack, error) {
	g := giveBack{keys: useKeys(r.SeriesID, c.Canonical, store.Slot(c), r.Customer)}
	for i := range g.keys {
		if g.keys[i].Counter != limits.CustomerSeriesUses {
			continue
		}
		var cur [1]store.Count
		if err := e.st.Counters(ctx, g.keys[i:i+1], cur[:]); err != nil {
			return g, err
		}
		rs, err := e.st.ListRedemptions(ctx, store.RedemptionQuery{SeriesID: r.SeriesID, Customer: r.Customer})
		if err != nil {
			return g, err
		}
		g.current, g.uses = cur[0], rs
	}
	return g, nil
}

// giveBackBumps returns the bumps that give back the use (or hold) r at
// now, from what readGiveBack read: one use back on each counter it took
// and, on the customer's series uses counter, that counter's last-increment
// time moved back to the customer's latest other use that still counts
// (coupon.LastUse), expecting the value read; and what it took of its
// series' budgets that its returns did not give back yet.
func giveBackBumps(g *giveBack, r *coupon.Redemption, now time.Time) []store.Bump {
	return useBackBumps(g, r, now, r.Budget-r.ReturnedBudget())
}

// useBackBumps returns the bumps of giveBackBumps, but budget, not what
// is left of what r took, given back to the budgets.
func useBackBumps(g *giveBack, r *coupon.Redemption, now time.Time, budget int64) []store.Bump {
	bumps := budgetBumpsBack(undoBumps(g.keys[:], now), r, budget, now)
	for i := range bumps {
		if bumps[i].Key.Counter != limits.CustomerSeriesUses {
			continue
		}
		bumps[i].Rewind = &store.Rewind{Expect: g.current, Last: coupon.LastUse(g.uses, r.ID, now)}
	}
	return bumps
}

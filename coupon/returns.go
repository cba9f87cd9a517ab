package coupon

import (
	"strconv"
	"time"

	"github.com/couponkit/couponkit/errcode"
)

// Return is one return of part of a redemption (or of what was left of
// it), recorded on the redemption (Redemption.Returns) in the order made.
// The request fields (Key, Lines, Amount, Whole, Chargeback) say what was
// asked; the rest what it gave back.
type Return struct {
	// Key is the return's idempotency key: a repeat finds it here.
	Key string    `json:"key,omitempty"`
	At  time.Time `json:"at"`
	// Lines are the units handed back per line, for a return by lines;
	// Amount, for a return by amount, what was handed back measured before
	// the discount, in minor units of the redemption's currency; Whole,
	// a return of everything left. Exactly one is set.
	Lines  []ReturnLine `json:"lines,omitempty"`
	Amount int64        `json:"amount,omitempty"`
	Whole  bool         `json:"whole,omitempty"`
	// Chargeback marks a return forced by the payment's dispute: it never
	// gives back the use.
	Chargeback bool `json:"chargeback,omitempty"`
	// Discount is the share of the redemption's discount that the return
	// carried back, in minor units of the redemption's currency; Budget
	// what it gave back to the series' budgets, in minor units of the
	// series' currency (zero when the series keeps the budget); Use
	// whether it gave back the use (the redemption is then reversed).
	Discount int64 `json:"discount"`
	Budget   int64 `json:"budget,omitempty"`
	Use      bool  `json:"use,omitempty"`
}

// ReturnLine is a number of units of one basket line handed back.
type ReturnLine struct {
	Line     string `json:"line"`
	Quantity int64  `json:"quantity"`
}

// ReturnedBudget returns what r's returns gave back to its series'
// budgets so far: at most r.Budget.
func (r *Redemption) ReturnedBudget() int64 {
	var n int64
	for i := range r.Returns {
		n += r.Returns[i].Budget
	}
	return n
}

// ReturnedDiscount returns the share of r's discount its returns carried
// back so far, in minor units of r.Currency.
func (r *Redemption) ReturnedDiscount() int64 {
	var n int64
	for i := range r.Returns {
		n += r.Returns[i].Discount
	}
	return n
}

// GiveBack records return ret of redemption r of c at at: ret is
// appended to r's Returns and c's Version grows by one (so that two
// returns of one redemption never both write on the same read). When
// ret.Use is set the return also reverses r, as [Reverse] does. The
// event is Returned (Reversed when the use is given back), for the
// holder, with what ret gave back (Event.Returned, BudgetBack, UseBack).
//
// Refused as Reverse refuses: r not a confirmed, unreversed redemption of
// c, c Revoked or replaced by a reissue.
func GiveBack(c Coupon, r Redemption, ret Return, at time.Time, actor, reason string) (Coupon, Redemption, Event, error) {
	var out Coupon
	var rr Redemption
	var ev Event
	if ret.Use {
		var err error
		if out, rr, ev, err = Reverse(c, r, at, actor, reason); err != nil {
			return c, r, Event{}, err
		}
	} else {
		if err := returnable(c, r); err != nil {
			return c, r, Event{}, err
		}
		out, rr = c, r
		out.Version++
		ev = useEvent(out, rr, EventReturned, at, actor)
		ev.Reason = reason
	}
	ret.At = at
	rr.Returns = append(append(make([]Return, 0, len(r.Returns)+1), r.Returns...), ret)
	ev.Returned, ev.BudgetBack, ev.UseBack = ret.Discount, ret.Budget, ret.Use
	return out, rr, ev, nil
}

// returnable checks that r, a redemption of c, may be returned in part.
func returnable(c Coupon, r Redemption) error {
	switch {
	case r.CouponID != c.ID:
		return refuse(errcode.RedemptionNotFound, c, "no redemption "+strconv.Quote(r.ID))
	case r.Status == StatusReversed:
		return refuse(errcode.AlreadyReversed, c, "redemption "+strconv.Quote(r.ID)+" already reversed")
	case r.Status != StatusRedeemed || c.Redemptions < 1:
		return refuse(errcode.RedemptionNotFound, c, "no confirmed redemption "+strconv.Quote(r.ID))
	case c.State == Revoked:
		return stateError(c, Revoked, "return a redemption of")
	case c.ReissuedTo != "":
		return refuse(errcode.AlreadyReissued, c, "replaced by "+strconv.Quote(c.ReissuedTo)+"; its redemptions cannot be returned")
	}
	return nil
}

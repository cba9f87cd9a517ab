package couponkit

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
	"github.com/couponkit/couponkit/series"
)

// MaxReturns bounds the partial returns of one redemption (returns by
// lines or by amount); a whole reversal, which ends them, is always
// possible.
const MaxReturns = 100

// Returns (Reverse with Lines, Amount, Chargeback or an IdempotencyKey):
//
//   - A return by lines hands back units of the lines of a redemption
//     made on a basket; a return by amount hands back an amount of its
//     bill, measured before the discount. The share of the discount it
//     carries back comes from package basket (basket.GiveBack,
//     basket.GiveBackAmount), counted over all the redemption's returns,
//     so that several returns add up, never pass the discount, and equal
//     it once everything is back. A redemption is returned by lines or by
//     amount, not both.
//   - The series' return policy (series.ReturnPolicy) says what a return
//     gives back. The budget: the share of what the redemption took of
//     the series' budgets (coupon.Redemption.Budget) matching the share of
//     the discount carried back, counted over all the returns in the same
//     way. The use: once, with the return that brings everything back
//     (then the redemption is reversed, as a whole reversal). A
//     chargeback never gives back the use. A return without lines or
//     amount hands back everything left: not a chargeback, it is a whole
//     reversal and gives back the use and what is left of the budget,
//     whatever the policy.
//   - Each return is recorded on the redemption (coupon.Redemption.Returns)
//     under its idempotency key, in the same store change as its event
//     (coupon.EventReturned, or EventReversed when it gives back the use,
//     each with what it gave back) and the counter bumps. A repeat
//     answers the first result; other input under the key is refused
//     with ErrKeyMismatch. A refused return writes nothing.

// returning reports whether r asks for a return rather than the plain
// whole reversal.
func (r *ReverseRequest) returning() bool {
	return len(r.Lines) > 0 || !r.Amount.IsZero() || r.Chargeback || r.IdempotencyKey != ""
}

// validateReturn checks the fields of a return.
func (r *ReverseRequest) validateReturn() error {
	if !r.returning() {
		return nil
	}
	if r.IdempotencyKey == "" {
		return errcode.New(errcode.InvalidArgument, "IdempotencyKey", "is required for a return")
	}
	if err := input.Text("IdempotencyKey", input.Key, r.IdempotencyKey); err != nil {
		return err
	}
	switch {
	case len(r.Lines) > 0 && !r.Amount.IsZero():
		return errcode.New(errcode.InvalidArgument, "Amount", "give lines or an amount, not both")
	case len(r.Lines) > basket.MaxLines:
		return errcode.New(errcode.TooMany, "Lines", fmt.Sprintf("%d lines; at most %d", len(r.Lines), basket.MaxLines))
	case r.Amount.Sign() < 0:
		return errcode.New(errcode.InvalidArgument, "Amount", "must be positive")
	}
	for i, l := range r.Lines {
		if err := input.Text("", input.ID, l.Line); err != nil {
			return input.WithinAt("Lines", i, input.Within("Line", err))
		}
	}
	return nil
}

// returnUse makes the return req asks of redemption r of coupon c in
// series s, or answers its repeat, setting out; run in the engine's retry
// loop.
func (e *Engine) returnUse(ctx context.Context, req *ReverseRequest, r *coupon.Redemption, c *coupon.Coupon, s *series.Series, out *RedeemResult) error {
	loc, err := e.location(s)
	if err != nil {
		return err
	}
	asked, err := askedReturn(req, r)
	if err != nil {
		return err
	}
	if i := slices.IndexFunc(r.Returns, func(x coupon.Return) bool { return x.Key == req.IdempotencyKey }); i >= 0 {
		if err := sameReturn(&r.Returns[i], &asked); err != nil {
			return err
		}
		*out = RedeemResult{Redemption: r.In(loc), Coupon: c.In(loc), Discount: series.Money{Amount: r.Discount, Currency: r.Currency},
			Return: r.Returns[i], Replayed: true}
		out.Return.At = out.Return.At.In(loc)
		return nil
	}
	now := e.now()
	ret, err := decideReturn(r, s, asked)
	if err != nil {
		return err
	}
	c2, r2, ev, err := coupon.GiveBack(*c, *r, ret, now, req.Actor, req.Reason)
	if err != nil {
		return err
	}
	w := useWrite{version: c.Version, c: c2, r: r2, expect: coupon.StatusRedeemed, ev: ev}
	if ret.Use {
		g, err := e.readGiveBack(ctx, r, c)
		if err != nil {
			return err
		}
		w.bumps = useBackBumps(&g, r, now, ret.Budget)
	} else {
		w.bumps = budgetBumpsBack(nil, r, ret.Budget, now)
	}
	*out = w.result(loc)
	out.Return = r2.Returns[len(r2.Returns)-1]
	out.Return.At = out.Return.At.In(loc)
	return e.st.Apply(ctx, w.change(e))
}

// askedReturn is the return req asks of r, its request fields alone:
// its lines sorted by line, its amount in minor units of r's currency.
func askedReturn(req *ReverseRequest, r *coupon.Redemption) (coupon.Return, error) {
	ret := coupon.Return{Key: req.IdempotencyKey, Chargeback: req.Chargeback}
	switch {
	case len(req.Lines) > 0:
		ret.Lines = make([]coupon.ReturnLine, len(req.Lines))
		for i, l := range req.Lines {
			ret.Lines[i] = coupon.ReturnLine{Line: l.Line, Quantity: l.Quantity}
		}
		slices.SortStableFunc(ret.Lines, func(a, b coupon.ReturnLine) int { return strings.Compare(a.Line, b.Line) })
	case !req.Amount.IsZero():
		places := int32(series.MinorUnits(r.Currency))
		m := req.Amount.Shift(places)
		if !m.Equal(m.Truncate(0)) || !m.LessThan(decimal.New(basket.MaxLineAmount, 0)) {
			return ret, errcode.New(errcode.InvalidArgument, "Amount",
				fmt.Sprintf("must be a positive amount of %s in its minor units (%d decimal places)", r.Currency, places))
		}
		ret.Amount = m.IntPart()
	default:
		ret.Whole = true
	}
	return ret, nil
}

// sameReturn checks that the return asked under a key is the one recorded
// under it: else ErrKeyMismatch on the first field that differs.
func sameReturn(was, asked *coupon.Return) error {
	field := ""
	switch {
	case !slices.Equal(was.Lines, asked.Lines):
		field = "Lines"
	case was.Amount != asked.Amount:
		field = "Amount"
	case was.Whole != asked.Whole:
		field = "Lines"
	case was.Chargeback != asked.Chargeback:
		field = "Chargeback"
	default:
		return nil
	}
	return errcode.New(errcode.KeyMismatch, field, "idempotency key "+strconv.Quote(was.Key)+" was used for another return of this redemption")
}

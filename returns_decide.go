package couponkit

import (
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// decideReturn decides the return ret (its request fields set, by
// askedReturn) of redemption r under the return policy of its series s:
// the share of the discount it carries back, what it gives back of the
// budgets, and whether it gives back the use. It changes nothing.
func decideReturn(r *coupon.Redemption, s *series.Series, ret coupon.Return) (coupon.Return, error) {
	if err := returnOpen(r, &ret); err != nil {
		return ret, err
	}
	total, before := discountMinor(r), r.ReturnedDiscount()
	final := true
	switch {
	case ret.Lines != nil:
		prev := linesBack(r.Returns)
		now := make([]basket.Return, len(ret.Lines))
		for i, l := range ret.Lines {
			now[i] = basket.Return{Line: l.Line, Quantity: l.Quantity}
		}
		d, _, err := basket.GiveBack(r.Parts, prev, now)
		if err != nil {
			return ret, renameField(err, "Now", "Lines")
		}
		ret.Discount = d
		final = allBack(r.Parts, prev, now)
	case ret.Amount > 0:
		prev, base := amountBack(r.Returns), int64(0)
		for _, p := range r.Parts {
			base += p.Base
		}
		d, err := basket.GiveBackAmount(r.Parts, prev, ret.Amount)
		if err != nil {
			return ret, renameField(err, "Now", "Amount")
		}
		ret.Discount = d
		final = prev+ret.Amount == base
	default:
		if ret.Chargeback && fullyReturned(r) {
			return ret, errcode.New(errcode.InvalidArgument, "Chargeback", "nothing of the redemption is left to return")
		}
		ret.Discount = max(0, total-before)
	}
	switch {
	case ret.Whole && !ret.Chargeback: // a whole reversal gives back all that is left
		ret.Budget, ret.Use = r.Budget-r.ReturnedBudget(), true
	default:
		if s.Returns.GivesBackBudget() {
			after := r.Budget
			if !final {
				after = share(r.Budget, before+ret.Discount, total)
			}
			ret.Budget = min(after-share(r.Budget, before, total), r.Budget-r.ReturnedBudget())
		}
		ret.Use = final && !ret.Chargeback && s.Returns.GivesBackUse()
	}
	return ret, nil
}

// returnOpen checks that r may be returned as ret asks: a confirmed,
// unreversed redemption; a partial return only of one made on a basket's
// lines, with fewer than MaxReturns returns, each by lines or each by
// amount.
func returnOpen(r *coupon.Redemption, ret *coupon.Return) error {
	field := "Lines"
	if ret.Amount > 0 {
		field = "Amount"
	}
	switch {
	case r.Status == coupon.StatusReversed:
		return errcode.New(errcode.AlreadyReversed, "Redemption", "redemption "+r.ID+" already reversed")
	case r.Status != coupon.StatusRedeemed:
		return errcode.New(errcode.RedemptionNotFound, "Redemption", "no confirmed redemption "+r.ID)
	case ret.Whole:
		return nil
	case len(r.Parts) == 0:
		return errcode.New(errcode.InvalidArgument, field, "the redemption was made on the bill alone: reverse it whole")
	case slices.ContainsFunc(r.Returns, func(x coupon.Return) bool { return x.Whole }):
		return errcode.New(errcode.InvalidArgument, field, "everything of the redemption was returned")
	case len(r.Returns) >= MaxReturns:
		return errcode.New(errcode.TooMany, field, fmt.Sprintf("the redemption had %d returns, the most: reverse it whole", len(r.Returns)))
	}
	for _, x := range r.Returns {
		switch {
		case ret.Lines != nil && x.Amount > 0:
			return errcode.New(errcode.InvalidArgument, "Lines", "the redemption is returned by amount: give an amount")
		case ret.Amount > 0 && x.Lines != nil:
			return errcode.New(errcode.InvalidArgument, "Amount", "the redemption is returned by lines: give lines")
		}
	}
	return nil
}

// discountMinor is r's discount in minor units of its currency: the sum
// of its parts, or for a use on the bill alone its discount rounded down.
func discountMinor(r *coupon.Redemption) int64 {
	if len(r.Parts) == 0 {
		return r.Discount.Shift(int32(series.MinorUnits(r.Currency))).Floor().IntPart()
	}
	var n int64
	for _, p := range r.Parts {
		n += p.Discount
	}
	return n
}

// share is b times n over d, rounded down (0 when d is 0): what of the
// budget b goes with n of a discount of d.
func share(b, n, d int64) int64 {
	if d <= 0 {
		return 0
	}
	x := new(big.Int).Mul(big.NewInt(b), big.NewInt(n))
	return x.Quo(x, big.NewInt(d)).Int64()
}

// fullyReturned reports whether every unit, or the whole amount, of r's
// basket is back.
func fullyReturned(r *coupon.Redemption) bool {
	for _, x := range r.Returns {
		if x.Whole {
			return true
		}
	}
	if len(r.Parts) == 0 || len(r.Returns) == 0 {
		return false
	}
	if amt := amountBack(r.Returns); amt > 0 {
		var base int64
		for _, p := range r.Parts {
			base += p.Base
		}
		return amt == base
	}
	return allBack(r.Parts, linesBack(r.Returns), nil)
}

// linesBack sums the units returned per line by rs.
func linesBack(rs []coupon.Return) []basket.Return {
	var out []basket.Return
	at := map[string]int{}
	for _, x := range rs {
		for _, l := range x.Lines {
			i, ok := at[l.Line]
			if !ok {
				i = len(out)
				at[l.Line] = i
				out = append(out, basket.Return{Line: l.Line})
			}
			out[i].Quantity += l.Quantity
		}
	}
	return out
}

// amountBack sums the amounts returned by rs.
func amountBack(rs []coupon.Return) int64 {
	var n int64
	for _, x := range rs {
		n += x.Amount
	}
	return n
}

// allBack reports whether prev and now bring back every unit of parts.
func allBack(parts []coupon.Part, prev, now []basket.Return) bool {
	back := make(map[string]int64, len(parts))
	for _, l := range prev {
		back[l.Line] += l.Quantity
	}
	for _, l := range now {
		back[l.Line] += l.Quantity
	}
	for _, p := range parts {
		if back[p.Line] != p.Quantity {
			return false
		}
	}
	return true
}

// renameField renames the fields of package basket's errors that start
// with from (its parameter's name) to start with to (the request's).
func renameField(err error, from, to string) error {
	es := errcode.All(err)
	if len(es) == 0 {
		return err
	}
	var f errcode.Fields
	for _, e := range es {
		field := e.Field
		if rest, ok := strings.CutPrefix(field, from); ok {
			field = to + rest
		}
		f.Add(e.Code, field, e.Message)
	}
	return f.Err()
}

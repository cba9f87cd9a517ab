package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// raceReturns returns one unit each of a line of one redemption from
// every goroutine, pairs sharing a key, one key more than there are
// units, under a policy that gives back the use and the budget. Never a
// unit more than was bought: the stored returns are exactly the keys that
// succeeded, each pair answers one result, the budget counters equal the
// discount not yet returned, and once every unit is back the use is.
func raceReturns(t *testing.T, e *env, p, round int) {
	keys := max(2, p/2+p%2)
	units := int64(keys - 1)
	s := e.gen(raceName("returns", round), func(s *series.Series) {
		s.Discount = series.Discount{Kind: series.Percent, Percent: dec("10"), Currency: "EUR"}
		s.Budget = series.Budget{Total: nullDec("10000")}
		s.Returns = series.ReturnBoth
	})
	c := e.issue(s.ID, alice)
	r, err := e.e.Redeem(e.ctx, basketReq(c.Code, alice, "pos-1", "EUR", line("A", "cup", units, "10")))
	mustOK(t, err, "Redeem %d cups", units)
	outs := run(p, func(i int) redeemOutcome {
		k := fmt.Sprintf("ret-%d", i%keys)
		res, err := e.giveBack(r.Redemption.ID, k, basket.Return{Line: "A", Quantity: 1})
		return redeemOutcome{key: k, res: res, err: err}
	})
	rule := fmt.Sprintf("%d returns of one cup each (%d keys) on a redemption of %d cups", p, keys, units)
	first := map[string]coupon.Return{}
	for _, o := range outs {
		switch {
		case o.err == nil:
			if f, ok := first[o.key]; ok && !same(t, o.res.Return, f, "%s: both answers under key %s", rule, o.key) {
				continue
			}
			first[o.key] = o.res.Return
		case errors.Is(o.err, errcode.ErrAlreadyReversed), errcode.CodeOf(o.err) == errcode.InvalidArgument, errors.Is(o.err, errcode.ErrConflict):
		default:
			t.Errorf("%s: %v", rule, o.err)
		}
	}
	stored := e.storedRedemption(r.Redemption.ID)
	var discount int64
	for _, x := range stored.Returns {
		if _, ok := first[x.Key]; !ok {
			t.Errorf("%s: a stored return under %s that no caller was told of", rule, x.Key)
		}
		discount += x.Discount
	}
	if int64(len(stored.Returns)) > units || len(stored.Returns) != len(first) {
		t.Errorf("%s: %d returns stored, %d answered, at most %d units", rule, len(stored.Returns), len(first), units)
	}
	same(t, discount, int64(100*len(stored.Returns)), "%s: each cup carries back its euro of discount", rule)
	left := 100*units - discount
	same(t, e.budgetSpent(s.ID, alice), [2]int64{left, left}, "%s: the budget holds the discount not returned", rule)
	back := int64(len(stored.Returns)) == units
	same(t, stored.Status == coupon.StatusReversed, back, "%s: the use is back once every cup is", rule)
}

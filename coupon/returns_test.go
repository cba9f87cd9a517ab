package coupon

import (
	"testing"

	"github.com/couponkit/couponkit/errcode"
)

// GiveBack records a return on the redemption: without the use, the
// coupon keeps its state and only its version moves; with the use, it is
// the reversal. Either way the event says what was given back, and a
// refusal changes nothing.
func TestGiveBack(t *testing.T) {
	red := Redemption{ID: "r1", CouponID: "c1", SeriesID: "s1", Customer: "alice", Status: StatusRedeemed, At: t0, ConfirmedAt: t0,
		Returns: []Return{{Key: "k0", At: t0, Lines: []ReturnLine{{Line: "1", Quantity: 1}}, Discount: 50, Budget: 50}}}
	part := Return{Key: "k1", Lines: []ReturnLine{{Line: "1", Quantity: 1}}, Discount: 50, Budget: 50}
	all := Return{Key: "k2", Whole: true, Discount: 100, Budget: 100, Use: true}
	for _, tc := range []struct {
		name string
		c    Coupon
		r    Redemption
		ret  Return
		want *errcode.Error
		kind EventKind
	}{
		{"part, use kept", fx("redeemed"), red, part, nil, EventReturned},
		{"the rest, use back", fx("redeemed"), red, all, nil, EventReversed},
		{"already reversed", fx("redeemed"), with2(red, func(r *Redemption) { r.Status = StatusReversed }), part, errcode.ErrAlreadyReversed, 0},
		{"a hold", fx("held"), with2(red, func(r *Redemption) { r.Status = StatusHeld }), part, errcode.ErrRedemptionNotFound, 0},
		{"other coupon's", fx("redeemed"), with2(red, func(r *Redemption) { r.CouponID = "c2" }), part, errcode.ErrRedemptionNotFound, 0},
		{"replaced", with(fx("replaced"), func(c *Coupon) { c.Redemptions = 1 }), red, part, errcode.ErrAlreadyReissued, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, r, ev, err := GiveBack(tc.c, tc.r, tc.ret, later, "ops", "goods returned")
			checkErr(t, err, tc.want)
			sameOnError(t, err, out, tc.c)
			sameOnError(t, err, r, tc.r)
			if err != nil {
				return
			}
			if out.Version != tc.c.Version+1 || (out.State != tc.c.State) != tc.ret.Use || (r.Status == StatusReversed) != tc.ret.Use {
				t.Errorf("coupon %+v, redemption %+v", out, r)
			}
			if len(r.Returns) != 2 || r.Returns[1].Key != tc.ret.Key || !r.Returns[1].At.Equal(later) || len(tc.r.Returns) != 1 {
				t.Errorf("returns %+v (the input's: %+v)", r.Returns, tc.r.Returns)
			}
			if ev.Kind != tc.kind || ev.Returned != tc.ret.Discount || ev.BudgetBack != tc.ret.Budget || ev.UseBack != tc.ret.Use ||
				ev.RedemptionID != "r1" || ev.Reason != "goods returned" || ev.Actor != "ops" {
				t.Errorf("event %+v", ev)
			}
			if got := r.ReturnedBudget(); got != 50+tc.ret.Budget {
				t.Errorf("ReturnedBudget %d", got)
			}
		})
	}
}

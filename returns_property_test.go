package couponkit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/memstore"
)

// held is the test's own account of one redemption: its parts, the units
// or amount returned so far, and whether its use and budget are back.
type held struct {
	r        coupon.Redemption
	back     map[string]int64 // units returned per line
	amount   int64            // amount returned
	byAmount bool
	reversed bool  // the redemption is reversed (its use back)
	zero     bool  // a whole reversal gave back all that was left
	kept     int64 // for a policy that keeps the budget: what is kept
}

// left is what the redemption should still hold of the budgets: the
// unreturned share of each part's discount, counted as basket.GiveBack
// counts it (per line, rounded down) or by amount, or all of it when the
// series keeps the budget on returns.
func (h *held) left(p series.ReturnPolicy) int64 {
	if h.zero {
		return 0
	}
	if !p.GivesBackBudget() {
		return h.r.Budget
	}
	var base, disc, n int64
	for _, x := range h.r.Parts {
		base, disc = base+x.Base, disc+x.Discount
		n += x.Discount - x.Discount*h.back[x.Line]/x.Quantity
	}
	if h.byAmount {
		return disc - disc*h.amount/base
	}
	return n
}

// TestReturnsBudgetProperty draws a series with a budget and a return
// policy, then a sequence of redemptions of baskets by three customers,
// whole reversals, chargebacks and partial returns (by lines or by
// amount, some asking more than is left), and checks after each step that
// the budget counters equal the sum of what the redemptions still hold,
// computed here from the units and amounts returned, in all and per
// customer, and never pass their caps; that a return asking more than is
// left is refused naming the field and changes nothing; and that each
// return's answer says what it gave back.
func TestReturnsBudgetProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		st := memstore.New()
		now := time.Date(2030, time.March, 4, 12, 0, 0, 0, time.UTC)
		e := must(couponkit.New(couponkit.Config{Store: st, Now: func() time.Time { return now }}))
		s := drawBudgetSeries(t)
		s.Returns = series.ReturnPolicy(rapid.IntRange(0, 3).Draw(t, "policy"))
		s = must(e.CreateSeries(ctx, s))
		customers := []string{"ann", "ben", "cat"}
		var hs []*held
		for step := range rapid.IntRange(1, 30).Draw(t, "steps") {
			if len(hs) > 0 && rapid.IntRange(0, 2).Draw(t, "op") > 0 {
				h := hs[rapid.IntRange(0, len(hs)-1).Draw(t, "which")]
				returnStep(t, e, &s, h, fmt.Sprintf("ret-%d", step))
			} else if h := redeemStep(t, e, &s, step, rapid.SampledFrom(customers).Draw(t, "customer")); h != nil {
				hs = append(hs, h)
			}
			var total int64
			per := map[string]int64{}
			for _, h := range hs {
				total += h.left(s.Returns)
				per[h.r.Customer] += h.left(s.Returns)
			}
			for _, c := range customers {
				n := spent(t, st, s.ID, c)
				if n[0] != total || n[1] != per[c] {
					t.Fatalf("step %d: counters %v for %s; the redemptions hold %d and %d", step, n, c, total, per[c])
				}
				if s.Budget.PerCustomer.Valid && n[1] > s.Budget.PerCustomer.Decimal.Shift(2).IntPart() {
					t.Fatalf("%s got %d cents past a cap of %s", c, n[1], s.Budget.PerCustomer.Decimal)
				}
			}
			if s.Budget.Total.Valid && total > s.Budget.Total.Decimal.Shift(2).IntPart() {
				t.Fatalf("%d cents given past a budget of %s", total, s.Budget.Total.Decimal)
			}
		}
	})
}

// redeemStep redeems a fresh code on a drawn basket; nil when refused.
func redeemStep(t *rapid.T, e *couponkit.Engine, s *series.Series, step int, cust string) *held {
	ctx := context.Background()
	code := fmt.Sprintf("C%03d", step)
	must(e.Upload(ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: []couponkit.UploadRow{{Code: code, Customer: couponkit.ByID(cust)}}}))
	r, err := e.Redeem(ctx, couponkit.RedeemRequest{Code: code, Customer: couponkit.ByID(cust), IdempotencyKey: "k",
		Bill: series.Money{Currency: "EUR"}, Lines: drawLines(t)})
	if err != nil {
		return nil
	}
	return &held{r: r.Redemption, back: map[string]int64{}}
}

// returnStep makes one drawn return of h (whole, chargeback, by lines or
// by amount) and updates the test's account.
func returnStep(t *rapid.T, e *couponkit.Engine, s *series.Series, h *held, key string) {
	req := couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: h.r.ID}, IdempotencyKey: key}
	kind := rapid.IntRange(0, 5).Draw(t, "kind")
	over := false
	switch {
	case kind == 0:
		req.IdempotencyKey = rapid.SampledFrom([]string{"", key}).Draw(t, "keyed")
	case kind == 1:
		req.Chargeback = true
	case kind <= 3 && !h.byAmount && len(h.r.Parts) > 0:
		p := rapid.SampledFrom(h.r.Parts).Draw(t, "line")
		q := rapid.Int64Range(1, p.Quantity+1).Draw(t, "units")
		over = q > p.Quantity-h.back[p.Line]
		req.Lines = []basket.Return{{Line: p.Line, Quantity: q}}
	case len(h.r.Parts) > 0 && (h.byAmount || len(h.back) == 0):
		var base int64
		for _, p := range h.r.Parts {
			base += p.Base
		}
		a := rapid.Int64Range(1, base+1).Draw(t, "amount")
		over = a > base-h.amount
		req.Amount = decimal.New(a, -2)
	default:
		req.IdempotencyKey = ""
	}
	res, err := e.Reverse(context.Background(), req)
	switch {
	case h.reversed:
		if !errors.Is(err, errcode.ErrAlreadyReversed) {
			t.Fatalf("a return of a reversed redemption: %v", err)
		}
		return
	case over:
		var ce *errcode.Error
		if !errors.As(err, &ce) || ce.Code != errcode.InvalidArgument || (ce.Field != "Amount" && ce.Field != "Lines[0].Quantity" && ce.Field != "Lines") {
			t.Fatalf("a return of more than is left: %v", err)
		}
		return
	case err != nil && req.Chargeback && fullyBack(h):
		return // nothing left to charge back
	case err != nil:
		t.Fatalf("Reverse %+v: %v", req, err)
	}
	account(h, &req, &res, s.Returns)
}

// account updates h for the return req that answered res.
func account(h *held, req *couponkit.ReverseRequest, res *couponkit.RedeemResult, p series.ReturnPolicy) {
	switch {
	case len(req.Lines) > 0:
		h.back[req.Lines[0].Line] += req.Lines[0].Quantity
	case !req.Amount.IsZero():
		h.byAmount = true
		h.amount += req.Amount.Shift(2).IntPart()
	case !req.Chargeback:
		h.zero, h.reversed = true, true
	default: // a chargeback of everything left
		for _, x := range h.r.Parts {
			h.back[x.Line] = x.Quantity
		}
		if h.byAmount {
			for _, x := range h.r.Parts {
				h.amount += x.Base
			}
			h.amount = min(h.amount, sumBase(h.r.Parts))
		}
	}
	if res.Return.Use {
		h.reversed = true
		if !p.GivesBackBudget() {
			h.kept = h.r.Budget
		}
	}
}

func sumBase(ps []coupon.Part) int64 {
	var n int64
	for _, p := range ps {
		n += p.Base
	}
	return n
}

// fullyBack reports whether everything of h was returned.
func fullyBack(h *held) bool {
	if h.byAmount {
		return h.amount == sumBase(h.r.Parts)
	}
	for _, p := range h.r.Parts {
		if h.back[p.Line] != p.Quantity {
			return false
		}
	}
	return true
}

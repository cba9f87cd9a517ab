package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// This file holds the subtests about reading codes: codes are read without
// the series' key. Each is listed in its group.

// wantField fails the test unless err is an *errcode.Error of the code on
// the field.
func wantField(t testing.TB, err error, code errcode.Code, field, rule string, args ...any) {
	t.Helper()
	wantCode(t, err, code, rule, args...)
	var ce *errcode.Error
	if errors.As(err, &ce) && ce.Field != field {
		t.Errorf("%s: the error names field %q, want %q (%v)", fmt.Sprintf(rule, args...), ce.Field, field, err)
	}
}

// tillEngine returns an engine over e's store, clock and customers with no
// CodeKey: a till, which reads and redeems codes but never makes them.
func (e *env) tillEngine() *couponkit.Engine {
	e.t.Helper()
	till, err := couponkit.New(couponkit.Config{Store: e.st, Now: e.clk.Now, Customers: e.dir, Rates: rates})
	if err != nil {
		e.t.Fatalf("couponkit.New without CodeKey: %v", err)
	}
	return till
}

// An engine without CodeKey reads generated and randomized common codes
// with the series named: parsing a code needs its shape, never the key.
func testRedeemWithoutKey(t *testing.T, e *env) {
	gen := e.gen("till generated")
	rnd := e.createSeries(baseSeries("till randomized", series.Source{Kind: series.RandomizedCommon, Sample: "TILL12345"}))
	till := e.tillEngine()
	for i, s := range []series.Series{gen, rnd} {
		c := e.issue(s.ID, alice)
		req := redeemReq("  "+strings.ToLower(c.Code)+" ", alice, fmt.Sprint("till-", i), "100")
		req.SeriesID = s.ID
		chk, err := till.Validate(e.ctx, req)
		if !wantOK(t, err, "an engine without CodeKey validates a %s code typed in lower case with the series named", s.Source.Kind) {
			continue
		}
		if !chk.Allowed() || chk.Coupon.ID != c.ID {
			t.Errorf("Validate without CodeKey finds and allows the %s coupon %s: got %s, %s, %v", s.Source.Kind, c.ID, chk.Coupon.ID, chk.Decision.String(), chk.Err)
		}
		r, err := till.Redeem(e.ctx, req)
		if wantOK(t, err, "an engine without CodeKey redeems a %s code with the series named", s.Source.Kind) && r.Coupon.ID != c.ID {
			t.Errorf("the redemption is of coupon %s, want %s", r.Coupon.ID, c.ID)
		}
		e.wantUses(t, s.ID, c.Canonical, alice, [4]int64{1, 1, 1, 1}, "the redemption without CodeKey is counted once")

		bad := req
		bad.Code, bad.IdempotencyKey = c.Code[:len(c.Code)-1]+"*", "till-bad"
		_, err = till.Redeem(e.ctx, bad)
		wantField(t, err, errcode.InvalidCode, "Code", "a malformed %s code is refused as malformed, whatever the key", s.Source.Kind)
	}
	_, err := till.Issue(e.ctx, couponkit.IssueRequest{SeriesID: gen.ID, Customer: couponkit.ByID(bob)})
	wantField(t, err, errcode.InvalidConfig, "CodeKey", "making a code still needs the key")
}

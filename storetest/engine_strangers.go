package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
)

// strangerTests check that a code tells nothing to a customer who may not
// use it: where only the holder may redeem, "not yours" and "no such code"
// are one answer, with no holder data.
var strangerTests = []test{
	{"ValidateAndRedeem", testStrangerUse},
	{"EveryState", testStrangerEveryState},
}

// sameAnswer fails the test unless the answers to a live code and to an
// unknown one are alike: the same error code, field and text once the code
// itself is blanked out, and none names the holder.
func sameAnswer(t *testing.T, live, unknown error, liveCode, unknownCode, holder, what string) {
	t.Helper()
	if live == nil || unknown == nil {
		t.Errorf("%s: both must be refused: live %v, unknown %v", what, live, unknown)
		return
	}
	var a, b *errcode.Error
	errors.As(live, &a)
	errors.As(unknown, &b)
	blank := func(err error, code string) string { return strings.ReplaceAll(err.Error(), code, "CODE") }
	if a == nil || b == nil || a.Code != b.Code || a.Field != b.Field || blank(live, liveCode) != blank(unknown, unknownCode) {
		t.Errorf("%s: a live code must answer as an unknown one:\n live:    %v\n unknown: %v", what, live, unknown)
	}
	if strings.Contains(live.Error(), holder) {
		t.Errorf("%s: the answer names the holder: %v", what, live)
	}
}

func testStrangerUse(t *testing.T, e *env) {
	s := e.gen("strangers")
	c := e.issue(s.ID, alice)
	const absent = "ZZZZ9999"
	chk, err := e.e.Validate(e.ctx, redeemReq(c.Code, bob, "v1", "100"))
	_, err2 := e.e.Validate(e.ctx, redeemReq(absent, bob, "v1", "100"))
	sameAnswer(t, err, err2, c.Code, absent, alice, "Validate by a non-holder")
	if !errors.Is(err2, errcode.ErrNotFound) || !errors.Is(err2, errcode.ErrCouponNotFound) {
		t.Errorf("an unknown code (682) matches both ErrCouponNotFound and ErrNotFound: %v", err2)
	}
	if chk.Coupon.Holder != "" || !chk.Coupon.ExpiresAt.IsZero() {
		t.Errorf("Validate by a non-holder returns no coupon data: %+v", chk.Coupon)
	}
	_, err = e.tryRedeem(c.Code, bob, "k1")
	_, err2 = e.tryRedeem(absent, bob, "k1")
	sameAnswer(t, err, err2, c.Code, absent, alice, "Redeem by a non-holder")
	_, err = e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(c.Code, bob, "k2", "100"), TTL: time.Minute})
	_, err2 = e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(absent, bob, "k2", "100"), TTL: time.Minute})
	sameAnswer(t, err, err2, c.Code, absent, alice, "Hold by a non-holder")
	// Same with the series named.
	req, req2 := redeemReq(c.Code, bob, "k3", "100"), redeemReq(absent, bob, "k3", "100")
	req.SeriesID, req2.SeriesID = s.ID, s.ID
	_, err = e.e.Redeem(e.ctx, req)
	_, err2 = e.e.Redeem(e.ctx, req2)
	sameAnswer(t, err, err2, c.Code, absent, alice, "Redeem by a non-holder, series named")
	e.wantUses(t, s.ID, c.Canonical, bob, [4]int64{}, "the strangers' attempts count nothing")
}

// testStrangerEveryState checks that a stranger cannot tell a coupon's
// state either: revoked, redeemed, expired and never-issued coupons answer
// as unknown codes do.
func testStrangerEveryState(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("states", uploadSrc(), func(s *series.Series) {
		s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 0}
	}))
	e.upload(s.ID, "S-1", "S-2", "S-3", "S-4")
	const absent = "S-404"
	red := e.issue(s.ID, alice)
	e.redeem(red.Code, alice, "k")
	rev := e.issue(s.ID, alice)
	_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Codes: []string{rev.Code}})
	mustOK(t, err, "Revoke")
	exp := e.issue(s.ID, alice)
	avail := "S-4"
	if exp.Code == avail || red.Code == avail || rev.Code == avail {
		avail = "S-1"
		for _, c := range []string{"S-1", "S-2", "S-3", "S-4"} {
			if c != exp.Code && c != red.Code && c != rev.Code {
				avail = c
			}
		}
	}
	e.clk.Advance(20 * time.Hour)
	_, errAbsent := e.tryRedeem(absent, bob, "k9")
	for _, code := range []string{red.Code, rev.Code, exp.Code, avail} {
		_, err := e.tryRedeem(code, bob, "k9")
		sameAnswer(t, err, errAbsent, code, absent, alice, "Redeem by a stranger of "+code)
	}
}

package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// This file holds the subtests about reading codes: codes are read without
// the series' key, and codes are ASCII. Each is listed in its group (Redeem,
// Upload).

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

// snapshot is what a refused call must leave as it was: a series' counters
// and stored coupons, and its events.
type snapshot struct {
	Counters couponkit.SeriesCounters
	Coupons  []coupon.Coupon
	Events   []coupon.Event
}

func (e *env) snapshot(seriesID string) snapshot {
	e.t.Helper()
	return snapshot{e.counters(seriesID), e.seriesCoupons(seriesID), e.events(store.EventQuery{SeriesID: seriesID})}
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

// Codes are ASCII: a Unicode letter whose upper case is an ASCII one ("ſ" is
// "S", "ı" is "I") does not stand for it.
func testRedeemLookAlike(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("look-alike", uploadSrc()))
	e.upload(s.ID, "SUMMER10")
	c := e.issue(s.ID, alice)
	before := e.snapshot(s.ID)
	for _, typed := range []string{"ſUMMER10", "SUMMER1\u0030\u0301", "ＳUMMER10", "SUMMER10\u00a0"} {
		for _, seriesID := range []string{"", s.ID} {
			req := redeemReq(typed, alice, "k-"+typed, "100")
			req.SeriesID = seriesID
			_, err := e.e.Redeem(e.ctx, req)
			wantField(t, err, errcode.InvalidCode, "Code", "%q is not SUMMER10 (series %q): codes are ASCII", typed, seriesID)
			_, err = e.e.Validate(e.ctx, req)
			wantField(t, err, errcode.InvalidCode, "Code", "Validate of %q (series %q)", typed, seriesID)
		}
	}
	same(t, e.snapshot(s.ID), before, "refused look-alikes change nothing")
	_, err := e.tryRedeem(" summer10 ", alice, "k-ascii")
	wantOK(t, err, "the ASCII code in lower case still redeems %s", c.Code)
}

// An uploaded code with a non-ASCII letter is refused rather than folded
// into an ASCII one ("ıNFO" would be stored as INFO).
func testUploadNonASCII(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("ascii", uploadSrc()))
	before := e.snapshot(s.ID)
	res, err := e.e.Upload(e.ctx, s.ID, []couponkit.UploadRow{{Code: "ıNFO"}, {Code: "ﬀ-1"}, {Code: "INFO\u200b"}}, "op")
	mustOK(t, err, "Upload")
	if res.Added != 0 || len(res.Failed) != 3 {
		t.Fatalf("every non-ASCII code is refused: added %d, failed %+v", res.Added, res.Failed)
	}
	for _, f := range res.Failed {
		wantField(t, f.Err, errcode.InvalidCode, "Code", "upload row %d", f.Row)
	}
	same(t, e.snapshot(s.ID), before, "a refused upload stores nothing")
	_, err = e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(alice), Code: "ıNFO"})
	wantField(t, err, errcode.InvalidCode, "Code", "an issue naming a non-ASCII code is refused")
	e.upload(s.ID, "info")
	if cs := e.seriesCoupons(s.ID); len(cs) != 1 || cs[0].Canonical != "INFO" {
		t.Errorf("the ASCII code is stored as INFO: %+v", cs)
	}
}

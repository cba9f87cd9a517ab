package storetest

import (
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

var redeemTests = []test{
	{"Success", testRedeemSuccess},
	{"Discounts", testRedeemDiscounts},
	{"OtherCurrency", testRedeemCurrency},
	{"ReplaySameKey", testRedeemReplay},
	{"ReplayWithUsesLeft", testRedeemReplayUsesLeft},
	{"DifferentKeys", testRedeemKeys},
	{"KeyIsPerCoupon", testRedeemKeyPerCoupon},
	{"NeedsKey", testRedeemNeedsKey},
	{"CodeLookup", testRedeemLookup},
	{"CodeInSeveralSeries", testRedeemSeveralSeries},
	{"Revoked", testRedeemRevoked},
	{"Expired", testRedeemExpired},
	{"UsedUp", testRedeemUsedUp},
	{"NotIssued", testRedeemNotIssued},
	{"ValidateDryRun", testValidate},
	{"WithoutCodeKey", testRedeemWithoutKey},
	{"UnicodeLookAlike", testRedeemLookAlike},
}

func testRedeemSuccess(t *testing.T, e *env) {
	s := e.gen("redeem")
	c := e.issue(s.ID, alice)
	e.clk.Advance(time.Hour)
	req := redeemReq(c.Code, alice, "pos-1", "64.90")
	req.Place = limits.Place{Till: "t-1", Store: "s-1", Zone: "z-1", Concept: "c-1"}
	req.Actor = "till-7"
	r, err := e.e.Redeem(e.ctx, req)
	if !wantOK(t, err, "an issued single-use coupon redeemed by its holder") {
		return
	}
	now := e.clk.Now()
	want := coupon.Redemption{
		ID: r.Redemption.ID, CouponID: c.ID, SeriesID: s.ID, Customer: alice, IdempotencyKey: "pos-1",
		Status: coupon.StatusRedeemed, At: now, ConfirmedAt: now,
		Location: coupon.Location{Till: "t-1", Store: "s-1", Zone: "z-1", Concept: "c-1"},
		Bill:     dec("64.90"), Discount: dec("10"), Currency: "EUR",
	}
	same(t, r.Redemption, want, "the redemption record of a successful Redeem")
	if r.Redemption.ID == "" || r.Replayed {
		t.Errorf("a first redemption has an id and is not a replay: %+v", r)
	}
	same(t, r.Discount, eur("10"), "a fixed 10 EUR discount on a 64.90 EUR bill")
	if r.Coupon.State != coupon.Redeemed || r.Coupon.Redemptions != 1 || r.Coupon.Version != c.Version+1 || !r.Coupon.LastStatusChange.Equal(now) {
		t.Errorf("a single-use coupon becomes Redeemed with one redemption, version+1 and LastStatusChange now: %+v", r.Coupon)
	}
	same(t, e.stored(c.ID), r.Coupon, "the store must hold the coupon as Redeem returned it")
	same(t, e.storedRedemption(r.Redemption.ID), r.Redemption, "the store must hold the redemption as Redeem returned it")
	byKey, err := e.st.RedemptionByKey(e.ctx, c.ID, "pos-1")
	mustOK(t, err, "RedemptionByKey")
	same(t, byKey, r.Redemption, "RedemptionByKey must find the redemption by coupon and idempotency key")
	if u := e.uses(s.ID, c.Canonical, alice); u != [4]int64{1, 1, 1, 1} {
		t.Errorf("a redemption bumps the code, customer-code, series and customer-series counters once each: %v", u)
	}
	evs := e.history(c.ID)
	if last := evs[len(evs)-1]; last.Kind != coupon.EventRedeemed || last.RedemptionID != r.Redemption.ID || last.Customer != alice ||
		last.Actor != "till-7" || !last.At.Equal(now) || last.Counterparty != "" {
		t.Errorf("a redemption appends a Redeemed event for the holder naming the redemption: %+v", last)
	}
	if n := e.counters(s.ID); n.Uses != 1 || n.RemainingUses != -1 {
		t.Errorf("Counters after one redemption without series level: %+v", n)
	}
}

func testRedeemDiscounts(t *testing.T, e *env) {
	for _, tc := range []struct {
		name string
		d    series.Discount
		bill string
		want string
	}{
		{"fixed", series.Discount{Kind: series.Fixed, Amount: dec("10"), Currency: "EUR"}, "64.90", "10"},
		{"fixed above bill", series.Discount{Kind: series.Fixed, Amount: dec("10"), Currency: "EUR"}, "6.50", "6.50"},
		{"percent", series.Discount{Kind: series.Percent, Percent: dec("15"), Currency: "EUR"}, "20", "3"},
		{"percent rounded", series.Discount{Kind: series.Percent, Percent: dec("12.5"), Currency: "EUR"}, "9.99", "1.25"},
		{"percent capped", series.Discount{Kind: series.Percent, Percent: dec("15"), Cap: nullDec("5"), Currency: "EUR"}, "50", "5"},
	} {
		s := e.gen(tc.name, func(s *series.Series) { s.Discount = tc.d })
		c := e.issue(s.ID, alice)
		r, err := e.e.Redeem(e.ctx, redeemReq(c.Code, alice, "k", tc.bill))
		if !wantOK(t, err, "redeem with a %s discount", tc.name) {
			continue
		}
		same(t, r.Discount, eur(tc.want), "a %s discount on a bill of %s EUR", tc.name, tc.bill)
		same(t, e.storedRedemption(r.Redemption.ID).Discount, dec(tc.want), "the stored redemption keeps the %s discount", tc.name)
	}
}

func testRedeemCurrency(t *testing.T, e *env) {
	s := e.gen("usd", func(s *series.Series) { s.Redemption.MinBill = nullDec("50") })
	c := e.issue(s.ID, alice)
	usd := func(a string) series.Money { return series.Money{Amount: dec(a), Currency: "USD"} }
	req := couponkit.RedeemRequest{Code: c.Code, Customer: couponkit.ByID(alice), IdempotencyKey: "k1", Bill: usd("90")}
	_, err := e.e.Redeem(e.ctx, req)
	wantDenied(t, err, reasons(limits.BillBelowMin), "a 90 USD bill is 45 EUR, below the 50 EUR minimum, after conversion")
	req.IdempotencyKey, req.Bill = "k2", usd("120")
	r, err := e.e.Redeem(e.ctx, req)
	if wantOK(t, err, "a 120 USD bill is 60 EUR, above the minimum") {
		same(t, r.Discount, usd("20"), "a 10 EUR discount is 20 USD on a USD bill")
		if r.Redemption.Currency != "USD" || !r.Redemption.Bill.Equal(dec("120")) {
			t.Errorf("the redemption records the bill in its own currency: %+v", r.Redemption)
		}
	}
}

func testRedeemReplay(t *testing.T, e *env) {
	s := e.gen("replay")
	c := e.issue(s.ID, alice)
	first := e.redeem(c.Code, alice, "pos-9")
	evs := len(e.history(c.ID))
	e.clk.Advance(time.Minute)
	again, err := e.e.Redeem(e.ctx, redeemReq(c.Code, alice, "pos-9", "100.00"))
	if !wantOK(t, err, "repeating a redemption with the same idempotency key and parameters must succeed as a replay (100.00 is the bill 100)") {
		return
	}
	if !again.Replayed || again.Redemption.ID != first.Redemption.ID {
		t.Errorf("a replay returns the first redemption with Replayed set: replayed %v, id %s want %s", again.Replayed, again.Redemption.ID, first.Redemption.ID)
	}
	same(t, again.Redemption, first.Redemption, "a replay returns the first redemption unchanged")
	same(t, again.Discount, first.Discount, "a replay returns the first discount")
	same(t, again.Coupon, first.Coupon, "a replay returns the coupon as it is")
	if u := e.uses(s.ID, c.Canonical, alice); u != [4]int64{1, 1, 1, 1} {
		t.Errorf("a replay must not count again: %v", u)
	}
	if n := len(e.history(c.ID)); n != evs {
		t.Errorf("a replay changes nothing and appends no event: %d events, had %d", n, evs)
	}
	// Validate does not replay: the coupon is used up.
	_, err = e.e.Validate(e.ctx, redeemReq(c.Code, alice, "pos-9", "1.00"))
	wantRefused(t, err, codes(errcode.Redeemed), "Validate of a used-up coupon refuses another use")
}

// A repeated key on a coupon with uses left would pass every rule again; it
// must still replay, which the store's unique key on (coupon, key) decides.
func testRedeemReplayUsesLeft(t *testing.T, e *env) {
	s := e.gen("replay-left", func(s *series.Series) {
		s.Redemption.Repeat = true
		s.Redemption.MaxPerCustomer = 3
	})
	c := e.issue(s.ID, alice)
	first := e.redeem(c.Code, alice, "k1")
	evs := len(e.history(c.ID))
	again, err := e.e.Redeem(e.ctx, redeemReq(c.Code, alice, "k1", "100"))
	if !wantOK(t, err, "repeating a key on a coupon with uses left must succeed as a replay") {
		return
	}
	if !again.Replayed || again.Redemption.ID != first.Redemption.ID {
		t.Errorf("the repeat returns the first redemption with Replayed set: replayed %v, id %s want %s", again.Replayed, again.Redemption.ID, first.Redemption.ID)
	}
	if again.Coupon.Redemptions != 1 {
		t.Errorf("a replay must not use the coupon again: %d redemptions", again.Coupon.Redemptions)
	}
	if u := e.uses(s.ID, c.Canonical, alice); u != [4]int64{1, 1, 1, 1} {
		t.Errorf("a replay must not count again: %v", u)
	}
	if n := len(e.history(c.ID)); n != evs {
		t.Errorf("a replay appends no event: %d events, had %d", n, evs)
	}
}

func testRedeemKeys(t *testing.T, e *env) {
	s := e.gen("keys", func(s *series.Series) {
		s.Redemption.Repeat = true
		s.Redemption.MaxPerCustomer = 3
	})
	c := e.issue(s.ID, alice)
	a := e.redeem(c.Code, alice, "k1")
	b := e.redeem(c.Code, alice, "k2")
	if a.Redemption.ID == b.Redemption.ID || b.Replayed {
		t.Errorf("two different keys make two redemptions")
	}
	if b.Coupon.Redemptions != 2 || b.Coupon.State != coupon.Issued {
		t.Errorf("a coupon with 3 uses redeemed twice stays Issued with 2 redemptions: %+v", b.Coupon)
	}
	if u := e.uses(s.ID, c.Canonical, alice); u != [4]int64{2, 2, 2, 2} {
		t.Errorf("two redemptions count two on every counter: %v", u)
	}
	single := e.gen("single")
	d := e.issue(single.ID, bob)
	e.redeem(d.Code, bob, "k1")
	_, err := e.tryRedeem(d.Code, bob, "k2")
	wantCode(t, err, errcode.Redeemed, "a single-use coupon redeemed once refuses a second key as already redeemed (405)")
}

func testRedeemKeyPerCoupon(t *testing.T, e *env) {
	s := e.gen("per-coupon")
	c1 := e.issue(s.ID, alice)
	c2 := e.issue(s.ID, alice)
	r1 := e.redeem(c1.Code, alice, "same-key")
	r2 := e.redeem(c2.Code, alice, "same-key")
	if r2.Replayed || r1.Redemption.ID == r2.Redemption.ID {
		t.Errorf("an idempotency key identifies a use of one coupon: the same key on another coupon is a new redemption")
	}
}

func testRedeemNeedsKey(t *testing.T, e *env) {
	s := e.gen("nokey")
	c := e.issue(s.ID, alice)
	_, err := e.e.Redeem(e.ctx, redeemReq(c.Code, alice, "", "10"))
	wantCode(t, err, errcode.InvalidArgument, "Redeem without an idempotency key must be refused")
	_, err = e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(c.Code, alice, "", "10"), TTL: time.Minute})
	wantCode(t, err, errcode.InvalidArgument, "Hold without an idempotency key must be refused")
}

func testRedeemLookup(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("up", uploadSrc()))
	e.upload(s.ID, "Spring-10")
	e.issue(s.ID, alice)
	_, err := e.tryRedeem("  spring-10 ", alice, "k1")
	wantOK(t, err, "codes are compared case-insensitively and trimmed")
	_, err = e.tryRedeem("NO-SUCH-CODE", alice, "k2")
	wantCode(t, err, errcode.CouponNotFound, "an unknown code is not found (682)")
	_, err = e.tryRedeem("   ", alice, "k3")
	wantCode(t, err, errcode.InvalidArgument, "an empty code is an invalid argument")
	_, err = e.e.Redeem(e.ctx, couponkit.RedeemRequest{Code: "SPRING-10", Customer: couponkit.ByID("nobody"), IdempotencyKey: "k4", Bill: eur("1")})
	wantCode(t, err, errcode.UnknownCustomer, "an unknown redeemer is refused")

	cf := e.createSeries(baseSeries("cf", series.Source{Kind: series.Generated, Length: 8, Alphabet: series.ConfusionFree}))
	c := e.issue(cf.ID, bob)
	typed := []byte(c.Code)
	for i, ch := range typed {
		switch ch {
		case '0':
			typed[i] = 'o'
		case '1':
			typed[i] = 'l'
		default:
			if ch >= 'A' && ch <= 'Z' {
				typed[i] = ch + 'a' - 'A'
			}
		}
	}
	_, err = e.tryRedeem(string(typed[:4])+"-"+string(typed[4:]), bob, "k5")
	wantOK(t, err, "a confusion-free code typed in lower case with o for 0, l for 1 and a hyphen (%s) must be found", typed)
}

func testRedeemSeveralSeries(t *testing.T, e *env) {
	a := e.createSeries(baseSeries("a", uploadSrc()))
	b := e.createSeries(baseSeries("b", uploadSrc()))
	e.upload(a.ID, "DUP-1")
	e.upload(b.ID, "DUP-1")
	e.issue(a.ID, alice)
	cb := e.issue(b.ID, alice)
	byCode, err := e.st.CouponsByCode(e.ctx, "", "DUP-1")
	mustOK(t, err, "CouponsByCode")
	if len(byCode) != 2 || byCode[0].ID > byCode[1].ID {
		t.Errorf("CouponsByCode without series returns the code's coupons of every series, ordered by id: %d", len(byCode))
	}
	_, err = e.tryRedeem("DUP-1", alice, "k1")
	wantCode(t, err, errcode.InvalidArgument, "a code found in several series needs the series named")
	req := redeemReq("DUP-1", alice, "k1", "10")
	req.SeriesID = b.ID
	r, err := e.e.Redeem(e.ctx, req)
	if wantOK(t, err, "naming the series picks the code's coupon in it") && r.Coupon.ID != cb.ID {
		t.Errorf("redeemed the coupon of the wrong series")
	}
}

func testRedeemRevoked(t *testing.T, e *env) {
	s := e.gen("revoked")
	c := e.issue(s.ID, alice)
	_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{Codes: []string{c.Code}})
	mustOK(t, err, "Revoke")
	_, err = e.tryRedeem(c.Code, alice, "k1")
	wantCode(t, err, errcode.Revoked, "a revoked coupon cannot be redeemed (1102)")
	_, err = e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(c.Code, alice, "k2", "10"), TTL: time.Minute})
	wantCode(t, err, errcode.Revoked, "a revoked coupon cannot be held (1102)")
	if u := e.uses(s.ID, c.Canonical, alice); u != [4]int64{} {
		t.Errorf("refused uses count nothing: %v", u)
	}
}

func testRedeemExpired(t *testing.T, e *env) {
	s := e.gen("expired", func(s *series.Series) { s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 0} })
	c := e.issue(s.ID, alice)
	e.clk.Advance(14 * time.Hour) // 00:00 on 8 January: the end of the issue day
	_, err := e.tryRedeem(c.Code, alice, "k1")
	wantCode(t, err, errcode.Expired, "a coupon expiring at the end of its issue day cannot be redeemed at midnight (1103)")
	if got := e.stored(c.ID); got.State != coupon.Issued || got.StateAt(e.clk.Now()) != coupon.Expired {
		t.Errorf("expiry is derived from the clock: stored state stays Issued, state now is Expired: %s / %s", got.State, got.StateAt(e.clk.Now()))
	}
}

func testRedeemUsedUp(t *testing.T, e *env) {
	s := e.gen("usedup", func(s *series.Series) {
		s.Redemption.Repeat = true
		s.Redemption.MaxPerCustomer = 2
	})
	c := e.issue(s.ID, alice)
	e.redeem(c.Code, alice, "k1")
	r := e.redeem(c.Code, alice, "k2")
	if r.Coupon.State != coupon.Redeemed {
		t.Errorf("the use reaching the customer level of 2 makes the coupon Redeemed: %s", r.Coupon.State)
	}
	_, err := e.tryRedeem(c.Code, alice, "k3")
	wantRefused(t, err, codes(errcode.Redeemed), "a coupon whose every use is redeemed refuses another as used up (405), and says it once")
	_, err = e.e.Validate(e.ctx, redeemReq(c.Code, alice, "k3", "10"))
	wantRefused(t, err, codes(errcode.Redeemed), "Validate of a used-up coupon refuses as Redeem does (405 once, not also 1202)")
}

func testRedeemNotIssued(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("pool", uploadSrc(), func(s *series.Series) { s.Redemption.AnyoneMayRedeem = true }))
	e.upload(s.ID, "A-1")
	_, err := e.tryRedeem("A-1", alice, "k1")
	wantRefused(t, err, codes(errcode.NotIssued), "an uploaded code never issued cannot be redeemed, even when anyone may redeem (1104, once)")
	_, err = e.e.Validate(e.ctx, redeemReq("A-1", alice, "k1", "10"))
	wantRefused(t, err, codes(errcode.NotIssued), "Validate of a never-issued code refuses as Redeem does")
}

func testValidate(t *testing.T, e *env) {
	s := e.gen("validate", func(s *series.Series) {
		s.Redemption.MinBill = nullDec("20")
		s.Discount = series.Discount{Kind: series.Percent, Percent: dec("10"), Currency: "EUR"}
	})
	c := e.issue(s.ID, alice)
	before := e.stored(c.ID)
	evs := len(e.history(c.ID))
	counters := e.counters(s.ID)
	chk, err := e.e.Validate(e.ctx, redeemReq(c.Code, alice, "v1", "50"))
	if !wantOK(t, err, "Validate of a usable coupon") {
		return
	}
	same(t, chk.Discount, eur("5"), "Validate reports the discount (10%% of 50)")
	same(t, chk.Coupon, before, "Validate reports the coupon")
	_, err = e.e.Validate(e.ctx, redeemReq(c.Code, alice, "v2", "10"))
	wantDenied(t, err, reasons(limits.BillBelowMin), "Validate refuses a bill below the minimum, as Redeem would")
	_, err = e.e.Validate(e.ctx, redeemReq(c.Code, bob, "v2", "10"))
	wantCode(t, err, errcode.CouponNotFound, "Validate by a customer who does not hold the code answers as for an unknown code")
	_, err = e.e.Validate(e.ctx, redeemReq("NOPE", alice, "v3", "10"))
	wantCode(t, err, errcode.CouponNotFound, "Validate of an unknown code is an error")

	same(t, e.stored(c.ID), before, "Validate is a dry run: the coupon is unchanged")
	same(t, e.counters(s.ID), counters, "Validate is a dry run: the counters are unchanged")
	if u := e.uses(s.ID, c.Canonical, alice); u != [4]int64{} {
		t.Errorf("Validate is a dry run: no counter moves: %v", u)
	}
	if n := len(e.history(c.ID)); n != evs {
		t.Errorf("Validate is a dry run: no event: %d, had %d", n, evs)
	}
	rs, err := e.st.ListRedemptions(e.ctx, store.RedemptionQuery{CouponID: c.ID})
	mustOK(t, err, "ListRedemptions")
	if len(rs) != 0 {
		t.Errorf("Validate is a dry run: no redemption is stored: %d", len(rs))
	}
	if _, err := e.tryRedeem(c.Code, alice, "v1"); err != nil {
		t.Errorf("the key Validate was given is still free for Redeem: %v", err)
	}
}

package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
)

var limitTests = []test{
	{"CodeLevel", testLimitCode},
	{"CodeLevelWithHold", testLimitCodeHeld},
	{"CustomerLevel", testLimitCustomer},
	{"SeriesLevel", testLimitSeries},
	{"Repeat", testLimitRepeat},
	{"Gap", testLimitGap},
	{"Start", testLimitStart},
	{"Weekday", testLimitWeekday},
	{"MonthDay", testLimitMonthDay},
	{"Hour", testLimitHour},
	{"HourInSeriesZone", testLimitHourZone},
	{"Place", testLimitPlace},
	{"Bill", testLimitBill},
	{"NewCustomerRegistration", testLimitRegistration},
	{"NewCustomerTransactions", testLimitTransactions},
	{"NotHolder", testLimitNotHolder},
	{"AnyoneMayRedeemUnique", testLimitAnyoneUnique},
	{"AnyoneMayRedeemCommon", testLimitAnyoneCommon},
	{"CommonCustomerAndSeriesLevels", testLimitCommonLevels},
	{"CommonCodeAfterTransferAway", testLimitCommonTransferredAway},
	{"EveryReasonAtOnce", testLimitAllReasons},
}

// wantUses fails unless the use counters of the code, the customer's uses
// of the code, the series and the customer's uses in the series are want:
// a refused use leaves them as they were.
func (e *env) wantUses(t *testing.T, seriesID, canonical, customer string, want [4]int64, rule string) {
	t.Helper()
	if u := e.uses(seriesID, canonical, customer); u != want {
		t.Errorf("%s: counters (code, customer-code, series, customer-series) %v, want %v", rule, u, want)
	}
}

// A code level caps the uses of one code by everyone together, when anyone
// may redeem: with a code level of 2 and one use per customer, two
// customers' uses take the code's last use and a third customer's is
// refused as used up.
func testLimitCode(t *testing.T, e *env) {
	s := e.gen("NY2024", func(s *series.Series) {
		s.Redemption.AnyoneMayRedeem = true
		s.Redemption.MaxPerCode = 2
	})
	c := e.issue(s.ID, alice)
	e.redeem(c.Code, alice, "k1")
	r := e.redeem(c.Code, bob, "k2")
	if r.Coupon.State != coupon.Redeemed || r.Coupon.Redemptions != 2 || r.Coupon.Holder != alice {
		t.Errorf("the 2nd redemption of a code with code level 2 uses it up; the holder stays alice: %+v", r.Coupon)
	}
	_, err := e.tryRedeem(c.Code, carol, "k3")
	wantRefused(t, err, codes(errcode.Redeemed), "a code with code-level limit 2 must refuse the third redemption as used up, once (NY2024)")
	_, err = e.e.Validate(e.ctx, redeemReq(c.Code, carol, "k3", "10"))
	wantRefused(t, err, codes(errcode.Redeemed), "Validate of a third use of a code with code level 2 refuses as Redeem does")
	e.wantUses(t, s.ID, c.Canonical, carol, [4]int64{2, 0, 2, 0}, "the refused third use counts nothing")
}

// A hold takes a use of the code level: the coupon is not yet Redeemed, so
// the refusal says the last use is held elsewhere, and until when.
func testLimitCodeHeld(t *testing.T, e *env) {
	s := e.gen("held", func(s *series.Series) {
		s.Redemption.AnyoneMayRedeem = true
		s.Redemption.MaxPerCode = 2
	})
	c := e.issue(s.ID, alice)
	e.redeem(c.Code, alice, "k1")
	_, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(c.Code, bob, "k2", "10"), TTL: 15 * time.Minute})
	mustOK(t, err, "Hold")
	_, err = e.tryRedeem(c.Code, carol, "k3")
	if wantRefused(t, err, codes(errcode.HeldElsewhere), "with one redemption and one live hold, a code with code level 2 refuses a third use as held elsewhere, once") {
		var d *refusal.Error
		errors.As(err, &d)
		if got := d.Refusals[0].Params.HeldUntil; !got.Equal(t0.Add(15 * time.Minute)) {
			t.Errorf("the refusal says until when the hold lasts: %v", got)
		}
	}
}

// A customer level caps one customer's uses of a code: with anyone may
// redeem, no code level and a customer level of 2, a customer's third use is
// refused while the holder may still redeem.
func testLimitCustomer(t *testing.T, e *env) {
	s := e.gen("customer", func(s *series.Series) {
		s.Redemption.AnyoneMayRedeem = true
		s.Redemption.Repeat = true
		s.Redemption.MaxPerCustomer = 2
	})
	c := e.issue(s.ID, alice)
	e.redeem(c.Code, bob, "k1")
	e.redeem(c.Code, bob, "k2")
	_, err := e.tryRedeem(c.Code, bob, "k3")
	wantDenied(t, err, reasons(limits.CustomerLimit), "a customer level of 2 must refuse a customer's third redemption of the code")
	e.wantUses(t, s.ID, c.Canonical, bob, [4]int64{2, 2, 2, 2}, "the refused third use counts nothing")
	_, err = e.tryRedeem(c.Code, alice, "k4")
	wantOK(t, err, "the customer level is per customer: the holder may still redeem")
}

func testLimitSeries(t *testing.T, e *env) {
	s := e.gen("series", func(s *series.Series) { s.Redemption.MaxPerSeries = 2 })
	a, b, c := e.issue(s.ID, alice), e.issue(s.ID, bob), e.issue(s.ID, carol)
	e.redeem(a.Code, alice, "k")
	e.redeem(b.Code, bob, "k")
	_, err := e.tryRedeem(c.Code, carol, "k")
	wantDenied(t, err, reasons(limits.SeriesLimit), "a series level of 2 must refuse the third redemption in the series, whatever the code")
	if n := e.counters(s.ID); n.Uses != 2 || n.RemainingUses != 0 {
		t.Errorf("Counters of a series at its level of 2: %+v", n)
	}
	e.wantUses(t, s.ID, c.Canonical, carol, [4]int64{0, 0, 2, 0}, "the refused use counts nothing")
}

func testLimitRepeat(t *testing.T, e *env) {
	s := e.gen("repeat", func(s *series.Series) {
		s.Redemption.AnyoneMayRedeem = true
		s.Redemption.MaxPerCode = 3
	})
	c := e.issue(s.ID, alice)
	e.redeem(c.Code, bob, "k1")
	_, err := e.tryRedeem(c.Code, bob, "k2")
	wantDenied(t, err, reasons(limits.RepeatNotAllowed), "without Repeat a customer who redeemed a code may not redeem it again")
	_, err = e.tryRedeem(c.Code, carol, "k3")
	wantOK(t, err, "without Repeat another customer may still redeem the code (code level 3)")
}

func testLimitGap(t *testing.T, e *env) {
	s := e.gen("gap", func(s *series.Series) {
		s.Redemption.Repeat = true
		s.Redemption.MaxPerCustomer = 5
		s.Redemption.MinGap = time.Hour
	})
	c1 := e.issue(s.ID, alice)
	c2 := e.issue(s.ID, alice)
	e.redeem(c1.Code, alice, "k1")
	e.clk.Advance(59 * time.Minute)
	_, err := e.tryRedeem(c1.Code, alice, "k2")
	wantDenied(t, err, reasons(limits.RedemptionGap), "a second redemption 59 minutes after the first must be refused by a 1-hour gap")
	_, err = e.tryRedeem(c2.Code, alice, "k3")
	wantDenied(t, err, reasons(limits.RedemptionGap), "the redemption gap is per customer across the series: another code of the series is refused too")
	e.clk.Advance(time.Minute)
	_, err = e.tryRedeem(c1.Code, alice, "k4")
	wantOK(t, err, "a redemption exactly one hour after the last passes a 1-hour gap")
}

func testLimitStart(t *testing.T, e *env) {
	s := e.gen("start", func(s *series.Series) { s.Redemption.Start = t0.Add(2 * time.Hour) })
	c := e.issue(s.ID, alice)
	_, err := e.tryRedeem(c.Code, alice, "k1")
	wantDenied(t, err, reasons(limits.NotStarted), "a redemption before the redemption start time must be refused")
	e.clk.Advance(2 * time.Hour)
	_, err = e.tryRedeem(c.Code, alice, "k1")
	wantOK(t, err, "a redemption at the start time is allowed")
}

func testLimitWeekday(t *testing.T, e *env) {
	s := e.gen("tuesday", func(s *series.Series) { s.Redemption.Weekdays = limits.WeekdaysOf(time.Tuesday) })
	c := e.issue(s.ID, alice)
	_, err := e.tryRedeem(c.Code, alice, "k1")
	wantDenied(t, err, reasons(limits.WrongWeekday), "a Tuesday-only series must refuse a redemption on Monday 7 January 2030")
	e.clk.Advance(24 * time.Hour)
	_, err = e.tryRedeem(c.Code, alice, "k1")
	wantOK(t, err, "a Tuesday-only series allows a redemption on Tuesday")
}

func testLimitMonthDay(t *testing.T, e *env) {
	s := e.gen("eighth", func(s *series.Series) { s.Redemption.MonthDays = limits.MonthDaysOf(8, 31) })
	c := e.issue(s.ID, alice)
	_, err := e.tryRedeem(c.Code, alice, "k1")
	wantDenied(t, err, reasons(limits.WrongMonthDay), "a series redeemable on the 8th and 31st must refuse the 7th")
	e.clk.Advance(24 * time.Hour)
	_, err = e.tryRedeem(c.Code, alice, "k1")
	wantOK(t, err, "the 8th is allowed")
}

func testLimitHour(t *testing.T, e *env) {
	s := e.gen("afternoon", func(s *series.Series) { s.Redemption.Hours = []limits.HourRange{{From: 14, To: 16}} })
	c := e.issue(s.ID, alice)
	_, err := e.tryRedeem(c.Code, alice, "k1")
	wantDenied(t, err, reasons(limits.WrongHour), "a 14:00-16:00 series must refuse a redemption at 10:00")
	e.clk.Advance(6 * time.Hour)
	_, err = e.tryRedeem(c.Code, alice, "k1")
	wantDenied(t, err, reasons(limits.WrongHour), "the hour window excludes its end (16:00)")
	e.clk.Advance(-time.Hour)
	_, err = e.tryRedeem(c.Code, alice, "k1")
	wantOK(t, err, "15:00 is inside 14:00-16:00")
}

func testLimitHourZone(t *testing.T, e *env) {
	s := e.gen("new york", func(s *series.Series) {
		s.TimeZone = "America/New_York"
		s.Redemption.Hours = []limits.HourRange{{From: 9, To: 17}}
	})
	c := e.issue(s.ID, alice)
	_, err := e.tryRedeem(c.Code, alice, "k1") // 10:00 UTC is 05:00 in New York
	wantDenied(t, err, reasons(limits.WrongHour), "hours are read in the series' time zone: 10:00 UTC is 05:00 in New York")
	e.clk.Advance(5 * time.Hour)
	_, err = e.tryRedeem(c.Code, alice, "k1")
	wantOK(t, err, "15:00 UTC is 10:00 in New York, inside 9-17")
}

func testLimitPlace(t *testing.T, e *env) {
	s := e.gen("places", func(s *series.Series) {
		s.Redemption.Places = limits.NewPlaceSet(limits.PlaceRef{Kind: limits.Store, ID: "s-1"}, limits.PlaceRef{Kind: limits.Zone, ID: "z-9"})
	})
	c1, c2 := e.issue(s.ID, alice), e.issue(s.ID, alice)
	at := func(code, key string, p limits.Place) error {
		req := redeemReq(code, alice, key, "10")
		req.Place = p
		_, err := e.e.Redeem(e.ctx, req)
		return err
	}
	wantDenied(t, at(c1.Code, "k1", limits.Place{Till: "t-1", Store: "s-2", Zone: "z-1"}), reasons(limits.PlaceNotAllowed),
		"a series restricted to store s-1 and zone z-9 must refuse a till of store s-2 in zone z-1")
	wantDenied(t, at(c1.Code, "k2", limits.Place{}), reasons(limits.PlaceNotAllowed), "an unknown place matches no restriction")
	wantOK(t, at(c1.Code, "k3", limits.Place{Till: "t-1", Store: "s-1"}), "a till of store s-1 is allowed")
	wantOK(t, at(c2.Code, "k4", limits.Place{Store: "s-5", Zone: "z-9"}), "a store of zone z-9 is allowed")
}

func testLimitBill(t *testing.T, e *env) {
	s := e.gen("bill", func(s *series.Series) {
		s.Redemption.MinBill = nullDec("50")
		s.Redemption.MaxBill = nullDec("200")
		s.Redemption.Repeat = true
		s.Redemption.MaxPerCustomer = 5
	})
	c := e.issue(s.ID, alice)
	try := func(key, bill string) error {
		_, err := e.e.Redeem(e.ctx, redeemReq(c.Code, alice, key, bill))
		return err
	}
	wantDenied(t, try("k1", "49.99"), reasons(limits.BillBelowMin), "a bill of 49.99 is below the minimum of 50")
	wantDenied(t, try("k2", "200.01"), reasons(limits.BillAboveMax), "a bill of 200.01 is above the maximum of 200")
	wantOK(t, try("k3", "50"), "the minimum bill is inclusive")
	wantOK(t, try("k4", "200.00"), "the maximum bill is inclusive")
}

func newCustomerSeries(e *env, rule limits.NewCustomerRule) series.Series {
	return e.gen("new customers", func(s *series.Series) {
		s.Redemption.AnyoneMayRedeem = true
		s.Redemption.NewCustomers = rule
	})
}

func testLimitRegistration(t *testing.T, e *env) {
	s := newCustomerSeries(e, limits.NewCustomerRule{
		RegisteredFrom: time.Date(2029, 12, 1, 0, 0, 0, 0, time.UTC),
		RegisteredTo:   time.Date(2029, 12, 31, 0, 0, 0, 0, time.UTC),
	})
	c := e.issue(s.ID, dave)
	_, err := e.tryRedeem(c.Code, bob, "k1")
	wantDenied(t, err, reasons(limits.NotNewCustomer), "a customer registered in June 2029 is outside a December 2029 registration window")
	_, err = e.tryRedeem(c.Code, carol, "k2")
	wantDenied(t, err, reasons(limits.NotNewCustomer), "a customer with no known registration date fails a registration window")
	_, err = e.tryRedeem(c.Code, alice, "k3")
	wantOK(t, err, "a customer registered on 15 December 2029 is inside the window")
}

func testLimitTransactions(t *testing.T, e *env) {
	s := newCustomerSeries(e, limits.NewCustomerRule{LimitTransactions: true, MaxTransactions: 0})
	c := e.issue(s.ID, dave)
	_, err := e.tryRedeem(c.Code, bob, "k1")
	wantDenied(t, err, reasons(limits.TooManyPurchases), "a customer with 3 earlier transactions is refused by a first-time-customers rule")
	_, err = e.tryRedeem(c.Code, alice, "k2")
	wantOK(t, err, "a customer with no earlier transaction passes")
}

func testLimitNotHolder(t *testing.T, e *env) {
	s := e.gen("holder only")
	c := e.issue(s.ID, alice)
	_, err := e.tryRedeem(c.Code, bob, "k1")
	wantCode(t, err, errcode.CouponNotFound, "without anyone-may-redeem only the holder may redeem; to anyone else the code does not exist")
	e.wantUses(t, s.ID, c.Canonical, bob, [4]int64{}, "the refused use counts nothing")
}

func testLimitAnyoneUnique(t *testing.T, e *env) {
	s := e.gen("shared", func(s *series.Series) {
		s.Redemption.AnyoneMayRedeem = true
		s.Redemption.MaxPerCode = 3
	})
	c := e.issue(s.ID, alice)
	r := e.redeem(c.Code, bob, "k1")
	if r.Redemption.Customer != bob || r.Coupon.Holder != alice || r.Coupon.ID != c.ID {
		t.Errorf("with anyone-may-redeem a non-holder redeems the holder's coupon, recorded as the redeemer: %+v / %+v", r.Redemption, r.Coupon)
	}
	evs := e.history(c.ID)
	if last := evs[len(evs)-1]; last.Customer != alice || last.Counterparty != bob {
		t.Errorf("a redemption by a non-holder is in the holder's history naming the redeemer as counterparty: %+v", last)
	}
	e.wantUses(t, s.ID, c.Canonical, bob, [4]int64{1, 1, 1, 1}, "bob's redemption counts for the code and for bob")
	e.wantUses(t, s.ID, c.Canonical, alice, [4]int64{1, 0, 1, 0}, "alice did not redeem")
}

func testLimitAnyoneCommon(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("common", commonSrc("SHARE10"), func(s *series.Series) { s.Redemption.AnyoneMayRedeem = true }))
	_, err := e.tryRedeem("SHARE10", bob, "k0")
	wantCode(t, err, errcode.CouponNotFound, "a common code issued to no one yet has no coupon to redeem")
	a := e.issue(s.ID, alice)
	r, err := e.tryRedeem("share10", bob, "k1")
	if !wantOK(t, err, "with anyone-may-redeem a customer never issued the common code may redeem it") {
		return
	}
	if r.Coupon.ID == a.ID || r.Coupon.Holder != bob || !r.Coupon.Shared || r.Coupon.Redemptions != 1 || r.Coupon.Canonical != "SHARE10" {
		t.Errorf("a non-holder redeeming a common code gets a coupon of their own, redeemed: %+v", r.Coupon)
	}
	same(t, e.stored(r.Coupon.ID), r.Coupon, "the non-holder's own coupon is stored")
	same(t, e.stored(a.ID), a, "the holder's coupon is untouched")
	mine, err := e.e.CustomerCoupons(e.ctx, couponkit.ByID(bob), s.ID)
	mustOK(t, err, "CustomerCoupons")
	if len(mine) != 1 || mine[0].ID != r.Coupon.ID {
		t.Errorf("the redeemer's own coupon is listed among the redeemer's coupons: %d", len(mine))
	}
	hist := kinds(e.customerHistory(bob, s.ID))
	if len(hist) < 2 || hist[0] != coupon.EventIssued || hist[len(hist)-1] != coupon.EventRedeemed {
		t.Errorf("every change appends an event: the non-holder's coupon issued in the redemption needs an Issued event before the Redeemed one, got %v", hist)
	}
	if n := e.issuedCounts(s.ID, bob); n != [2]int64{2, 1} {
		t.Errorf("a coupon issued to the redeemer counts as an issue (series, customer): %v, want [2 1]", n)
	}
	// The redeemer now holds the common code: a later issue is the second
	// issue of a common code to one customer (1224), not a conflict.
	_, err = e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(bob)))
	wantDenied(t, err, reasons(limits.CommonCodeIssued), "a customer who got a common code by redeeming it holds it: issuing it again is refused with 1224")
}

// A common code has customer and series levels only: with a customer level
// of 2 and a series level of 3, each customer may redeem their own coupon of
// the code twice, and the fourth use across customers is refused.
func testLimitCommonLevels(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("holiday", commonSrc("HOLIDAY20"), func(s *series.Series) {
		s.Redemption.Repeat = true
		s.Redemption.MaxPerCustomer = 2
		s.Redemption.MaxPerSeries = 3
	}))
	a, b := e.issue(s.ID, alice), e.issue(s.ID, bob)
	e.redeem("HOLIDAY20", alice, "k1")
	r := e.redeem("HOLIDAY20", alice, "k2")
	if r.Coupon.ID != a.ID || r.Coupon.State != coupon.Redeemed {
		t.Errorf("each customer redeems their own coupon of the common code; two uses reach the customer level: %+v", r.Coupon)
	}
	_, err := e.tryRedeem("HOLIDAY20", alice, "k3")
	wantCode(t, err, errcode.Redeemed, "a customer level of 2 refuses a customer's third use of the common code")
	r = e.redeem("HOLIDAY20", bob, "k1")
	if r.Coupon.ID != b.ID {
		t.Errorf("bob redeems his own coupon of the common code")
	}
	_, err = e.tryRedeem("HOLIDAY20", bob, "k2")
	wantDenied(t, err, reasons(limits.SeriesLimit), "a series level of 3 refuses the 4th use of the common code across customers")
}

func testLimitAllReasons(t *testing.T, e *env) {
	s := e.gen("strict", func(s *series.Series) {
		s.Redemption = limits.RedemptionRules{
			Start:     t0.Add(time.Hour),
			Weekdays:  limits.WeekdaysOf(time.Sunday),
			MonthDays: limits.MonthDaysOf(1),
			Hours:     []limits.HourRange{{From: 20, To: 22}},
			Places:    limits.NewPlaceSet(limits.PlaceRef{Kind: limits.Concept, ID: "outlet"}),
			MinBill:   nullDec("100"),
			NewCustomers: limits.NewCustomerRule{RegisteredFrom: time.Date(2029, 12, 1, 0, 0, 0, 0, time.UTC),
				LimitTransactions: true},
		}
	})
	c := e.issue(s.ID, bob)
	_, err := e.tryRedeem(c.Code, bob, "k1")
	wantDenied(t, err, reasons(limits.NotStarted, limits.WrongWeekday, limits.WrongMonthDay, limits.WrongHour,
		limits.PlaceNotAllowed, limits.NotNewCustomer, limits.TooManyPurchases),
		"a refusal lists every rule broken at once")
}

// A customer issued a common code who gave their coupon away by transfer,
// and then redeems the code where anyone may redeem: the engine must answer
// at once, either with a coupon of their own or with a refusal because the
// common code was issued to them once already (1224); never by retrying a
// guard that cannot pass until its attempts run out.
func testLimitCommonTransferredAway(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("gift", commonSrc("PASSITON"), func(s *series.Series) {
		s.Redemption.AnyoneMayRedeem = true
		s.Transferable = true
	}))
	e.issue(s.ID, alice)
	_, err := e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: "PASSITON", From: couponkit.ByID(alice), To: couponkit.ByID(bob)})
	mustOK(t, err, "Transfer")
	r, err := e.tryRedeem("PASSITON", alice, "k1")
	mustOK(t, err, "a customer who transferred the common code away redeems it as anyone may: with a coupon of her own")
	if r.Coupon.Holder != alice || !r.Coupon.Shared {
		t.Errorf("a redeemer without a coupon of the common code gets one of their own: %+v", r.Coupon)
	}
}

package refusal

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

var berlin = mustZone("Europe/Berlin")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// at is Monday 7 January 2030, 10:30 in Berlin.
var at = time.Date(2030, time.January, 7, 10, 30, 0, 0, berlin)

func eur(s string) series.Money {
	return series.Money{Amount: decimal.RequireFromString(s), Currency: "EUR"}
}

// use is a use of an issued coupon with capacity 1, decided on d.
func use(d limits.Decision, rules limits.RedemptionRules, counts limits.RedemptionCounts) *Use {
	return &Use{
		Coupon:   coupon.Coupon{ID: "c1", State: coupon.Issued, Holder: "alice", IssuedAt: at.Add(-time.Hour)},
		Capacity: 1,
		Decision: &d, Rules: &rules, Counts: &counts,
		Request: &limits.RedemptionRequest{At: at, Bill: decimal.RequireFromString("40"), Customer: limits.CustomerFacts{Transactions: 3}},
		Bill:    eur("40"), Currency: "EUR",
	}
}

func deny(rs ...limits.Reason) limits.Decision {
	var d limits.Decision
	for _, r := range rs {
		d.Deny(r)
	}
	return d
}

// TestEveryRedemptionRule checks, for every rule of a redemption, the code,
// the rule, the message a cashier reads and the parameters.
func TestEveryRedemptionRule(t *testing.T) {
	start := time.Date(2030, time.February, 1, 9, 0, 0, 0, berlin) // a Friday
	reg := time.Date(2029, time.December, 1, 0, 0, 0, 0, time.UTC)
	// The calendar windows all refuse at (Monday the 7th, 10:30), and each
	// moves the next instant they allow together: from the start, Saturdays
	// alone would open on the 2nd, and the 8th and 16th of the month alone
	// on the 8th (a Friday); both open on Saturday the 16th, and the hours
	// at 14:00 that day.
	open := time.Date(2030, time.February, 16, 14, 0, 0, 0, berlin)
	rules := limits.RedemptionRules{
		AnyoneMayRedeem: true, MaxPerCode: 5, Repeat: true, MaxPerCustomer: 2, MaxPerSeries: 100,
		Start: start, Weekdays: limits.WeekdaysOf(time.Saturday), MonthDays: limits.MonthDaysOf(8, 16),
		Hours: []limits.HourRange{{From: 14, To: 18}}, MinGap: 24 * time.Hour,
		MinBill: decimal.NewNullDecimal(decimal.NewFromInt(50)), MaxBill: decimal.NewNullDecimal(decimal.RequireFromString("30.5")),
		NewCustomers: limits.NewCustomerRule{RegisteredFrom: reg, LimitTransactions: true, MaxTransactions: 1},
	}
	last := at.Add(-2 * time.Hour)
	counts := limits.RedemptionCounts{Code: 5, CustomerCode: 2, Series: 100, CustomerLast: last}
	for _, tc := range []struct {
		reason limits.Reason
		rule   Rule
		msg    string
		params Params
	}{
		{limits.CodeLimit, CodeLimit, "This coupon has been used the most times allowed (5).", Params{Limit: 5, Used: 5}},
		{limits.CustomerLimit, CustomerLimit, "You have used this coupon the most times allowed (2).", Params{Limit: 2, Used: 2}},
		{limits.SeriesLimit, SeriesLimit, "This offer has been used the most times allowed (100).", Params{Limit: 100, Used: 100}},
		{limits.RepeatNotAllowed, RepeatNotAllowed, "You have already used this coupon; it can be used once per customer.", Params{Limit: 1, Used: 2}},
		{limits.NotStarted, NotStarted, "This coupon can be used from 2030-02-01 09:00 CET.", Params{StartsAt: start}},
		{limits.WrongWeekday, WrongWeekday, "This coupon cannot be used on a Monday; it can be used from 2030-02-16 14:00 CET.",
			Params{NextAllowedAt: open}},
		{limits.WrongMonthDay, WrongMonthDay, "This coupon cannot be used on day 7 of the month; it can be used from 2030-02-16 14:00 CET.",
			Params{NextAllowedAt: open}},
		{limits.WrongHour, WrongHour, "This coupon cannot be used at this hour; it can be used from 2030-02-16 14:00 CET.",
			Params{NextAllowedAt: open}},
		{limits.RedemptionGap, RedemptionGap, "Too soon after your last use of this offer: it can be used again from 2030-01-08 08:30 CET.",
			Params{NextAllowedAt: last.Add(24 * time.Hour)}},
		{limits.PlaceNotAllowed, PlaceNotAllowed, "This coupon cannot be used here.", Params{}},
		{limits.BillBelowMin, BillBelowMin, "The bill must be at least 50.00 EUR (it is 40.00 EUR).",
			Params{Bill: &series.Money{Amount: decimal.RequireFromString("40"), Currency: "EUR"}, MinBill: &series.Money{Amount: decimal.NewFromInt(50), Currency: "EUR"}}},
		{limits.BillAboveMax, BillAboveMax, "The bill must be at most 30.50 EUR (it is 40.00 EUR).",
			Params{Bill: &series.Money{Amount: decimal.RequireFromString("40"), Currency: "EUR"}, MaxBill: &series.Money{Amount: decimal.RequireFromString("30.5"), Currency: "EUR"}}},
		{limits.NotNewCustomer, NotNewCustomer, "This offer is for customers who registered on or after 2029-12-01.", Params{RegisteredFrom: reg}},
		{limits.TooManyPurchases, TooManyPurchases, "This offer is for new customers with at most 1 earlier purchases (there are 3).",
			Params{MaxTransactions: 1, Transactions: 3}},
		{limits.NotHolder, NotHolder, "Only the customer this coupon was given to can use it.", Params{}},
	} {
		t.Run(string(tc.rule), func(t *testing.T) {
			got := ForUse(use(deny(tc.reason), rules, counts))
			if len(got) != 1 {
				t.Fatalf("one broken rule gives one refusal: %+v", got)
			}
			r := got[0]
			if r.Code != tc.reason.Code() || r.Rule != tc.rule || r.Message != tc.msg {
				t.Errorf("got %d %q %q\nwant %d %q %q", r.Code, r.Rule, r.Message, tc.reason.Code(), tc.rule, tc.msg)
			}
			if !paramsEqual(r.Params, tc.params) {
				t.Errorf("params %+v, want %+v", r.Params, tc.params)
			}
			if tc.params.NextAllowedAt.IsZero() != r.Params.NextAllowedAt.IsZero() || !r.Params.NextAllowedAt.IsZero() && r.Params.NextAllowedAt.Location() != berlin {
				t.Errorf("times are given in the series' zone: %v", r.Params.NextAllowedAt)
			}
		})
	}
}

// TestEveryIssuanceRule is TestEveryRedemptionRule for issues.
func TestEveryIssuanceRule(t *testing.T) {
	last := at.Add(-time.Hour)
	until := at.AddDate(0, 2, 0)
	rules := limits.IssuanceRules{MaxPerCustomer: 3, MinGap: 48 * time.Hour, MaxTotal: 1000}
	counts := limits.IssuanceCounts{Series: 1000, Customer: 3, CustomerLast: last}
	for _, tc := range []struct {
		reason limits.Reason
		rule   Rule
		msg    string
		params Params
	}{
		{limits.CustomerIssueLimit, CustomerIssues, "This customer has received the most coupons of this offer allowed (3).", Params{Limit: 3, Used: 3}},
		{limits.IssueGap, IssueGap, "Too soon after this customer's last coupon of this offer: another can be issued from 2030-01-09 09:30 CET.", Params{NextAllowedAt: last.Add(48 * time.Hour)}},
		{limits.SeriesIssueLimit, SeriesIssues, "All 1000 coupons of this offer have been given out.", Params{Limit: 1000, Used: 1000}},
		{limits.CommonCodeIssued, CommonCodeIssued, "This customer already has this offer's code.", Params{Limit: 1, Used: 3}},
		{limits.NotInAudience, NotInAudience, "This offer is only for selected customers.", Params{}},
		{limits.ExcludedByHistory, Excluded, "This customer recently received a coupon of an offer that excludes this one; it can be issued from 2030-03-07 10:30 CET.", Params{NextAllowedAt: until}},
	} {
		t.Run(string(tc.rule), func(t *testing.T) {
			d := deny(tc.reason)
			got := ForIssue(&Issue{Decision: &d, Rules: &rules, Counts: &counts, At: at, ExcludedUntil: until})
			if len(got) != 1 {
				t.Fatalf("one broken rule gives one refusal: %+v", got)
			}
			r := got[0]
			if r.Code != tc.reason.Code() || r.Rule != tc.rule || r.Message != tc.msg || !paramsEqual(r.Params, tc.params) {
				t.Errorf("got %d %q %q %+v\nwant %d %q %q %+v", r.Code, r.Rule, r.Message, r.Params, tc.reason.Code(), tc.rule, tc.msg, tc.params)
			}
		})
	}
}

// TestCouponStates checks the refusals the coupon's own state gives, each
// standing alone.
func TestCouponStates(t *testing.T) {
	exp := time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC)
	revokedAt := at.Add(-time.Hour)
	held := at.Add(15 * time.Minute)
	for _, tc := range []struct {
		name     string
		c        coupon.Coupon
		capacity int
		code     errcode.Code
		msg      string
		params   Params
	}{
		{"revoked", coupon.Coupon{State: coupon.Revoked, LastStatusChange: revokedAt}, 1, errcode.Revoked,
			"This coupon has been withdrawn and can no longer be used.", Params{RevokedAt: revokedAt}},
		{"expired", coupon.Coupon{State: coupon.Issued, ExpiresAt: exp}, 1, errcode.Expired,
			"This coupon expired at 2030-01-01 01:00 CET.", Params{ExpiresAt: exp}},
		{"never issued", coupon.Coupon{State: coupon.Available}, 1, errcode.NotIssued,
			"This coupon has not been given to anyone yet, so it cannot be used.", Params{}},
		{"used once", coupon.Coupon{State: coupon.Redeemed, Redemptions: 1}, 1, errcode.Redeemed,
			"This coupon has already been used.", Params{Limit: 1, Used: 1}},
		{"used three times", coupon.Coupon{State: coupon.Redeemed, Redemptions: 3}, 3, errcode.Redeemed,
			"This coupon has already been used the most times allowed (3 of 3).", Params{Limit: 3, Used: 3}},
		{"held", coupon.Coupon{State: coupon.Issued, Redemptions: 1, Holds: 1}, 2, errcode.HeldElsewhere,
			"This coupon is being used at another checkout until 2030-01-07 10:45 CET.", Params{HeldUntil: held}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Every rule the state implies, and more, are broken too: the
			// state alone is reported (and, for a held coupon, the rules it
			// does not already say).
			d := deny(limits.CodeLimit, limits.CustomerLimit, limits.RepeatNotAllowed)
			u := use(d, limits.RedemptionRules{}, limits.RedemptionCounts{})
			u.Coupon, u.Capacity, u.HeldUntil = tc.c, tc.capacity, held
			got := ForUse(u)
			if len(got) != 1 || got[0].Code != tc.code || got[0].Message != tc.msg || !paramsEqual(got[0].Params, tc.params) {
				t.Errorf("got %+v\nwant one refusal %d %q %+v", got, tc.code, tc.msg, tc.params)
			}
		})
	}
}

func TestSeriesClosed(t *testing.T) {
	end := time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC)
	start := time.Date(2030, time.March, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		s    series.Series
		code errcode.Code
		rule Rule
		msg  string
	}{
		{series.Series{Status: series.Ended}, errcode.SeriesExpired, SeriesEnded, "This offer has ended."},
		{series.Series{Status: series.Active, End: end}, errcode.SeriesExpired, SeriesEnded, "This offer ended at 2030-01-01 01:00 CET."},
		{series.Series{Status: series.Paused}, errcode.SeriesPaused, SeriesPaused, "This offer is paused."},
		{series.Series{Status: series.Active, Start: start}, errcode.SeriesPaused, SeriesNotStarted, "This offer starts at 2030-03-01 01:00 CET."},
	} {
		r, closed := Closed(&tc.s, at)
		if !closed || r.Code != tc.code || r.Rule != tc.rule || r.Message != tc.msg {
			t.Errorf("%+v: got %v %+v, want %d %s %q", tc.s, closed, r, tc.code, tc.rule, tc.msg)
		}
	}
	if _, closed := Closed(&series.Series{Status: series.Active}, at); closed {
		t.Error("an active series without bounds is open")
	}
}

// TestMoneyInMinorUnits checks that amounts show their currency's decimals.
func TestMoneyInMinorUnits(t *testing.T) {
	for _, tc := range []struct{ m, want string }{
		{"50 EUR", "50.00 EUR"}, {"5000 JPY", "5000 JPY"}, {"12.5 KWD", "12.500 KWD"}, {"9.999 EUR", "9.999 EUR"},
	} {
		amount, cur, _ := strings.Cut(tc.m, " ")
		if got := money(series.Money{Amount: decimal.RequireFromString(amount), Currency: cur}); got != tc.want {
			t.Errorf("money(%s) = %q, want %q", tc.m, got, tc.want)
		}
	}
}

// TestConvertedBill checks that a bill in another currency is shown as
// given and after conversion.
func TestConvertedBill(t *testing.T) {
	rules := limits.RedemptionRules{MinBill: decimal.NewNullDecimal(decimal.NewFromInt(50))}
	u := use(deny(limits.BillBelowMin), rules, limits.RedemptionCounts{})
	u.Bill = series.Money{Amount: decimal.NewFromInt(90), Currency: "USD"}
	u.Request.Bill = decimal.NewFromInt(45)
	got := ForUse(u)[0]
	if got.Message != "The bill must be at least 50.00 EUR (it is 90.00 USD, 45.00 EUR after conversion)." ||
		got.Params.ConvertedBill == nil || !got.Params.ConvertedBill.Amount.Equal(decimal.NewFromInt(45)) {
		t.Errorf("got %+v", got)
	}
}

// TestEachFactOnce is the refusal model's rule as a property: whatever the
// coupon and the broken rules, the list has each code once, the coupon's
// terminal state stands alone, held uses are never also reported as the
// code or customer level or "once per customer", and rules come by code.
func TestEachFactOnce(t *testing.T) {
	redemptionReasons := []limits.Reason{limits.CodeLimit, limits.CustomerLimit, limits.SeriesLimit, limits.RepeatNotAllowed,
		limits.NotStarted, limits.WrongWeekday, limits.WrongMonthDay, limits.WrongHour, limits.RedemptionGap,
		limits.PlaceNotAllowed, limits.BillBelowMin, limits.BillAboveMax, limits.NotNewCustomer, limits.TooManyPurchases,
		limits.NotHolder, limits.NeverIssued}
	rapid.Check(t, func(t *rapid.T) {
		rs := rapid.SliceOfDistinct(rapid.SampledFrom(redemptionReasons), func(r limits.Reason) limits.Reason { return r }).Draw(t, "reasons")
		state := rapid.SampledFrom([]coupon.State{coupon.Available, coupon.Issued, coupon.Redeemed, coupon.Revoked}).Draw(t, "state")
		capacity := rapid.IntRange(0, 3).Draw(t, "capacity")
		reds := rapid.IntRange(0, 3).Draw(t, "redemptions")
		holds := rapid.IntRange(0, 3).Draw(t, "holds")
		expired := rapid.Bool().Draw(t, "expired")
		u := use(deny(rs...), limits.RedemptionRules{MinBill: decimal.NewNullDecimal(decimal.NewFromInt(50)),
			MaxBill: decimal.NewNullDecimal(decimal.NewFromInt(10)), MaxPerSeries: 9}, limits.RedemptionCounts{})
		u.Coupon.State, u.Capacity, u.Coupon.Redemptions, u.Coupon.Holds = state, capacity, reds, holds
		if expired {
			u.Coupon.ExpiresAt = at.Add(-time.Minute)
		}
		got := ForUse(u)
		codes := make([]errcode.Code, len(got))
		for i, r := range got {
			codes[i] = r.Code
			if r.Message == "" || r.Rule == "" {
				t.Fatalf("refusal %d has no message or rule", r.Code)
			}
		}
		seen := map[errcode.Code]bool{}
		for _, c := range codes {
			if seen[c] {
				t.Fatalf("code %d listed twice: %v", c, codes)
			}
			seen[c] = true
		}
		for _, c := range []errcode.Code{errcode.Revoked, errcode.Expired, errcode.NotIssued, errcode.Redeemed} {
			if seen[c] && len(codes) != 1 {
				t.Fatalf("the coupon's state %d must stand alone: %v", c, codes)
			}
		}
		if seen[errcode.Redeemed] || seen[errcode.HeldElsewhere] {
			for _, r := range []limits.Reason{limits.CodeLimit, limits.CustomerLimit, limits.RepeatNotAllowed} {
				if seen[r.Code()] {
					t.Fatalf("used up or held already says %d: %v", r.Code(), codes)
				}
			}
		}
		if seen[errcode.NotIssued] && seen[limits.NeverIssued.Code()] {
			t.Fatalf("not issued said twice: %v", codes)
		}
		rules := slices.DeleteFunc(slices.Clone(codes), func(c errcode.Code) bool { return c < errcode.LimitReached })
		if !slices.IsSorted(rules) {
			t.Fatalf("rules come in order of code: %v", codes)
		}
		if len(rs) == 0 && state == coupon.Issued && !expired && (capacity == 0 || reds+holds < capacity) && len(got) != 0 {
			t.Fatalf("nothing broken, nothing refused: %v", codes)
		}
	})
}

func TestErrorMatching(t *testing.T) {
	err := error(&Error{Refusals: ForUse(use(deny(limits.BillBelowMin, limits.PlaceNotAllowed), limits.RedemptionRules{
		MinBill: decimal.NewNullDecimal(decimal.NewFromInt(50))}, limits.RedemptionCounts{}))})
	for _, target := range []error{errcode.ErrLimitReached, &errcode.Error{Code: limits.BillBelowMin.Code()}, &errcode.Error{Code: limits.PlaceNotAllowed.Code()}} {
		if !errors.Is(err, target) {
			t.Errorf("a refusal by rules matches %v", target)
		}
	}
	if errors.Is(err, errcode.ErrRevoked) {
		t.Error("it matches no code it does not list")
	}
	var ce *errcode.Error
	if !errors.As(err, &ce) || ce.Code != limits.PlaceNotAllowed.Code() && ce.Code != limits.BillBelowMin.Code() {
		t.Errorf("errors.As finds a refusal's *errcode.Error: %v", ce)
	}
	state := &Error{Refusals: []Refusal{RevokedAt(at)}}
	if !errors.Is(state, errcode.ErrRevoked) || errors.Is(state, errcode.ErrLimitReached) {
		t.Error("a refusal by the coupon's state matches its code and not LimitReached")
	}
	if !strings.Contains(err.Error(), "1211") || !strings.Contains(err.Error(), "min_bill") {
		t.Errorf("the error text names codes and rules: %v", err)
	}
}

// TestJSON checks the refusal's JSON: snake_case keys and a round trip.
func TestJSON(t *testing.T) {
	r := ForUse(use(deny(limits.BillBelowMin), limits.RedemptionRules{MinBill: decimal.NewNullDecimal(decimal.NewFromInt(50))}, limits.RedemptionCounts{}))[0]
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"code":1211,"rule":"min_bill","message":"The bill must be at least 50.00 EUR (it is 40.00 EUR).","params":{"bill":{"amount":"40","currency":"EUR"},"min_bill":{"amount":"50","currency":"EUR"}}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back Refusal
	if err := json.Unmarshal(b, &back); err != nil || back.Code != r.Code || back.Message != r.Message || !paramsEqual(back.Params, r.Params) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}

func paramsEqual(a, b Params) bool {
	money := func(x, y *series.Money) bool {
		return x == nil && y == nil || x != nil && y != nil && x.Currency == y.Currency && x.Amount.Equal(y.Amount)
	}
	a2, b2 := a, b
	a2.Bill, a2.ConvertedBill, a2.MinBill, a2.MaxBill = nil, nil, nil, nil
	b2.Bill, b2.ConvertedBill, b2.MinBill, b2.MaxBill = nil, nil, nil, nil
	times := func(p *Params) []*time.Time {
		return []*time.Time{&p.ExpiresAt, &p.RevokedAt, &p.StartsAt, &p.EndedAt, &p.NextAllowedAt, &p.HeldUntil, &p.RegisteredFrom, &p.RegisteredTo, &p.Registered}
	}
	ta, tb := times(&a2), times(&b2)
	for i := range ta {
		if !ta[i].Equal(*tb[i]) {
			return false
		}
		*ta[i], *tb[i] = time.Time{}, time.Time{}
	}
	return a2 == b2 && money(a.Bill, b.Bill) && money(a.ConvertedBill, b.ConvertedBill) && money(a.MinBill, b.MinBill) && money(a.MaxBill, b.MaxBill)
}

package limits

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/errcode"
)

// wed is a Wednesday, 14:30, the 13th of the month.
var wed = time.Date(2026, time.May, 13, 14, 30, 0, 0, time.UTC)

func money(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func some(s string) decimal.NullDecimal { return decimal.NewNullDecimal(money(s)) }

// allRules enables every rule kind, and the request from okRequest passes
// all of them.
func allRules() RedemptionRules {
	return RedemptionRules{
		AnyoneMayRedeem: true,
		MaxPerCode:      10,
		MaxPerCustomer:  3,
		MaxPerSeries:    1000,
		Repeat:          true,
		Start:           wed.Add(-24 * time.Hour),
		Weekdays:        WeekdaysOf(time.Monday, time.Wednesday, time.Friday),
		MonthDays:       MonthDaysOf(1, 13, 20),
		Hours:           []HourRange{{From: 9, To: 12}, {From: 14, To: 18}},
		MinGap:          24 * time.Hour,
		Places: NewPlaceSet(PlaceRef{Store, "s-1"}, PlaceRef{Zone, "north"},
			PlaceRef{Till, "t-9"}, PlaceRef{Concept, "outlet"}),
		MinBill: some("100.00"),
		MaxBill: some("500.00"),
		NewCustomers: NewCustomerRule{
			RegisteredFrom:    wed.AddDate(0, -1, 0),
			RegisteredTo:      wed,
			LimitTransactions: true,
			MaxTransactions:   2,
		},
	}
}

func okCounts() RedemptionCounts {
	return RedemptionCounts{Code: 2, CustomerCode: 1, Series: 500, CustomerLast: wed.Add(-48 * time.Hour)}
}

func okRequest() RedemptionRequest {
	return RedemptionRequest{
		At:       wed,
		Place:    Place{Till: "t-1", Store: "s-1", Zone: "south", Concept: "mall"},
		Bill:     money("150.00"),
		Customer: CustomerFacts{Registered: wed.AddDate(0, 0, -7), Transactions: 1},
		Holder:   false,
		Issued:   true,
	}
}

func reasons(d Decision) []Reason { return slices.Collect(d.Reasons()) }

func TestEvaluateRedemptionEachRule(t *testing.T) {
	rules := allRules()
	counts := okCounts()
	req := okRequest()
	if d := EvaluateRedemption(&rules, &counts, &req); !d.Allowed() {
		t.Fatalf("baseline request must pass every rule, got %v", d)
	}
	cases := []struct {
		name   string
		change func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest)
		want   []Reason
	}{
		{"code level reached", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) { c.Code = 10 }, []Reason{CodeLimit}},
		{"customer level reached", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) { c.CustomerCode = 3 }, []Reason{CustomerLimit}},
		{"series level reached", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) { c.Series = 1000 }, []Reason{SeriesLimit}},
		{"no repeat", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) {
			r.Repeat, r.MaxPerCustomer, r.MinGap = false, 0, 0
		}, []Reason{RepeatNotAllowed}},
		{"before start", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) { r.Start = wed.Add(time.Minute) }, []Reason{NotStarted}},
		{"weekday", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) {
			r.Weekdays = WeekdaysOf(time.Sunday)
		}, []Reason{WrongWeekday}},
		{"month day", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) { r.MonthDays = MonthDaysOf(31) }, []Reason{WrongMonthDay}},
		{"hour", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) { q.At = wed.Add(-2 * time.Hour) }, []Reason{WrongHour}},
		{"hour window end is exclusive", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) {
			r.Hours = []HourRange{{From: 9, To: 14}}
		}, []Reason{WrongHour}},
		{"gap", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) {
			c.CustomerLast = wed.Add(-23 * time.Hour)
		}, []Reason{RedemptionGap}},
		{"place", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) {
			q.Place = Place{Store: "s-2", Zone: "south"}
		}, []Reason{PlaceNotAllowed}},
		{"bill below", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) { q.Bill = money("99.99") }, []Reason{BillBelowMin}},
		{"bill above", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) { q.Bill = money("500.01") }, []Reason{BillAboveMax}},
		{"registered too early", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) {
			q.Customer.Registered = wed.AddDate(0, -2, 0)
		}, []Reason{NotNewCustomer}},
		{"registration unknown", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) {
			q.Customer.Registered = time.Time{}
		}, []Reason{NotNewCustomer}},
		{"too many purchases", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) { q.Customer.Transactions = 3 }, []Reason{TooManyPurchases}},
		{"not holder", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) {
			r.AnyoneMayRedeem, r.MaxPerCode = false, 0
			c.Code = c.CustomerCode
		}, []Reason{NotHolder}},
		{"never issued", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) { q.Issued = false }, []Reason{NeverIssued}},
		{"every reason at once", func(r *RedemptionRules, c *RedemptionCounts, q *RedemptionRequest) {
			*c = RedemptionCounts{Code: 10, CustomerCode: 3, Series: 1000}
			q.At = time.Date(2026, time.May, 17, 7, 0, 0, 0, time.UTC) // Sunday the 17th, 07:00
			c.CustomerLast = q.At.Add(-time.Minute)
			r.Start = q.At.Add(time.Hour)
			q.Place = Place{}
			q.Bill = money("1")
			q.Customer = CustomerFacts{Transactions: 9}
			q.Issued = false
		}, []Reason{CodeLimit, CustomerLimit, SeriesLimit, NotStarted, WrongWeekday, WrongMonthDay, WrongHour,
			RedemptionGap, PlaceNotAllowed, BillBelowMin, NotNewCustomer, TooManyPurchases, NeverIssued}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, c, q := allRules(), okCounts(), okRequest()
			tc.change(&r, &c, &q)
			if err := r.Validate(""); err != nil {
				t.Fatalf("test rules must be valid: %v", err)
			}
			d := EvaluateRedemption(&r, &c, &q)
			if diff := cmp.Diff(tc.want, reasons(d)); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			err := d.Err()
			if !errors.Is(err, errcode.ErrLimitReached) {
				t.Fatalf("Err() = %v, want it to match ErrLimitReached", err)
			}
			for _, want := range tc.want {
				if !errors.Is(err, &errcode.Error{Code: want.Code()}) {
					t.Errorf("Err() does not match reason code %d", want.Code())
				}
			}
		})
	}
}

func TestPlaceMatchesAnyLevel(t *testing.T) {
	r := RedemptionRules{Places: NewPlaceSet(PlaceRef{Zone, "north"})}
	c := RedemptionCounts{}
	for _, tc := range []struct {
		place Place
		ok    bool
	}{
		{Place{Till: "t1", Store: "s1", Zone: "north", Concept: "c"}, true},
		{Place{Till: "t1", Store: "s1", Zone: "south", Concept: "c"}, false},
		{Place{Store: "north"}, false}, // a store with the zone's id is not the zone
		{Place{}, false},
	} {
		q := RedemptionRequest{At: wed, Place: tc.place, Holder: true, Issued: true}
		if d := EvaluateRedemption(&r, &c, &q); d.Allowed() != tc.ok {
			t.Errorf("place %+v: allowed = %v, want %v", tc.place, d.Allowed(), tc.ok)
		}
	}
}

// Worked redemption use cases of the code, customer and series levels, each
// at its boundary.
func TestRedemptionUseCases(t *testing.T) {
	type step struct {
		counts RedemptionCounts
		holder bool
		want   []Reason
	}
	cases := []struct {
		name  string
		rules RedemptionRules
		steps []step
	}{
		{
			// A code level of 1,000: only the first 1,000 uses of the code, by
			// anyone, pass.
			name:  "SUMMER50 code limit 1000",
			rules: RedemptionRules{AnyoneMayRedeem: true, MaxPerCode: 1000},
			steps: []step{
				{RedemptionCounts{Code: 0}, false, nil},
				{RedemptionCounts{Code: 999}, false, nil},
				{RedemptionCounts{Code: 1000}, false, []Reason{CodeLimit}},
			},
		},
		{
			// A customer level of 1: each customer uses the code once, while
			// it stays available to others.
			name: "WELCOME10 customer limit 1",
			// A customer who may not repeat redeems once: no MaxPerCustomer.
			rules: RedemptionRules{AnyoneMayRedeem: true},
			steps: []step{
				{RedemptionCounts{Code: 57, CustomerCode: 0}, false, nil},
				{RedemptionCounts{Code: 57, CustomerCode: 1}, false, []Reason{RepeatNotAllowed}},
			},
		},
		{
			// A common code has customer and series levels only: every
			// customer may redeem it twice, and the series 1,000 times in all.
			name:  "HOLIDAY20 customer 2, series 1000",
			rules: RedemptionRules{AnyoneMayRedeem: true, Repeat: true, MaxPerCustomer: 2, MaxPerSeries: 1000},
			steps: []step{
				{RedemptionCounts{Code: 500, CustomerCode: 1, Series: 500}, false, nil},
				{RedemptionCounts{Code: 500, CustomerCode: 2, Series: 500}, false, []Reason{CustomerLimit}},
				{RedemptionCounts{Code: 1000, CustomerCode: 0, Series: 999}, false, nil},
				{RedemptionCounts{Code: 1000, CustomerCode: 0, Series: 1000}, false, []Reason{SeriesLimit}},
			},
		},
		{
			// A code level of 10 with one use per customer: the code is used 10
			// times in all, once by each customer.
			name:  "NY2024 code 10, customer 1",
			rules: RedemptionRules{AnyoneMayRedeem: true, MaxPerCode: 10},
			steps: []step{
				{RedemptionCounts{Code: 9, CustomerCode: 0}, false, nil},
				{RedemptionCounts{Code: 9, CustomerCode: 1}, false, []Reason{RepeatNotAllowed}},
				{RedemptionCounts{Code: 10, CustomerCode: 0}, false, []Reason{CodeLimit}},
			},
		},
		{
			// Only the holder redeems (anyone-may-redeem off): the code level is
			// the customer level, 1, and the series allows 5,000 uses.
			name:  "holder only, customer 1, series 5000",
			rules: RedemptionRules{MaxPerSeries: 5000},
			steps: []step{
				{RedemptionCounts{Series: 4999}, true, nil},
				{RedemptionCounts{Series: 4999}, false, []Reason{NotHolder}},
				{RedemptionCounts{Code: 1, CustomerCode: 1, Series: 10}, true, []Reason{CodeLimit, RepeatNotAllowed}},
				{RedemptionCounts{Series: 5000}, true, []Reason{SeriesLimit}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.rules.Validate(""); err != nil {
				t.Fatalf("the use case's configuration is rejected: %v", err)
			}
			for i, s := range tc.steps {
				q := RedemptionRequest{At: wed, Holder: s.holder, Issued: true}
				d := EvaluateRedemption(&tc.rules, &s.counts, &q)
				if diff := cmp.Diff(s.want, reasons(d)); diff != "" {
					t.Errorf("step %d counts %+v (-want +got):\n%s", i, s.counts, diff)
				}
			}
		})
	}
}

func TestRedemptionGuards(t *testing.T) {
	r := RedemptionRules{AnyoneMayRedeem: true, MaxPerCode: 5, Repeat: true, MaxPerCustomer: 2, MaxPerSeries: 100, MinGap: time.Hour}
	c := RedemptionCounts{}
	q := RedemptionRequest{At: wed, Issued: true}
	d := EvaluateRedemption(&r, &c, &q)
	want := []Guard{
		{Counter: CodeUses, Limit: 5},
		{Counter: CustomerCodeUses, Limit: 2},
		{Counter: SeriesUses, Limit: 100},
		{Counter: CustomerSeriesUses, MinGap: time.Hour},
	}
	if diff := cmp.Diff(want, d.Guards()); diff != "" {
		t.Errorf("guards (-want +got):\n%s", diff)
	}
	// Holder-only: the code counter is guarded by the customer level.
	r = RedemptionRules{}
	d = EvaluateRedemption(&r, &c, &q)
	if g := d.Guards()[0]; g.Limit != 1 {
		t.Errorf("holder-only single-use code guard = %+v, want limit 1", g)
	}
}

func TestGuardCheck(t *testing.T) {
	g := Guard{Counter: CustomerIssued, Limit: 3, MinGap: 24 * time.Hour}
	cases := []struct {
		n    int64
		last time.Time
		ok   bool
	}{
		{0, time.Time{}, true},
		{2, wed.Add(-24 * time.Hour), true},
		{2, wed.Add(-24*time.Hour + time.Nanosecond), false},
		{3, time.Time{}, false},
	}
	for _, tc := range cases {
		if got := g.Check(tc.n, tc.last, wed); got != tc.ok {
			t.Errorf("Check(%d, %v) = %v, want %v", tc.n, tc.last, got, tc.ok)
		}
	}
	if !(Guard{}).Check(1<<62, wed, wed) {
		t.Error("an empty guard must allow anything")
	}
}

// Worked issuance cases, each at its boundary: maximum 3 per customer; gap
// 1 day; series maximum 2; a second common code; the audience list; an
// exclusion.
func TestEvaluateIssuanceCases(t *testing.T) {
	cases := []struct {
		name   string
		rules  IssuanceRules
		counts IssuanceCounts
		req    IssuanceRequest
		want   []Reason
	}{
		{"3 per customer, third issue", IssuanceRules{MaxPerCustomer: 3}, IssuanceCounts{Customer: 2}, IssuanceRequest{At: wed}, nil},
		{"3 per customer, fourth issue", IssuanceRules{MaxPerCustomer: 3}, IssuanceCounts{Customer: 3}, IssuanceRequest{At: wed}, []Reason{CustomerIssueLimit}},
		{"gap 1 day, same day", IssuanceRules{MaxPerCustomer: 3, MinGap: 24 * time.Hour}, IssuanceCounts{Customer: 1, CustomerLast: wed}, IssuanceRequest{At: wed}, []Reason{IssueGap}},
		{"gap 1 day, a day later", IssuanceRules{MaxPerCustomer: 3, MinGap: 24 * time.Hour}, IssuanceCounts{Customer: 1, CustomerLast: wed}, IssuanceRequest{At: wed.Add(24 * time.Hour)}, nil},
		{"series max 2, third", IssuanceRules{MaxTotal: 2}, IssuanceCounts{Series: 2, Customer: 2}, IssuanceRequest{At: wed}, []Reason{SeriesIssueLimit}},
		{"common code twice", IssuanceRules{OncePerCustomer: true}, IssuanceCounts{Customer: 1}, IssuanceRequest{At: wed}, []Reason{CommonCodeIssued}},
		{"audience", IssuanceRules{AudienceOnly: true}, IssuanceCounts{}, IssuanceRequest{At: wed}, []Reason{NotInAudience}},
		{"audience member", IssuanceRules{AudienceOnly: true}, IssuanceCounts{}, IssuanceRequest{At: wed, InAudience: true}, nil},
		{"excluded", IssuanceRules{}, IssuanceCounts{}, IssuanceRequest{At: wed, Excluded: true}, []Reason{ExcludedByHistory}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := EvaluateIssuance(&tc.rules, &tc.counts, &tc.req)
			if diff := cmp.Diff(tc.want, reasons(d)); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			gs := d.Guards()
			if len(gs) != 2 || gs[0].Counter != SeriesIssued || gs[1].Counter != CustomerIssued ||
				gs[0].Limit != tc.rules.MaxTotal || gs[1].Limit != tc.rules.CustomerLimit() || gs[1].MinGap != tc.rules.MinGap {
				t.Errorf("guards = %+v do not carry the rules' limits", gs)
			}
		})
	}
}

func TestValidateNamesEveryField(t *testing.T) {
	r := RedemptionRules{
		MaxPerCode:     -1,
		MaxPerCustomer: -2,
		MaxPerSeries:   -3,
		Hours:          []HourRange{{From: 9, To: 17}, {From: 18, To: 10}, {From: 0, To: 25}},
		MinBill:        some("100"),
		MaxBill:        some("50"),
		MonthDays:      MonthDaysOf(0, 15),
		NewCustomers:   NewCustomerRule{RegisteredFrom: wed, RegisteredTo: wed.Add(-time.Hour), MaxTransactions: -1},
	}
	var fields []string
	for _, e := range errcode.All(r.Validate("Redemption.")) {
		if e.Code != errcode.InvalidConfig {
			t.Errorf("%v: code %d, want InvalidConfig", e, e.Code)
		}
		fields = append(fields, e.Field)
	}
	want := []string{
		"Redemption.MaxPerCode", "Redemption.MaxPerCustomer", "Redemption.MaxPerSeries",
		"Redemption.MaxPerCode", // code level without anyone-may-redeem
		"Redemption.MonthDays", "Redemption.Hours[1]", "Redemption.Hours[2]",
		"Redemption.MaxBill", "Redemption.NewCustomers.RegisteredTo", "Redemption.NewCustomers.MaxTransactions",
	}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}

	ir := IssuanceRules{MaxPerCustomer: -1, MaxTotal: -1, MinGap: -time.Second}
	fields = fields[:0]
	for _, e := range errcode.All(ir.Validate("Issuance.")) {
		fields = append(fields, e.Field)
	}
	if diff := cmp.Diff([]string{"Issuance.MaxPerCustomer", "Issuance.MaxTotal", "Issuance.MinGap"}, fields); diff != "" {
		t.Errorf("issuance fields (-want +got):\n%s", diff)
	}
	if err := allRules(); err.Validate("") != nil {
		t.Errorf("allRules must be valid: %v", err.Validate(""))
	}
}

func TestGapNeedsRepeat(t *testing.T) {
	r := RedemptionRules{MinGap: time.Hour}
	es := errcode.All(r.Validate(""))
	if len(es) != 1 || es[0].Field != "MinGap" {
		t.Fatalf("a gap on a single-use coupon must be rejected naming MinGap, got %v", es)
	}
}

func BenchmarkEvaluateRedemption(b *testing.B) {
	r, c, q := allRules(), okCounts(), okRequest()
	b.ReportAllocs()
	var sink bool
	for b.Loop() {
		d := EvaluateRedemption(&r, &c, &q)
		sink = sink != d.Allowed()
	}
	_ = sink
}

func BenchmarkEvaluateRedemptionDenied(b *testing.B) {
	r, c, q := allRules(), okCounts(), okRequest()
	c.Code, q.Bill, q.Place = 10, money("99.5"), Place{Store: "x"}
	b.ReportAllocs()
	for b.Loop() {
		d := EvaluateRedemption(&r, &c, &q)
		if d.Allowed() {
			b.Fatal("must deny")
		}
	}
}

func BenchmarkEvaluateIssuance(b *testing.B) {
	r := IssuanceRules{MaxPerCustomer: 3, MinGap: time.Hour, MaxTotal: 1000, AudienceOnly: true}
	c := IssuanceCounts{Series: 10, Customer: 1, CustomerLast: wed.Add(-2 * time.Hour)}
	q := IssuanceRequest{At: wed, InAudience: true}
	b.ReportAllocs()
	for b.Loop() {
		d := EvaluateIssuance(&r, &c, &q)
		if !d.Allowed() {
			b.Fatal("must allow")
		}
	}
}

func TestCmpMoneyMatchesDecimal(t *testing.T) {
	vals := []string{"0", "-0.5", "99.5", "99.50", "100", "100.00", "100.001", "1e3", "123456789012345678", "0.000000000000000001",
		"99999999999999999.9", "-7", "1234567890123456789012", "5E-20"}
	for _, a := range vals {
		for _, b := range vals {
			x, y := money(a), money(b)
			if got, want := cmpMoney(x, y), x.Cmp(y); got != want {
				t.Errorf("cmpMoney(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestValidatePlaces(t *testing.T) {
	r := RedemptionRules{Places: NewPlaceSet(PlaceRef{Kind: Store, ID: "s1"}, PlaceRef{Kind: 0, ID: "x"}, PlaceRef{Kind: Zone, ID: " "})}
	es := errcode.All(r.Validate(""))
	if len(es) != 2 || es[0].Field != "Places" || es[1].Field != "Places" {
		t.Fatalf("a place without a known kind or an id must be rejected naming Places, got %v", es)
	}
}

// PlaceKind text ignores the case of ASCII letters only: "ſtore" (long s)
// is not "store", though Unicode case folding says it is.
func TestPlaceKindText(t *testing.T) {
	for text, want := range map[string]PlaceKind{"store": Store, "STORE": Store, "Till": Till, "zONE": Zone, "concept": Concept} {
		var k PlaceKind
		if err := k.UnmarshalText([]byte(text)); err != nil || k != want {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, k, err, want)
		}
	}
	for _, text := range []string{"ſtore", "conce\u212apt", "tıll", "", "stores"} {
		k := Zone
		if err := k.UnmarshalText([]byte(text)); !errors.Is(err, errcode.ErrInvalidArgument) || k != Zone {
			t.Errorf("UnmarshalText(%q) = %v, %v; want InvalidArgument and no change", text, k, err)
		}
	}
}

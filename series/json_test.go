package series_test

import (
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/jsontest"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// seriesCmp compares series by value: decimals and times by Equal, place
// sets by their places, empty and nil slices alike.
var seriesCmp = cmp.Options{
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) }),
	cmp.Comparer(func(a, b decimal.NullDecimal) bool {
		return a.Valid == b.Valid && (!a.Valid || a.Decimal.Equal(b.Decimal))
	}),
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
	cmp.Comparer(func(a, b limits.PlaceSet) bool { return cmp.Equal(a.Refs(), b.Refs()) }),
}

// fullSeries sets every field of a series.
func fullSeries() series.Series {
	s := validSeries()
	s.Source = series.Source{Kind: series.Generated, Length: 10, Alphabet: series.Custom, CustomAlphabet: "ACDEFGHJK2345",
		Prefix: "NY-", Suffix: "-X", CheckChar: true, MaxFill: 0.001}
	s.Issuance = series.Issuance{
		IssuanceRules: limits.IssuanceRules{MaxPerCustomer: 3, MinGap: 24 * time.Hour, MaxTotal: 10000,
			OncePerCustomer: false, AudienceOnly: true},
		OnQualifyAgain:      series.SendExisting,
		NotifyRemaining:     500,
		ExcludeSeries:       []string{"winter", "autumn"},
		ExcludeWithinMonths: 6,
	}
	s.Redemption = limits.RedemptionRules{
		AnyoneMayRedeem: true, MaxPerCode: 5, MaxPerCustomer: 2, MaxPerSeries: 50000, Repeat: true,
		Start:     spring.Add(time.Hour),
		Weekdays:  limits.WeekdaysOf(time.Saturday, time.Sunday),
		MonthDays: limits.MonthDaysOf(1, 15, 31),
		Hours:     []limits.HourRange{{From: 9, To: 12}, {From: 14, To: 20}},
		MinGap:    time.Hour,
		Places:    limits.NewPlaceSet(limits.PlaceRef{Kind: limits.Store, ID: "s-1"}, limits.PlaceRef{Kind: limits.Zone, ID: "north"}),
		MinBill:   nullDec("10.50"),
		MaxBill:   nullDec("1000"),
		NewCustomers: limits.NewCustomerRule{RegisteredFrom: spring.AddDate(-1, 0, 0), RegisteredTo: spring,
			LimitTransactions: true, MaxTransactions: 2},
	}
	s.Transferable = true
	s.Expiry = series.Expiry{Kind: series.MonthEndsFromIssue, N: 1}
	s.Discount = series.Discount{Kind: series.Percent, Percent: dec("12.5"), Cap: nullDec("20.00"), Currency: "EUR", Scale: 3}
	s.Reminders = []series.Reminder{{DaysBefore: 3, At: series.At(10, 0), Channel: "sms"}, {At: series.At(18, 30), Channel: "email"}}
	s.Products = series.ProductRules{Include: []string{"boot-1"}, Exclude: []string{"sale-9"}, IncludeCategories: []string{"shoes"},
		ExcludeCategories: []string{"gift-cards"}, MinQuantity: 2, MinSubtotal: nullDec("50")}
	s.Budget = series.Budget{Total: nullDec("10000"), PerCustomer: nullDec("30"), OnExceed: series.BudgetReduce}
	s.Stacking = series.Stacking{Group: "spring", MaxPerBill: 2, Priority: -5}
	s.Returns = series.ReturnBoth
	s.Version = 4
	s.CreatedAt = spring.Add(-48 * time.Hour)
	s.UpdatedAt = spring.Add(-24 * time.Hour)
	return s
}

func TestJSONRoundTrip(t *testing.T) {
	for name, s := range map[string]series.Series{
		"full":        fullSeries(),
		"base":        validSeries(),
		"common":      withSource(series.Common),
		"third party": withSource(series.ThirdParty),
		"fixed": func() series.Series {
			s := validSeries()
			s.Discount = series.Discount{Kind: series.Fixed, Amount: dec("5"), Currency: "USD"}
			return s
		}(),
		"zero": {},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			var got series.Series
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", b, err)
			}
			if diff := cmp.Diff(s, got, seriesCmp); diff != "" {
				t.Errorf("round trip (-want +got):\n%s\njson: %s", diff, b)
			}
		})
	}
	full := fullSeries()
	if err := full.Validate(); err != nil {
		t.Errorf("fullSeries does not validate: %v", err)
	}
}

// Every key of a series' JSON is snake_case, walking its fields (those of
// limits included) and the document a full series is written as.
func TestJSONSnakeCase(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[series.Series](), reflect.TypeFor[series.Money]()} {
		jsontest.CheckSnakeCase(t, typ)
	}
	jsontest.RoundTrip(t, fullSeries(), seriesCmp)
	jsontest.RoundTrip(t, series.Money{Amount: dec("12.5"), Currency: "EUR"}, seriesCmp)
}

func TestJSONShape(t *testing.T) {
	b, err := json.Marshal(fullSeries())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"status":"active"`, `"time_zone":"Europe/Berlin"`, `"kind":"generated"`, `"alphabet":"custom"`,
		`"max_total":10000`, `"on_qualify_again":"send_existing"`, `"exclude_within_months":6`,
		`"anyone_may_redeem":true`, `"kind":"month_ends_from_issue"`, `"kind":"percent"`, `"percent":"12.5"`,
		`"cap":"20"`, `"currency":"EUR"`, `"transferable":true`, `"version":4`, `"max_fill":0.001`,
		`"reminders":[{"days_before":3,"at":"10:00","channel":"sms"},{"days_before":0,"at":"18:30","channel":"email"}]`,
		`"products":{"include":["boot-1"],"exclude":["sale-9"],"include_categories":["shoes"],"exclude_categories":["gift-cards"],"min_quantity":2,"min_subtotal":"50"}`,
		`"budget":{"total":"10000","per_customer":"30","on_exceed":"reduce"}`,
		`"stacking":{"group":"spring","max_per_bill":2,"priority":-5}`, `"returns":"both"`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
}

func TestJSONRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSeries(t)
		b, err := json.Marshal(s)
		if err != nil {
			// Only an enum outside its values fails to encode.
			if errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Fatalf("Marshal: %v", err)
			}
			return
		}
		var got series.Series
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if diff := cmp.Diff(s, got, seriesCmp); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
	})
}

func TestUnknownEnumDoesNotEncode(t *testing.T) {
	s := validSeries()
	s.Status = 9
	_, err := json.Marshal(s)
	if !errors.Is(err, errcode.ErrInvalidArgument) {
		t.Errorf("Marshal with Status 9: %v, want InvalidArgument", err)
	}
}

type enum interface {
	encoding.TextMarshaler
	String() string
}

func TestEnumText(t *testing.T) {
	cases := []struct {
		v    enum
		want string
		zero func() encoding.TextUnmarshaler
	}{
		{series.Active, "active", func() encoding.TextUnmarshaler { return new(series.Status) }},
		{series.Paused, "paused", func() encoding.TextUnmarshaler { return new(series.Status) }},
		{series.Ended, "ended", func() encoding.TextUnmarshaler { return new(series.Status) }},
		{series.Generated, "generated", func() encoding.TextUnmarshaler { return new(series.SourceKind) }},
		{series.Common, "common", func() encoding.TextUnmarshaler { return new(series.SourceKind) }},
		{series.RandomizedCommon, "randomized_common", func() encoding.TextUnmarshaler { return new(series.SourceKind) }},
		{series.Uploaded, "uploaded", func() encoding.TextUnmarshaler { return new(series.SourceKind) }},
		{series.ThirdParty, "third_party", func() encoding.TextUnmarshaler { return new(series.SourceKind) }},
		{series.WithOffer, "with_offer", func() encoding.TextUnmarshaler { return new(series.ExpiryKind) }},
		{series.DaysFromIssue, "days_from_issue", func() encoding.TextUnmarshaler { return new(series.ExpiryKind) }},
		{series.MonthEndsFromIssue, "month_ends_from_issue", func() encoding.TextUnmarshaler { return new(series.ExpiryKind) }},
		{series.Never, "never", func() encoding.TextUnmarshaler { return new(series.ExpiryKind) }},
		{series.Fixed, "fixed", func() encoding.TextUnmarshaler { return new(series.DiscountKind) }},
		{series.Percent, "percent", func() encoding.TextUnmarshaler { return new(series.DiscountKind) }},
		{series.SendNothing, "send_nothing", func() encoding.TextUnmarshaler { return new(series.QualifyAgain) }},
		{series.SendExisting, "send_existing", func() encoding.TextUnmarshaler { return new(series.QualifyAgain) }},
		{series.PerUnit, "per_unit", func() encoding.TextUnmarshaler { return new(series.DiscountKind) }},
		{series.BudgetRefuse, "refuse", func() encoding.TextUnmarshaler { return new(series.BudgetPolicy) }},
		{series.BudgetReduce, "reduce", func() encoding.TextUnmarshaler { return new(series.BudgetPolicy) }},
		{series.ReturnBudget, "budget", func() encoding.TextUnmarshaler { return new(series.ReturnPolicy) }},
		{series.ReturnUse, "use", func() encoding.TextUnmarshaler { return new(series.ReturnPolicy) }},
		{series.ReturnBoth, "both", func() encoding.TextUnmarshaler { return new(series.ReturnPolicy) }},
		{series.ReturnNeither, "neither", func() encoding.TextUnmarshaler { return new(series.ReturnPolicy) }},
	}
	for _, tc := range cases {
		b, err := tc.v.MarshalText()
		if err != nil || string(b) != tc.want || tc.v.String() != tc.want {
			t.Errorf("%v: MarshalText = %q, %v; String = %q; want %q", tc.v, b, err, tc.v.String(), tc.want)
		}
		u := tc.zero()
		if err := u.UnmarshalText([]byte(strings.ToUpper(tc.want))); err != nil {
			t.Errorf("UnmarshalText(%q): %v", strings.ToUpper(tc.want), err)
		} else if u.(enum).String() != tc.want {
			t.Errorf("UnmarshalText(%q) = %v", tc.want, u)
		}
		if err := u.UnmarshalText([]byte("bogus")); !errors.Is(err, errcode.ErrInvalidArgument) {
			t.Errorf("UnmarshalText(bogus) = %v, want InvalidArgument", err)
		}
	}
	// Only ASCII letters fold: Unicode case folding would read "ſ" (long s)
	// as "s" and the Kelvin sign as "k".
	for _, tc := range []struct {
		text string
		u    encoding.TextUnmarshaler
	}{
		{"pauſed", new(series.Status)}, {"ſend_nothing", new(series.QualifyAgain)},
		{"month_endſ_from_issue", new(series.ExpiryKind)}, {"dayſ_from_issue", new(series.ExpiryKind)},
		{"ſend_existing", new(series.QualifyAgain)},
	} {
		if err := tc.u.UnmarshalText([]byte(tc.text)); !errors.Is(err, errcode.ErrInvalidArgument) {
			t.Errorf("UnmarshalText(%q) = %v, want InvalidArgument", tc.text, err)
		}
	}
	if got := series.Status(0).String(); got != "Status(0)" {
		t.Errorf("Status(0).String() = %q", got)
	}
	if _, err := series.SourceKind(99).MarshalText(); !errors.Is(err, errcode.ErrInvalidArgument) {
		t.Errorf("SourceKind(99).MarshalText error = %v", err)
	}
}

// FuzzSeriesJSON decodes arbitrary JSON as a Series. Whatever decodes must
// validate without panicking, encode again, and decode to the same series;
// a series that validates must compute expiries and discounts.
func FuzzSeriesJSON(f *testing.F) {
	for _, s := range []series.Series{fullSeries(), validSeries(), withSource(series.Common)} {
		b, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"status":"PAUSED","source":{"kind":"randomized_common","sample":"TEST12345"},"discount":{"kind":"fixed","amount":"1e3"}}`))
	// Numbers past MaxDigits, but not by thousands of digits: each run on
	// such a number costs as much as its digits, and the fuzzer mutates and
	// shrinks its inputs over and over.
	f.Add([]byte(`{"discount":{"percent":"1e-40","cap":"9e39"},"redemption":{"min_bill":"1e-39","max_bill":"1e39"}}`))
	f.Add([]byte(`{"expiry":{"kind":"days_from_issue","n":9223372036854775807},"time_zone":"America/Santiago"}`))
	f.Add([]byte(`{"products":{"include":["a","a",""],"min_subtotal":"1e39"},"budget":{"total":"0.001","on_exceed":"reduce"},"stacking":{"exclusive":true,"group":"g","max_per_bill":-1},"returns":"use"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s series.Series
		if err := json.Unmarshal(data, &s); err != nil {
			return
		}
		verr := s.Validate()
		for _, e := range errcode.All(verr) {
			if e.Code != errcode.InvalidConfig || e.Field == "" {
				t.Fatalf("bad validation error %#v", e)
			}
		}
		if field := hugeNumber(&s); field != "" {
			// Validate refuses it, cheaply; writing it out and comparing it
			// again would cost as much as its digits (up to ten thousand)
			// and tests only the decimal package.
			if !slices.Contains(fieldsOf(verr), field) {
				t.Fatalf("%s is past MaxDigits, but Validate does not name it: %v", field, verr)
			}
			return
		}
		b, err := json.Marshal(s)
		if err != nil {
			// limits.PlaceSet decodes a place without a kind but cannot
			// encode it; Validate refuses such a series.
			if verr == nil || errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Fatalf("Marshal of a decoded series: %v (Validate: %v)", err, verr)
			}
			return
		}
		var again series.Series
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if !cmp.Equal(s, again, seriesCmp) {
			t.Fatalf("round trip (-first +second):\n%s", cmp.Diff(s, again, seriesCmp))
		}
		if verr != nil {
			return
		}
		loc, err := s.Location()
		if err != nil {
			t.Fatalf("valid series without a location: %v", err)
		}
		issued := s.Start
		if issued.IsZero() {
			issued = spring
		}
		if exp := s.ExpiresAt(issued, loc); !exp.IsZero() && !s.End.IsZero() && exp.After(s.End) {
			t.Fatalf("expiry %v after the offer's end %v", exp, s.End)
		}
		if s.Discount.Kind == series.PerUnit {
			return // needs a basket's lines; package basket fuzzes those
		}
		bill := series.Money{Amount: dec("123.45"), Currency: s.Discount.Currency}
		got, err := s.Discount.Apply(bill, nil)
		if err != nil || got.Amount.Sign() < 0 || got.Amount.GreaterThan(bill.Amount) {
			t.Fatalf("Apply(%v) = %v, %v", bill, got, err)
		}
	})
}

// hugeNumber names a number of s with more than MaxDigits digits before or
// after the decimal point, or returns "".
func hugeNumber(s *series.Series) string {
	huge := func(d decimal.Decimal) bool {
		e := int64(d.Exponent())
		return e < -series.MaxDigits || int64(d.NumDigits())+e > series.MaxDigits
	}
	for _, x := range []struct {
		field string
		valid bool
		d     decimal.Decimal
	}{
		{"Discount.Amount", true, s.Discount.Amount},
		{"Discount.Percent", true, s.Discount.Percent},
		{"Discount.Cap", s.Discount.Cap.Valid, s.Discount.Cap.Decimal},
		{"Redemption.MinBill", s.Redemption.MinBill.Valid, s.Redemption.MinBill.Decimal},
		{"Redemption.MaxBill", s.Redemption.MaxBill.Valid, s.Redemption.MaxBill.Decimal},
		{"Products.MinSubtotal", s.Products.MinSubtotal.Valid, s.Products.MinSubtotal.Decimal},
		{"Budget.Total", s.Budget.Total.Valid, s.Budget.Total.Decimal},
		{"Budget.PerCustomer", s.Budget.PerCustomer.Valid, s.Budget.PerCustomer.Decimal},
	} {
		if x.valid && huge(x.d) {
			return x.field
		}
	}
	return ""
}

// fieldsOf returns the field of every error in err.
func fieldsOf(err error) []string {
	var out []string
	for _, e := range errcode.All(err) {
		out = append(out, e.Field)
	}
	return out
}

// FuzzEnumText parses arbitrary text as each enum and as a time of day:
// what parses prints back as the same text, ignoring the case of ASCII
// letters (so with the same length: a non-ASCII look-alike is longer).
func FuzzEnumText(f *testing.F) {
	for _, s := range []string{"active", "THIRD_PARTY", "days_from_issue", "percent", "send_existing", "", "x", "09:30", "24:00", "ſend_nothing"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, u := range []interface {
			encoding.TextUnmarshaler
			enum
		}{new(series.Status), new(series.SourceKind), new(series.ExpiryKind), new(series.DiscountKind), new(series.QualifyAgain),
			new(series.TimeOfDay), new(series.BudgetPolicy), new(series.ReturnPolicy)} {
			if err := u.UnmarshalText([]byte(text)); err != nil {
				if errcode.CodeOf(err) != errcode.InvalidArgument {
					t.Fatalf("UnmarshalText(%q): %v", text, err)
				}
				continue
			}
			b, err := u.MarshalText()
			if err != nil || len(b) != len(text) || !strings.EqualFold(string(b), text) {
				t.Fatalf("UnmarshalText(%q) then MarshalText = %q, %v", text, b, err)
			}
		}
	})
}

package series_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// withSource returns the valid base series with source kind k.
func withSource(k series.SourceKind) series.Series {
	s := validSeries()
	switch k {
	case series.Generated:
	case series.Common:
		s.Source = series.Source{Kind: series.Common, Code: "HOLIDAY20"}
	case series.Uploaded:
		s.Source = series.Source{Kind: series.Uploaded}
	case series.ThirdParty:
		s.Source = series.Source{Kind: series.ThirdParty}
	}
	return s
}

// customerLevel is the redemption rules for a customer level: n = 1 is
// "a customer may redeem once" (Repeat off, and so no MaxPerCustomer), n > 1
// is Repeat with that limit, and n = 0 (no customer level) is Repeat without
// a limit.
func customerLevel(r *limits.RedemptionRules, n limits.Limit) {
	switch {
	case n == 1:
		r.Repeat, r.MaxPerCustomer = false, limits.NoLimit
	default:
		r.Repeat, r.MaxPerCustomer = true, n
	}
}

// TestLimitApplicability builds, for each code source, the combinations of
// code, customer and series levels an operator sets, and checks that each is
// accepted with the effective levels it means. Where a level does not apply
// (a code level with anyone-may-redeem off, where the code level is the
// customer level; a code level on a common code, which has customer and
// series levels only; anyone-may-redeem on third-party codes), setting it
// must be rejected naming that field.
func TestLimitApplicability(t *testing.T) {
	type levels struct{ code, customer, series limits.Limit }
	cases := []struct {
		name     string
		kind     series.SourceKind
		anyone   bool
		code     limits.Limit // code level; 0 = none
		customer limits.Limit // customer level; 0 = none
		series   limits.Limit // series level; 0 = none
		// want are the effective code, customer and series levels.
		want levels
		// inapplicable edits the accepted case into rejected ones; fields[i]
		// is the field the rejection of inapplicable[i] names.
		inapplicable []func(*series.Series)
		fields       []string
	}{
		// "NY2024" can be redeemed 10 times in total, once per customer.
		{name: "generated, anyone, code 10, customer 1", kind: series.Generated, anyone: true, code: 10, customer: 1, want: levels{10, 1, 0}},
		// Total 10k, a code 5 times irrespective of customers.
		{name: "generated, anyone, code 5, series 10k", kind: series.Generated, anyone: true, code: 5, series: 10000, want: levels{5, 0, 10000}},
		// Total 10k, a code 5 times, once per customer.
		{name: "generated, anyone, code 5, customer 1, series 10k", kind: series.Generated, anyone: true, code: 5, customer: 1, series: 10000, want: levels{5, 1, 10000}},
		// A code can be redeemed 5 times.
		{name: "generated, anyone, code 5", kind: series.Generated, anyone: true, code: 5, want: levels{5, 0, 0}},
		// Total 10k, once per customer.
		{name: "generated, anyone, customer 1, series 10k", kind: series.Generated, anyone: true, customer: 1, series: 10000, want: levels{0, 1, 10000}},
		// Total 5k, only the holder redeems, once: no code level to set,
		// because without anyone-may-redeem the code level is the customer
		// level.
		{name: "generated, holder only, customer 1, series 5k", kind: series.Generated, customer: 1, series: 5000, want: levels{1, 1, 5000},
			inapplicable: []func(*series.Series){func(s *series.Series) { s.Redemption.MaxPerCode = 1 }},
			fields:       []string{"Redemption.MaxPerCode"}},
		// "HOLIDAY20", every customer twice, series 1000; a common code
		// has no code level.
		{name: "common, anyone, customer 2, series 1000", kind: series.Common, anyone: true, customer: 2, series: 1000, want: levels{0, 2, 1000},
			inapplicable: []func(*series.Series){func(s *series.Series) { s.Redemption.MaxPerCode = 1000 }},
			fields:       []string{"Redemption.MaxPerCode"}},
		// Up to 5k codes, total 50k, customer once, code 5.
		{name: "uploaded, anyone, code 5, customer 1, series 50k", kind: series.Uploaded, anyone: true, code: 5, customer: 1, series: 50000, want: levels{5, 1, 50000}},
		// Customer once, code 5.
		{name: "uploaded, anyone, code 5, customer 1", kind: series.Uploaded, anyone: true, code: 5, customer: 1, want: levels{5, 1, 0}},
		// Code 5 irrespective of customers, total 25k.
		{name: "uploaded, anyone, code 5, series 25k", kind: series.Uploaded, anyone: true, code: 5, series: 25000, want: levels{5, 0, 25000}},
		// Code 5 irrespective of customers.
		{name: "uploaded, anyone, code 5", kind: series.Uploaded, anyone: true, code: 5, want: levels{5, 0, 0}},
		// Customer 5, total 5000.
		{name: "uploaded, anyone, customer 5, series 5000", kind: series.Uploaded, anyone: true, customer: 5, series: 5000, want: levels{0, 5, 5000}},
		// Holder only, as for generated codes: no code level to set.
		{name: "uploaded, holder only, customer 1, series 5k", kind: series.Uploaded, customer: 1, series: 5000, want: levels{1, 1, 5000},
			inapplicable: []func(*series.Series){func(s *series.Series) { s.Redemption.MaxPerCode = 1 }},
			fields:       []string{"Redemption.MaxPerCode"}},
		// Third-party codes: the code level is the customer level, and
		// anyone-may-redeem cannot be on.
		{name: "third-party, holder only, customer 1, series 5k", kind: series.ThirdParty, customer: 1, series: 5000, want: levels{1, 1, 5000},
			inapplicable: []func(*series.Series){
				func(s *series.Series) { s.Redemption.MaxPerCode = 1 },
				func(s *series.Series) { s.Redemption.AnyoneMayRedeem = true },
			},
			fields: []string{"Redemption.MaxPerCode", "Redemption.AnyoneMayRedeem"}},
	}
	for _, tc := range cases {
		s := withSource(tc.kind)
		r := &s.Redemption
		r.AnyoneMayRedeem = tc.anyone
		r.MaxPerCode = tc.code
		customerLevel(r, tc.customer)
		r.MaxPerSeries = tc.series
		if err := s.Validate(); err != nil {
			t.Errorf("%s: Validate: %v", tc.name, err)
			continue
		}
		if got := (levels{r.CodeLimit(), r.CustomerLimit(), r.MaxPerSeries}); got != tc.want {
			t.Errorf("%s: levels %+v, want %+v", tc.name, got, tc.want)
		}
		for i, edit := range tc.inapplicable {
			bad := s
			edit(&bad)
			err := bad.Validate()
			if got := fields(t, err); !slices.Equal(got, tc.fields[i:i+1]) {
				t.Errorf("%s, inapplicable %s: fields %v (err %v)", tc.name, tc.fields[i], got, err)
			}
		}
	}
}

// Worked redemption use cases as configurations that validate, with the
// boundary behaviour of limits.EvaluateRedemption.
func TestRedemptionUseCaseConfigs(t *testing.T) {
	type step struct {
		counts limits.RedemptionCounts
		want   []limits.Reason // nil: allowed
	}
	cases := []struct {
		name  string
		build func() series.Series
		steps []step
	}{
		{
			// A code level of 1,000: only the first 1,000 uses of the code,
			// by anyone, pass. A code level needs anyone-may-redeem, and a common code has no
			// code level, so SUMMER50 is an uploaded code shared by anyone.
			name: "SUMMER50 code limit 1000",
			build: func() series.Series {
				s := withSource(series.Uploaded)
				s.Discount.Percent = dec("50")
				s.Redemption.AnyoneMayRedeem = true
				s.Redemption.MaxPerCode = 1000
				return s
			},
			steps: []step{
				{limits.RedemptionCounts{Code: 0}, nil},
				{limits.RedemptionCounts{Code: 999}, nil},
				{limits.RedemptionCounts{Code: 1000}, []limits.Reason{limits.CodeLimit}},
				{limits.RedemptionCounts{Code: 1001}, []limits.Reason{limits.CodeLimit}},
			},
		},
		{
			// A customer level of 1 on a common code: each customer uses
			// it once, while it stays available to others.
			name: "WELCOME10 customer limit 1",
			build: func() series.Series {
				s := withSource(series.Common)
				s.Source.Code = "WELCOME10"
				s.Redemption.AnyoneMayRedeem = true
				customerLevel(&s.Redemption, 1)
				return s
			},
			steps: []step{
				{limits.RedemptionCounts{Code: 5000, CustomerCode: 0}, nil},
				{limits.RedemptionCounts{Code: 5000, CustomerCode: 1}, []limits.Reason{limits.RepeatNotAllowed}},
			},
		},
		{
			// A common code with customer and series levels: every
			// customer may redeem it twice, the series 1,000 times in all.
			name: "HOLIDAY20 common customer 2 series 1000",
			build: func() series.Series {
				s := withSource(series.Common)
				s.Redemption.AnyoneMayRedeem = true
				customerLevel(&s.Redemption, 2)
				s.Redemption.MaxPerSeries = 1000
				return s
			},
			steps: []step{
				{limits.RedemptionCounts{CustomerCode: 1, Series: 999}, nil},
				{limits.RedemptionCounts{CustomerCode: 2, Series: 999}, []limits.Reason{limits.CustomerLimit}},
				{limits.RedemptionCounts{CustomerCode: 0, Series: 1000}, []limits.Reason{limits.SeriesLimit}},
				{limits.RedemptionCounts{CustomerCode: 2, Series: 1000}, []limits.Reason{limits.CustomerLimit, limits.SeriesLimit}},
			},
		},
		{
			// A code level of 10 with one use per customer: the code is
			// used 10 times in all, once by each customer.
			name: "NY2024 code 10 customer 1",
			build: func() series.Series {
				s := withSource(series.Generated)
				s.Redemption.AnyoneMayRedeem = true
				s.Redemption.MaxPerCode = 10
				customerLevel(&s.Redemption, 1)
				return s
			},
			steps: []step{
				{limits.RedemptionCounts{Code: 9}, nil},
				{limits.RedemptionCounts{Code: 10}, []limits.Reason{limits.CodeLimit}},
				{limits.RedemptionCounts{Code: 9, CustomerCode: 1}, []limits.Reason{limits.RepeatNotAllowed}},
				{limits.RedemptionCounts{Code: 10, CustomerCode: 1}, []limits.Reason{limits.CodeLimit, limits.RepeatNotAllowed}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.build()
			if err := s.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			for _, st := range tc.steps {
				q := limits.RedemptionRequest{At: spring.Add(24 * time.Hour), Bill: dec("100"), Issued: true}
				d := limits.EvaluateRedemption(&s.Redemption, &st.counts, &q)
				got := slices.Collect(d.Reasons())
				if diff := cmp.Diff(st.want, got); diff != "" {
					t.Errorf("counts %+v: reasons (-want +got):\n%s", st.counts, diff)
				}
			}
		})
	}
}

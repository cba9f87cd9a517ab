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
// is Repeat with that limit, and n = 0 ("Customer-Level Limit: No") is
// Repeat without a limit.
func customerLevel(r *limits.RedemptionRules, n limits.Limit) {
	switch {
	case n == 1:
		r.Repeat, r.MaxPerCustomer = false, limits.NoLimit
	default:
		r.Repeat, r.MaxPerCustomer = true, n
	}
}

// TestSeed002Table builds each row of seed 002's 14-row table of which
// limits apply to which series kind, exactly as its Example column
// describes, and checks that it is accepted with the effective levels the
// example names. Where the table marks a level as not applicable (rows 6,
// 13, 14: code level with anyone-may-redeem off; row 7: code level on a
// common code; row 14: anyone-may-redeem on third-party codes), setting it
// must be rejected naming that field.
func TestSeed002Table(t *testing.T) {
	type levels struct{ code, customer, series limits.Limit }
	cases := []struct {
		row      int
		kind     series.SourceKind
		anyone   bool
		code     limits.Limit // Code-Level Limit; 0 = "No"
		customer limits.Limit // Customer-Level Limit; 0 = "No"
		series   limits.Limit // Series-Level Limit; 0 = "No"
		// want are the effective code, customer and series levels.
		want levels
		// inapplicable edits the accepted row into rejected ones; fields[i]
		// is the field the rejection of inapplicable[i] names.
		inapplicable []func(*series.Series)
		fields       []string
	}{
		// 1: "NY2024" can be redeemed 10 times in total, once per customer.
		{row: 1, kind: series.Generated, anyone: true, code: 10, customer: 1, want: levels{10, 1, 0}},
		// 2: total 10k, a code 5 times irrespective of customers.
		{row: 2, kind: series.Generated, anyone: true, code: 5, series: 10000, want: levels{5, 0, 10000}},
		// 3: total 10k, a code 5 times, once per customer.
		{row: 3, kind: series.Generated, anyone: true, code: 5, customer: 1, series: 10000, want: levels{5, 1, 10000}},
		// 4: a code can be redeemed 5 times.
		{row: 4, kind: series.Generated, anyone: true, code: 5, want: levels{5, 0, 0}},
		// 5: total 10k, once per customer.
		{row: 5, kind: series.Generated, anyone: true, customer: 1, series: 10000, want: levels{0, 1, 10000}},
		// 6: total 5k, a code once or a customer once; no code level config
		// because code and customer levels are equal without anyone.
		{row: 6, kind: series.Generated, customer: 1, series: 5000, want: levels{1, 1, 5000},
			inapplicable: []func(*series.Series){func(s *series.Series) { s.Redemption.MaxPerCode = 1 }},
			fields:       []string{"Redemption.MaxPerCode"}},
		// 7: "HOLIDAY20", every customer twice, series 1000; a common code
		// has no code level.
		{row: 7, kind: series.Common, anyone: true, customer: 2, series: 1000, want: levels{0, 2, 1000},
			inapplicable: []func(*series.Series){func(s *series.Series) { s.Redemption.MaxPerCode = 1000 }},
			fields:       []string{"Redemption.MaxPerCode"}},
		// 8: up to 5k codes, total 50k, customer once, code 5.
		{row: 8, kind: series.Uploaded, anyone: true, code: 5, customer: 1, series: 50000, want: levels{5, 1, 50000}},
		// 9: customer once, code 5.
		{row: 9, kind: series.Uploaded, anyone: true, code: 5, customer: 1, want: levels{5, 1, 0}},
		// 10: code 5 irrespective of customers, total 25k.
		{row: 10, kind: series.Uploaded, anyone: true, code: 5, series: 25000, want: levels{5, 0, 25000}},
		// 11: code 5 irrespective of customers.
		{row: 11, kind: series.Uploaded, anyone: true, code: 5, want: levels{5, 0, 0}},
		// 12: customer 5, total 5000.
		{row: 12, kind: series.Uploaded, anyone: true, customer: 5, series: 5000, want: levels{0, 5, 5000}},
		// 13: as row 6, for uploaded codes.
		{row: 13, kind: series.Uploaded, customer: 1, series: 5000, want: levels{1, 1, 5000},
			inapplicable: []func(*series.Series){func(s *series.Series) { s.Redemption.MaxPerCode = 1 }},
			fields:       []string{"Redemption.MaxPerCode"}},
		// 14: third-party codes: code level equals customer level, and
		// anyone-may-redeem cannot be on. The example names no numbers.
		{row: 14, kind: series.ThirdParty, customer: 1, series: 5000, want: levels{1, 1, 5000},
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
			t.Errorf("row %d: Validate: %v", tc.row, err)
			continue
		}
		if got := (levels{r.CodeLimit(), r.CustomerLimit(), r.MaxPerSeries}); got != tc.want {
			t.Errorf("row %d: levels %+v, want %+v", tc.row, got, tc.want)
		}
		for i, edit := range tc.inapplicable {
			bad := s
			edit(&bad)
			err := bad.Validate()
			if got := fields(t, err); !slices.Equal(got, tc.fields[i:i+1]) {
				t.Errorf("row %d, inapplicable %s: fields %v (err %v)", tc.row, tc.fields[i], got, err)
			}
		}
	}
}

// The redemption use cases of seed 002 as configurations, with the boundary
// behaviour of limits.EvaluateRedemption.
func TestSeed002RedemptionUseCases(t *testing.T) {
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
			// "By setting a coupon code limit of 1,000 redemptions, the brand
			// ensures that only the first 1,000 customers can use the code."
			// A code level needs anyone-may-redeem, and a common code has no
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
			// "WELCOME10 ... set the Individual customer limit to 1. This
			// ensures that each customer can only use the coupon once, even
			// though the code may still be available for others."
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
			// "HOLIDAY20 can be redeemed by every customer twice, but the
			// overall series redemption restricts to 1000 only."
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
			// "NY2024 can be redeemed 10 times in total, but can be redeemed
			// only once per customer."
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

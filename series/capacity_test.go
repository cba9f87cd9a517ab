package series_test

import (
	"testing"

	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

func TestUseCapacity(t *testing.T) {
	unique := series.Source{Kind: series.Generated}
	common := series.Source{Kind: series.Common}
	for _, tc := range []struct {
		name string
		src  series.Source
		r    limits.RedemptionRules
		want int
	}{
		{"unique, holder only, once", unique, limits.RedemptionRules{}, 1},
		{"unique, holder only, repeat without limit", unique, limits.RedemptionRules{Repeat: true}, 0},
		{"unique, holder only, repeat 3 times", unique, limits.RedemptionRules{Repeat: true, MaxPerCustomer: 3}, 3},
		{"unique, anyone, code level 5", unique, limits.RedemptionRules{AnyoneMayRedeem: true, MaxPerCode: 5, Repeat: true, MaxPerCustomer: 2}, 5},
		{"unique, anyone, no code level", unique, limits.RedemptionRules{AnyoneMayRedeem: true, Repeat: true, MaxPerCustomer: 2}, 0},
		{"common: the customer level", common, limits.RedemptionRules{AnyoneMayRedeem: true, MaxPerCode: 5, Repeat: true, MaxPerCustomer: 2}, 2},
		{"common, once per customer", common, limits.RedemptionRules{MaxPerCode: 5}, 1},
		{"common, repeat without limit", common, limits.RedemptionRules{Repeat: true}, 0},
		{"uploaded: the code level", series.Source{Kind: series.Uploaded}, limits.RedemptionRules{AnyoneMayRedeem: true, MaxPerCode: 4}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := series.Series{Source: tc.src, Redemption: tc.r}
			if got := s.UseCapacity(); got != tc.want {
				t.Errorf("UseCapacity() = %d, want %d", got, tc.want)
			}
		})
	}
}

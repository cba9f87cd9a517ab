package limits

import (
	"math"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/couponkit/couponkit/errcode"
)

// fieldsOf returns the field of every error in err, sorted.
func fieldsOf(err error) []string {
	var out []string
	for _, e := range errcode.All(err) {
		if e.Code == errcode.InvalidConfig {
			out = append(out, e.Field)
		}
	}
	slices.Sort(out)
	return out
}

// A setting that would do nothing is refused naming its field, and so is a
// figure past its bound; at the bound it is accepted.
func TestValidateInapplicableAndBounds(t *testing.T) {
	redemption := []struct {
		name string
		r    RedemptionRules
		want []string
	}{
		{"customer level one without repeat", RedemptionRules{MaxPerCustomer: 1}, []string{"MaxPerCustomer"}},
		{"customer level two without repeat", RedemptionRules{AnyoneMayRedeem: true, MaxPerCustomer: 2}, []string{"MaxPerCustomer"}},
		{"customer level one with repeat", RedemptionRules{Repeat: true, MaxPerCustomer: 1}, nil},
		{"transactions limit without its switch", RedemptionRules{NewCustomers: NewCustomerRule{MaxTransactions: 3}}, []string{"NewCustomers.MaxTransactions"}},
		{"at the bounds", RedemptionRules{AnyoneMayRedeem: true, Repeat: true, MaxPerCode: MaxLimit, MaxPerCustomer: MaxLimit,
			MaxPerSeries: MaxLimit, MinGap: MaxDuration,
			NewCustomers: NewCustomerRule{LimitTransactions: true, MaxTransactions: int64(MaxLimit)}}, nil},
		{"past the bounds", RedemptionRules{AnyoneMayRedeem: true, Repeat: true, MaxPerCode: MaxLimit + 1, MaxPerCustomer: math.MaxInt64,
			MaxPerSeries: MaxLimit + 1, MinGap: MaxDuration + 1,
			NewCustomers: NewCustomerRule{LimitTransactions: true, MaxTransactions: int64(MaxLimit) + 1}},
			[]string{"MaxPerCode", "MaxPerCustomer", "MaxPerSeries", "MinGap", "NewCustomers.MaxTransactions"}},
	}
	for _, tc := range redemption {
		if diff := cmp.Diff(tc.want, fieldsOf(tc.r.Validate(""))); diff != "" {
			t.Errorf("%s: fields (-want +got):\n%s", tc.name, diff)
		}
	}
	issuance := []struct {
		name string
		r    IssuanceRules
		want []string
	}{
		{"per-customer maximum with once per customer", IssuanceRules{OncePerCustomer: true, MaxPerCustomer: 2}, []string{"MaxPerCustomer"}},
		{"at the bounds", IssuanceRules{MaxPerCustomer: MaxLimit, MaxTotal: MaxLimit, MinGap: MaxDuration}, nil},
		{"past the bounds", IssuanceRules{MaxPerCustomer: MaxLimit + 1, MaxTotal: math.MaxInt64, MinGap: math.MaxInt64},
			[]string{"MaxPerCustomer", "MaxTotal", "MinGap"}},
	}
	for _, tc := range issuance {
		if diff := cmp.Diff(tc.want, fieldsOf(tc.r.Validate(""))); diff != "" {
			t.Errorf("%s: fields (-want +got):\n%s", tc.name, diff)
		}
	}
}

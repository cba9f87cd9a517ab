package limits_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/internal/jsontest"
	"github.com/couponkit/couponkit/limits"
)

// The rules, requests, counts and guards of this package are written to
// JSON with snake_case keys and read back unchanged, every field set.
func TestJSON(t *testing.T) {
	at := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
	for _, typ := range []reflect.Type{
		reflect.TypeFor[limits.RedemptionRules](), reflect.TypeFor[limits.IssuanceRules](),
		reflect.TypeFor[limits.RedemptionRequest](), reflect.TypeFor[limits.RedemptionCounts](),
		reflect.TypeFor[limits.IssuanceRequest](), reflect.TypeFor[limits.IssuanceCounts](),
		reflect.TypeFor[limits.Guard](), reflect.TypeFor[limits.PlaceRef](),
	} {
		jsontest.CheckSnakeCase(t, typ)
	}
	places := cmp.Comparer(func(a, b limits.PlaceSet) bool { return cmp.Equal(a.Refs(), b.Refs()) })
	jsontest.RoundTrip(t, limits.RedemptionRules{
		AnyoneMayRedeem: true, MaxPerCode: 5, MaxPerCustomer: 2, MaxPerSeries: 1000, Repeat: true, Start: at,
		Weekdays: limits.WeekdaysOf(time.Monday), MonthDays: limits.MonthDaysOf(1, 31),
		Hours: []limits.HourRange{{From: 9, To: 12}}, MinGap: time.Hour,
		Places:  limits.NewPlaceSet(limits.PlaceRef{Kind: limits.Zone, ID: "north"}),
		MinBill: decimal.NewNullDecimal(decimal.RequireFromString("10.5")), MaxBill: decimal.NewNullDecimal(decimal.NewFromInt(500)),
		NewCustomers: limits.NewCustomerRule{RegisteredFrom: at, RegisteredTo: at.Add(time.Hour), LimitTransactions: true, MaxTransactions: 2},
	}, places)
	jsontest.RoundTrip(t, limits.IssuanceRules{MaxPerCustomer: 3, MinGap: time.Hour, MaxTotal: 100, OncePerCustomer: true, AudienceOnly: true})
	jsontest.RoundTrip(t, limits.RedemptionRequest{
		At: at, Place: limits.Place{Till: "t1", Store: "s1", Zone: "north", Concept: "outlet"},
		Bill: decimal.RequireFromString("99.99"), Customer: limits.CustomerFacts{Registered: at, Transactions: 3},
		Holder: true, Issued: true,
	})
	jsontest.RoundTrip(t, limits.RedemptionCounts{Code: 1, CustomerCode: 2, Series: 3, CustomerLast: at})
	jsontest.RoundTrip(t, limits.IssuanceRequest{At: at, InAudience: true, Excluded: true})
	jsontest.RoundTrip(t, limits.IssuanceCounts{Series: 1, Customer: 2, CustomerLast: at})
	jsontest.RoundTrip(t, limits.Guard{Counter: limits.CustomerIssued, Limit: 3, MinGap: time.Hour})
}

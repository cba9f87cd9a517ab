package limits_test

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/limits"
)

// A code that anyone may redeem ten times in all, once per customer, at one
// zone's stores, on bills of at least 20.00.
func ExampleEvaluateRedemption() {
	rules := limits.RedemptionRules{
		AnyoneMayRedeem: true,
		MaxPerCode:      10, // and, without Repeat, once per customer
		Places:          limits.NewPlaceSet(limits.PlaceRef{Kind: limits.Zone, ID: "north"}),
		MinBill:         decimal.NewNullDecimal(decimal.RequireFromString("20.00")),
	}
	at := time.Date(2026, time.January, 1, 12, 0, 0, 0, time.UTC)

	counts := limits.RedemptionCounts{Code: 9}
	req := limits.RedemptionRequest{
		At:     at,
		Place:  limits.Place{Store: "s-12", Zone: "north"},
		Bill:   decimal.RequireFromString("35.50"),
		Issued: true,
	}
	d := limits.EvaluateRedemption(&rules, &counts, &req)
	fmt.Println("tenth redemption:", d.String())
	for _, g := range d.Guards() {
		fmt.Printf("  guard %s: %s\n", g.Counter, g.Limit)
	}

	counts.Code = 10
	req.Bill = decimal.RequireFromString("19.99")
	d = limits.EvaluateRedemption(&rules, &counts, &req)
	fmt.Println("eleventh redemption:", d.String())
	// Output:
	// tenth redemption: allowed
	//   guard code uses: 10
	//   guard customer code uses: 1
	//   guard series uses: no limit
	//   guard customer series uses: no limit
	// eleventh redemption: 1201 code redemption limit reached; 1211 bill below the minimum
}

// At most three coupons per customer: the fourth is refused.
func ExampleEvaluateIssuance() {
	rules := limits.IssuanceRules{MaxPerCustomer: 3}
	at := time.Date(2026, time.January, 1, 12, 0, 0, 0, time.UTC)
	for issued := int64(0); issued < 4; issued++ {
		d := limits.EvaluateIssuance(&rules, &limits.IssuanceCounts{Customer: issued}, &limits.IssuanceRequest{At: at})
		fmt.Printf("issue %d: %s\n", issued+1, d.String())
	}
	// Output:
	// issue 1: allowed
	// issue 2: allowed
	// issue 3: allowed
	// issue 4: 1221 customer issue limit reached
}

// Package offer is the fleet example's demo offer, which the central
// creates and the tills sell: a series of uploaded coupons, coupon k with
// the code Code(k) issued to the customer Customer(k), each usable once,
// with a use limit for the whole series.
package offer

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// SeriesID is the demo series' id.
const SeriesID = "fleet-demo"

// Code is the code of coupon k.
func Code(k int) string { return fmt.Sprintf("FLEET-%04d", k) }

// Customer is the customer coupon k is issued to.
func Customer(k int) string { return fmt.Sprintf("c%04d", k) }

// Series is the demo series with id: 5 EUR off a bill of at least 10 EUR,
// each coupon used once, at most uses uses in all.
func Series(id string, uses int64) series.Series {
	return series.Series{
		ID: id, Name: "fleet demo: 5 EUR off", TimeZone: "UTC",
		Source: series.Source{Kind: series.Uploaded},
		Redemption: limits.RedemptionRules{
			MaxPerSeries: limits.Limit(uses),
			MinBill:      decimal.NewNullDecimal(decimal.NewFromInt(10)),
		},
		Expiry:   series.Expiry{Kind: series.Never},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(5), Currency: "EUR"},
	}
}

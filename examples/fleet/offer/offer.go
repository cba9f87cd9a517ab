// Package offer is the fleet example's demo offer, which the central
// creates and the tills sell: one common code that any customer may use
// once, with a use limit for the whole series.
package offer

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// SeriesID is the demo series' id.
const SeriesID = "fleet-demo"

// Code is the offer's code.
const Code = "SPRING5"

// Customer is the id of customer k.
func Customer(k int) string { return fmt.Sprintf("c%05d", k) }

// Issuer is the customer the central issues the code to first (a common
// code that anyone may use must have been issued once).
const Issuer = "c00000"

// Series is the demo series with id: 5 EUR off a bill of at least 10 EUR
// with the code Code, once per customer, at most uses uses in all.
func Series(id string, uses int64) series.Series {
	return series.Series{
		ID: id, Name: "fleet demo: 5 EUR off", TimeZone: "UTC",
		Source: series.Source{Kind: series.Common, Code: Code},
		Redemption: limits.RedemptionRules{
			AnyoneMayRedeem: true,
			MaxPerSeries:    limits.Limit(uses),
			MinBill:         decimal.NewNullDecimal(decimal.NewFromInt(10)),
		},
		Expiry:   series.Expiry{Kind: series.Never},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(5), Currency: "EUR"},
	}
}

package couponkit_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/internal/jsontest"
	"github.com/couponkit/couponkit/series"
)

// The engine's query results and customer types are written to JSON with
// snake_case keys and read back unchanged, every field set.
func TestJSON(t *testing.T) {
	at := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
	for _, typ := range []reflect.Type{
		reflect.TypeFor[couponkit.CustomerRef](), reflect.TypeFor[couponkit.Customer](),
		reflect.TypeFor[couponkit.CustomerRecord](), reflect.TypeFor[couponkit.CouponView](),
		reflect.TypeFor[couponkit.CouponDetails](), reflect.TypeFor[couponkit.SeriesCounters](),
		reflect.TypeFor[couponkit.ReminderDue](),
	} {
		jsontest.CheckSnakeCase(t, typ)
	}
	c := coupon.Coupon{ID: "c1", SeriesID: "s1", Code: "AB12", Canonical: "AB12", State: coupon.Issued, Holder: "alice",
		CreatedAt: at, IssuedAt: at, ExpiresAt: at.Add(72 * time.Hour), Redemptions: 1, LastStatusChange: at, Version: 2}
	jsontest.RoundTrip(t, couponkit.CustomerRef{ExternalID: "ext-1"})
	jsontest.RoundTrip(t, couponkit.CustomerRef{ID: "alice", Mobile: "+4470000001", Email: "a@example.com", ExternalID: "ext-1"})
	jsontest.RoundTrip(t, couponkit.CustomerRecord{Customer: couponkit.Customer{ID: "alice", Registered: at, Transactions: 4},
		Mobile: "+4470000001", Email: "a@example.com", ExternalID: "ext-1"})
	jsontest.RoundTrip(t, couponkit.CouponDetails{
		CouponView: couponkit.CouponView{Coupon: c, Now: coupon.Expired},
		Uses: []coupon.Redemption{{ID: "r1", CouponID: "c1", SeriesID: "s1", Customer: "alice", IdempotencyKey: "k",
			Status: coupon.StatusRedeemed, At: at, ConfirmedAt: at, Bill: decimal.NewFromInt(100), Discount: decimal.NewFromInt(10), Currency: "EUR"}},
	})
	jsontest.RoundTrip(t, couponkit.SeriesCounters{Issued: 10, Uses: 4, RemainingIssuable: 90, RemainingUses: -1})
	jsontest.RoundTrip(t, couponkit.ReminderDue{SeriesID: "s1", Coupon: c,
		Reminder: series.Reminder{DaysBefore: 2, At: series.At(10, 0), Channel: "sms"}, DueAt: at.Add(time.Hour), ExpiresAt: c.ExpiresAt})
}

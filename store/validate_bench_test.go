package store_test

import (
	"testing"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// BenchmarkChangeValidate checks a change shaped like a redemption's (one
// coupon update, one redemption, four counters): every store runs it on
// every Apply, so it must cost little next to the Apply itself.
func BenchmarkChangeValidate(b *testing.B) {
	key := func(c limits.Counter, code, holder, customer string) store.CounterKey {
		return store.CounterKey{Counter: c, Series: "series-000001", Code: code, Holder: holder, Customer: customer}
	}
	c := &store.Change{
		Coupons:        []store.CouponUpdate{{Coupon: coupon.Coupon{ID: "c1"}}},
		NewRedemptions: []coupon.Redemption{{ID: "r1"}},
		Bumps: []store.Bump{
			{Key: key(limits.SeriesUses, "", "", "")},
			{Key: key(limits.CodeUses, "ABCDEFGH", "cust-1", "")},
			{Key: key(limits.CustomerSeriesUses, "", "", "cust-1")},
			{Key: key(limits.CustomerCodeUses, "ABCDEFGH", "cust-1", "cust-1")},
		},
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

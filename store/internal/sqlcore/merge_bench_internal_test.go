package sqlcore

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// BenchmarkMergeGroup plans a group of 16 redemptions of distinct
// coupons of one series as one change (MergeGroup), each redemption what
// the engine writes: the coupon's update, the redemption, its event, and
// the bumps of its four use counters, the series' folded.
func BenchmarkMergeGroup(b *testing.B) {
	s := New(nil, &Dialect{Name: "bench", Param: func(int) string { return "?" }, BindShared: true})
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	group := make([]*Waiter, 16)
	for i := range group {
		k := strconv.Itoa(i)
		c := coupon.Coupon{ID: "c" + k, SeriesID: "s1", Code: "CODE" + k, Canonical: "CODE" + k, State: coupon.Redeemed,
			Holder: "cust" + k, CreatedAt: at, IssuedAt: at, ExpiresAt: at.Add(time.Hour), LastStatusChange: at, Redemptions: 1, Version: 3}
		keys := []store.CounterKey{{Counter: limits.CodeUses, Series: "s1", Code: c.Canonical},
			{Counter: limits.CustomerCodeUses, Series: "s1", Code: c.Canonical, Customer: c.Holder},
			{Counter: limits.SeriesUses, Series: "s1"}, {Counter: limits.CustomerSeriesUses, Series: "s1", Customer: c.Holder}}
		var bumps []store.Bump
		for j, key := range keys {
			g := limits.Guard{Counter: key.Counter}
			if j == 2 {
				g.Limit = 1_000_000
			}
			bumps = append(bumps, store.Bump{Key: key, Delta: 1, Guard: g, At: at})
		}
		ch := &store.Change{Coupons: []store.CouponUpdate{{Coupon: c, ExpectVersion: 2}},
			NewRedemptions: []coupon.Redemption{{ID: "r" + k, CouponID: c.ID, SeriesID: "s1", Customer: c.Holder, IdempotencyKey: "k",
				Status: coupon.StatusRedeemed, At: at, ConfirmedAt: at, Bill: decimal.NewFromInt(40), Discount: decimal.NewFromInt(4), Currency: "EUR"}},
			Events: []coupon.Event{{ID: "e" + k, Kind: coupon.EventRedeemed, CouponID: c.ID, SeriesID: "s1", Code: c.Code,
				Customer: c.Holder, At: at, RedemptionID: "r" + k}},
			Bumps: bumps}
		group[i] = &Waiter{Ctx: context.Background(), P: &Planned{c: ch, after: make([]store.Count, len(bumps))}}
	}
	b.ReportAllocs()
	for b.Loop() {
		if MergeGroup(s, group) == nil {
			b.Fatal("not merged")
		}
	}
}

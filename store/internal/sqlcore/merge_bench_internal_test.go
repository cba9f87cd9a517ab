package sqlcore

import (
	"context"
	"strconv"
	"strings"
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
	group := redemptionGroup(16)
	b.ReportAllocs()
	for b.Loop() {
		if MergeGroup(s, group) == nil {
			b.Fatal("not merged")
		}
	}
}

// TestPaddedGroupStatements: with Dialect.PadRows, a merged group of 11
// redemptions inserts its redemptions with one statement of 16 rows, its
// events with one, and bumps its 33 counters of one class (the codes',
// the customers' of the code and of the series, none with a limit) with
// one of 64 rows, the rows past the group's padding; without padding,
// 8, 2 and 1 rows, and 32 and 1.
func TestPaddedGroupStatements(t *testing.T) {
	s := New(nil, &Dialect{Name: "test", Param: func(int) string { return "?" }, BindShared: true, PadRows: true})
	m := MergeGroup(s, redemptionGroup(11))
	if m == nil {
		t.Fatal("not merged")
	}
	inserts := map[string]int{}
	for _, o := range m.P.Ops {
		if o.Kind != OpExec && o.Kind != OpBumps {
			continue
		}
		table := strings.Fields(o.SQL)[2]
		inserts[table]++
		rows := map[bool]int{false: 16, true: 64}[table == "ck_counters"]
		if !strings.Contains(o.SQL, "IS NOT NULL") || strings.Count(o.SQL, "), (")+1 != rows {
			t.Errorf("%s: not padded to %d rows: %.200s", table, rows, o.SQL)
		}
	}
	// The series' uses, one folded bump, is a statement of its own (OpBump).
	want := map[string]int{"ck_redemptions": 1, "ck_events": 1, "ck_counters": 1}
	for table, n := range want {
		if inserts[table] != n {
			t.Errorf("%d statements insert into %s, want %d", inserts[table], table, n)
		}
	}
}

// redemptionGroup is a group of n redemptions of distinct coupons of one
// series, each change what the engine writes: the coupon's update, the
// redemption, its event, and the bumps of its four use counters, the
// series' under a limit.
func redemptionGroup(n int) []*Waiter {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	group := make([]*Waiter, n)
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
	return group
}

package memstore

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

var (
	ctx = context.Background()
	t0  = time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
)

func testSeries(id string) series.Series {
	return series.Series{
		ID: id, Name: "series " + id, Status: series.Active, TimeZone: "UTC",
		Source:   series.Source{Kind: series.Uploaded},
		Issuance: series.Issuance{IssuanceRules: limits.IssuanceRules{MaxPerCustomer: 3}, ExcludeSeries: []string{"x1", "x2"}, ExcludeWithinMonths: 2},
		Redemption: limits.RedemptionRules{
			Hours:  []limits.HourRange{{From: 8, To: 20}},
			Places: limits.NewPlaceSet(limits.PlaceRef{Kind: limits.Store, ID: "st-1"}),
		},
		Reminders: []series.Reminder{{DaysBefore: 1, At: series.At(10, 0), Channel: "sms"}},
	}
}

// issued returns an issued coupon of series s with code code, held by holder.
func issued(id, s, code, holder string) coupon.Coupon {
	return coupon.Coupon{
		ID: id, SeriesID: s, Code: code, Canonical: code, State: coupon.Issued, Holder: holder,
		CreatedAt: t0, IssuedAt: t0, LastStatusChange: t0, Version: 2,
	}
}

func available(id, s, code string) coupon.Coupon {
	return coupon.Coupon{
		ID: id, SeriesID: s, Code: code, Canonical: code, State: coupon.Available,
		CreatedAt: t0, LastStatusChange: t0, Version: 1,
	}
}

func mustApply(t testing.TB, s *Store, c *store.Change) {
	t.Helper()
	if err := s.Apply(ctx, c); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

// fill returns a store holding series s1 and the given coupons.
func fill(t testing.TB, coupons ...coupon.Coupon) *Store {
	t.Helper()
	s := New()
	mustApply(t, s, &store.Change{Series: &store.SeriesWrite{Series: testSeries("s1")}, NewCoupons: coupons})
	return s
}

// redemption returns the redemption-shaped change of coupon c (at version
// c.Version) by its holder with idempotency key key, guarded by the limits.
func redemption(c coupon.Coupon, rid, key string, at time.Time, perCode limits.Limit) *store.Change {
	nc := c
	nc.Redemptions++
	nc.State = coupon.Redeemed
	nc.LastStatusChange = at
	nc.Version++
	r := coupon.Redemption{
		ID: rid, CouponID: c.ID, SeriesID: c.SeriesID, Customer: c.Holder, IdempotencyKey: key,
		Status: coupon.StatusRedeemed, At: at, ConfirmedAt: at,
	}
	return &store.Change{
		Coupons:        []store.CouponUpdate{{Coupon: nc, ExpectVersion: c.Version}},
		NewRedemptions: []coupon.Redemption{r},
		Bumps:          redemptionBumps(c, at, perCode),
		Events: []coupon.Event{{
			ID: "ev-" + rid, Kind: coupon.EventRedeemed, CouponID: c.ID, SeriesID: c.SeriesID,
			Code: c.Code, Customer: c.Holder, At: at, RedemptionID: rid,
		}},
	}
}

func redemptionBumps(c coupon.Coupon, at time.Time, perCode limits.Limit) []store.Bump {
	return []store.Bump{
		{Key: store.CounterKey{Counter: limits.CodeUses, Series: c.SeriesID, Code: c.Canonical}, Delta: 1, At: at,
			Guard: limits.Guard{Counter: limits.CodeUses, Limit: perCode}},
		{Key: store.CounterKey{Counter: limits.CustomerCodeUses, Series: c.SeriesID, Code: c.Canonical, Customer: c.Holder}, Delta: 1, At: at,
			Guard: limits.Guard{Counter: limits.CustomerCodeUses, Limit: perCode}},
		{Key: store.CounterKey{Counter: limits.SeriesUses, Series: c.SeriesID}, Delta: 1, At: at,
			Guard: limits.Guard{Counter: limits.SeriesUses}},
		{Key: store.CounterKey{Counter: limits.CustomerSeriesUses, Series: c.SeriesID, Customer: c.Holder}, Delta: 1, At: at,
			Guard: limits.Guard{Counter: limits.CustomerSeriesUses}},
	}
}

func keysOf(bs []store.Bump) []store.CounterKey {
	keys := make([]store.CounterKey, len(bs))
	for i := range bs {
		keys[i] = bs[i].Key
	}
	return keys
}

func counts(t testing.TB, s *Store, keys ...store.CounterKey) []store.Count {
	t.Helper()
	out := make([]store.Count, len(keys))
	if err := s.Counters(ctx, keys, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// wantErr fails unless err matches sentinel and, when target is not nil,
// errors.As finds target's type in it.
func wantErr[T error](t testing.TB, err error, sentinel error) T {
	t.Helper()
	var zero T
	if err == nil {
		t.Fatalf("got no error, want %v", sentinel)
		return zero
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v does not match %v", err, sentinel)
	}
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error %v (%T) is not a %T", err, err, zero)
	}
	return target
}

// opts compares the types with unexported fields by their meaning.
var opts = cmp.Options{
	cmp.Comparer(func(a, b limits.PlaceSet) bool { return slices.Equal(a.Refs(), b.Refs()) }),
	cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) }),
}

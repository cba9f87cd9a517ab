package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// Validate names the first record a change writes twice, by kind, and
// nothing in a change that writes each record once.
func TestChangeValidate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cp := func(id string) coupon.Coupon { return coupon.Coupon{ID: id, SeriesID: "s", Canonical: id} }
	red := func(id string) coupon.Redemption { return coupon.Redemption{ID: id, CouponID: "c1"} }
	k := func(c limits.Counter, code, holder, customer string) store.CounterKey {
		return store.CounterKey{Counter: c, Series: "s", Code: code, Holder: holder, Customer: customer}
	}
	bump := func(key store.CounterKey, d int64) store.Bump { return store.Bump{Key: key, Delta: d, At: t0} }
	member := func(series, customer string, remove bool) store.AudienceUpdate {
		return store.AudienceUpdate{SeriesID: series, Customer: customer, Remove: remove}
	}
	once := store.Change{
		NewCoupons:     []coupon.Coupon{cp("c1"), cp("c2")},
		Coupons:        []store.CouponUpdate{{Coupon: cp("c3")}},
		NewRedemptions: []coupon.Redemption{red("r1")},
		Redemptions:    []store.RedemptionUpdate{{Redemption: red("r2")}},
		Bumps: []store.Bump{bump(k(limits.CodeUses, "A", "", ""), 1), bump(k(limits.CodeUses, "A", "x", ""), 1),
			bump(k(limits.CodeUses, "Ax", "", ""), 1), bump(k(limits.CustomerCodeUses, "A", "x", "x"), 1)},
		Audience: []store.AudienceUpdate{member("s", "a", false), member("s", "b", true), member("t", "a", true)},
		Events:   []coupon.Event{{ID: "e"}, {ID: "e"}},
	}
	if err := once.Validate(); err != nil {
		t.Errorf("a change that writes each record once: %v", err)
	}
	for _, tc := range []struct {
		name, kind, key string
		ch              store.Change
	}{
		{"two inserts", "coupon", "c1", store.Change{NewCoupons: []coupon.Coupon{cp("c1"), cp("c1")}}},
		{"an insert and an update", "coupon", "c2", store.Change{NewCoupons: []coupon.Coupon{cp("c2")}, Coupons: []store.CouponUpdate{{Coupon: cp("c2")}}}},
		{"two updates", "coupon", "c3", store.Change{Coupons: []store.CouponUpdate{{Coupon: cp("c3")}, {Coupon: cp("c3")}}}},
		{"two redemption inserts", "redemption", "r1", store.Change{NewRedemptions: []coupon.Redemption{red("r1"), red("r1")}}},
		{"a redemption insert and update", "redemption", "r1", store.Change{NewRedemptions: []coupon.Redemption{red("r1")},
			Redemptions: []store.RedemptionUpdate{{Redemption: red("r1")}}}},
		{"two bumps", "counter", k(limits.CodeUses, "A", "x", "").String(), store.Change{Bumps: []store.Bump{
			bump(k(limits.CodeUses, "A", "x", ""), 1), bump(k(limits.SeriesUses, "", "", ""), 1), bump(k(limits.CodeUses, "A", "x", ""), -1)}}},
		{"two audience updates", "audience", "s/a", store.Change{Audience: []store.AudienceUpdate{member("s", "a", true), member("s", "a", false)}}},
	} {
		err := tc.ch.Validate()
		var te *store.TwiceError
		if !errors.As(err, &te) || te.Kind != tc.kind || te.Key != tc.key || errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%s: %v, want a TwiceError of %s %q (InvalidArgument)", tc.name, err, tc.kind, tc.key)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = once.Validate() }); n != 0 {
		t.Errorf("Validate of a small change allocates %v times", n)
	}
}

// Validate finds a repeated record in changes of any size, as a plain
// set of the records seen would: the first one written again.
func TestChangeValidateFindsTheFirstRepeat(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ids := rapid.SliceOfN(rapid.IntRange(0, 80), 0, 120).Draw(t, "ids")
		split := rapid.IntRange(0, len(ids)).Draw(t, "inserts")
		var c store.Change
		for i, id := range ids {
			s := fmt.Sprintf("c%d", id)
			if i < split {
				c.NewCoupons = append(c.NewCoupons, coupon.Coupon{ID: s})
			} else {
				c.Coupons = append(c.Coupons, store.CouponUpdate{Coupon: coupon.Coupon{ID: s}})
			}
		}
		want := ""
		seen := map[int]bool{}
		for _, id := range ids {
			if seen[id] {
				want = fmt.Sprintf("c%d", id)
				break
			}
			seen[id] = true
		}
		err := c.Validate()
		var te *store.TwiceError
		switch {
		case want == "" && err != nil:
			t.Fatalf("no id repeats in %v: %v", ids, err)
		case want != "" && (!errors.As(err, &te) || te.Kind != "coupon" || te.Key != want):
			t.Fatalf("ids %v: %v, want coupon %q written twice", ids, err, want)
		}
	})
}

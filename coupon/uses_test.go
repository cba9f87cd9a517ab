package coupon_test

import (
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
)

func TestUsesLeft(t *testing.T) {
	for _, tc := range []struct {
		name               string
		redemptions, holds int
		capacity           int
		wantLeft           int
		wantUsedUp         bool
	}{
		{"no limit, unused", 0, 0, 0, coupon.Unlimited, false},
		{"no limit, used and held", 5, 3, 0, coupon.Unlimited, false},
		{"single use, unused", 0, 0, 1, 1, false},
		{"single use, held", 0, 1, 1, 0, false},
		{"single use, redeemed", 1, 0, 1, 0, true},
		{"three uses, one redeemed one held", 1, 1, 3, 1, false},
		{"three uses, two redeemed one held", 2, 1, 3, 0, false},
		{"three uses, all redeemed", 3, 0, 3, 0, true},
		{"capacity lowered below the uses", 4, 2, 3, 0, true},
		{"capacity lowered below uses and holds", 1, 4, 3, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := coupon.Coupon{Redemptions: tc.redemptions, Holds: tc.holds}
			if got := c.UsesLeft(tc.capacity); got != tc.wantLeft {
				t.Errorf("UsesLeft(%d) = %d, want %d", tc.capacity, got, tc.wantLeft)
			}
			if got := c.UsedUp(tc.capacity); got != tc.wantUsedUp {
				t.Errorf("UsedUp(%d) = %v, want %v", tc.capacity, got, tc.wantUsedUp)
			}
		})
	}
}

func TestLastUse(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return now.Add(time.Duration(h) * time.Hour) }
	redeemed := func(id string, h int) coupon.Redemption {
		return coupon.Redemption{ID: id, Status: coupon.StatusRedeemed, At: at(h)}
	}
	hold := func(id string, h, lapseH int) coupon.Redemption {
		return coupon.Redemption{ID: id, Status: coupon.StatusHeld, At: at(h), HoldExpiresAt: at(lapseH)}
	}
	for _, tc := range []struct {
		name   string
		rs     []coupon.Redemption
		except string
		want   time.Time
	}{
		{"no uses", nil, "r1", time.Time{}},
		{"only the use given back", []coupon.Redemption{redeemed("r1", -1)}, "r1", time.Time{}},
		{"the one before it", []coupon.Redemption{redeemed("r0", -5), redeemed("r1", -1)}, "r1", at(-5)},
		{"the latest of the others", []coupon.Redemption{redeemed("r0", -5), redeemed("r2", -3), redeemed("r1", -1)}, "r1", at(-3)},
		{"a later use stays the last", []coupon.Redemption{redeemed("r1", -5), redeemed("r2", -3)}, "r1", at(-3)},
		{"a reversed use does not count", []coupon.Redemption{
			redeemed("r0", -5), {ID: "r2", Status: coupon.StatusReversed, At: at(-3)}, redeemed("r1", -1)}, "r1", at(-5)},
		{"a released hold does not count", []coupon.Redemption{
			redeemed("r0", -5), {ID: "h", Status: coupon.StatusReleased, At: at(-3), HoldExpiresAt: at(1)}}, "r1", at(-5)},
		{"a live hold counts", []coupon.Redemption{redeemed("r0", -5), hold("h", -3, 1)}, "r1", at(-3)},
		{"a lapsed hold does not count", []coupon.Redemption{redeemed("r0", -5), hold("h", -3, 0)}, "r1", at(-5)},
		{"giving back a hold", []coupon.Redemption{redeemed("r0", -5), hold("h", -3, 1)}, "h", at(-5)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := coupon.LastUse(tc.rs, tc.except, now); !got.Equal(tc.want) {
				t.Errorf("LastUse = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCanUse(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	issued := coupon.Coupon{ID: "c", State: coupon.Issued, Holder: "alice", Version: 2}
	with := func(f func(*coupon.Coupon)) coupon.Coupon { c := issued; f(&c); return c }
	for _, tc := range []struct {
		name     string
		c        coupon.Coupon
		capacity int
		want     errcode.Code
	}{
		{"issued, unused", issued, 1, 0},
		{"issued, no limit, used", with(func(c *coupon.Coupon) { c.Redemptions = 9 }), 0, 0},
		{"a use left beside a hold", with(func(c *coupon.Coupon) { c.Redemptions, c.Holds = 1, 1 }), 3, 0},
		{"every use redeemed", with(func(c *coupon.Coupon) { c.Redemptions = 2 }), 2, errcode.Redeemed},
		{"the last use held", with(func(c *coupon.Coupon) { c.Redemptions, c.Holds = 1, 1 }), 2, errcode.LimitReached},
		{"available", coupon.Coupon{ID: "c", State: coupon.Available, Version: 1}, 1, errcode.NotIssued},
		{"expired", with(func(c *coupon.Coupon) { c.ExpiresAt = now }), 1, errcode.Expired},
		{"revoked", with(func(c *coupon.Coupon) { c.State = coupon.Revoked }), 1, errcode.Revoked},
		{"redeemed", with(func(c *coupon.Coupon) { c.State, c.Redemptions = coupon.Redeemed, 1 }), 1, errcode.Redeemed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errcode.CodeOf(coupon.CanUse(tc.c, now, tc.capacity)); got != tc.want {
				t.Errorf("CanUse = %v, want %v", got, tc.want)
			}
		})
	}
}

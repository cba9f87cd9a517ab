package coupon_test

import (
	"fmt"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/shopspring/decimal"
)

// A single-use coupon is issued, redeemed, reversed and finally revoked.
func Example() {
	at := time.Date(2025, 11, 12, 9, 0, 0, 0, time.UTC)
	c, _, _ := coupon.New(coupon.NewParams{ID: "c1", SeriesID: "spring", Code: "spr-7k2q", Canonical: "SPR7K2Q"}, at)

	c, ev, _ := coupon.Issue(c, "alice", at, at.AddDate(0, 0, 30), "welcome-flow")
	fmt.Println(ev.Kind, ev.Customer, c.State, c.Version)

	c, r, ev, _ := coupon.Redeem(c, at.Add(time.Hour), coupon.RedeemParams{
		ID: "r1", Customer: "alice", IdempotencyKey: "pos-4711", Actor: "till-3",
		Bill: decimal.RequireFromString("40.00"), Discount: decimal.RequireFromString("5.00"),
		Currency: "EUR", Capacity: 1,
	})
	fmt.Println(ev.Kind, c.State, c.Redemptions, r.Status)

	_, _, err := coupon.Revoke(c, at.Add(2*time.Hour), "ops", "fraud")
	fmt.Printf("%d %v\n", errcode.CodeOf(err), err)

	c, r, ev, _ = coupon.Reverse(c, r, at.Add(3*time.Hour), "till-3", "goods returned")
	fmt.Println(ev.Kind, c.State, c.Redemptions, c.Reversed, r.Status)

	c, ev, _ = coupon.Revoke(c, at.Add(4*time.Hour), "ops", "fraud")
	fmt.Println(ev.Kind, ev.Customer, c.State, c.Version)

	_, _, _, err = coupon.Redeem(c, at.Add(5*time.Hour), coupon.RedeemParams{ID: "r2", Capacity: 1})
	fmt.Printf("%d\n", errcode.CodeOf(err))
	_, _, err = coupon.Revoke(c, at.Add(5*time.Hour), "ops", "again")
	fmt.Printf("%d\n", errcode.CodeOf(err))
	// Output:
	// issued alice issued 2
	// redeemed redeemed 1 redeemed
	// 405 couponkit: already redeemed (405): coupon "c1": has an unreversed redemption
	// reversed issued 0 true reversed
	// revoked alice revoked 5
	// 1102
	// 682
}

// An expired coupon is replaced, once, by a fresh code of the same series.
func ExampleReissue() {
	at := time.Date(2025, 11, 12, 9, 0, 0, 0, time.UTC)
	old, _, _ := coupon.New(coupon.NewParams{ID: "c1", SeriesID: "ref", Code: "REF-AAAA", Canonical: "REFAAAA"}, at)
	old, _, _ = coupon.Issue(old, "bob", at, at.Add(24*time.Hour), "referral")
	fresh, _, _ := coupon.New(coupon.NewParams{ID: "c2", SeriesID: "ref", Code: "REF-BBBB", Canonical: "REFBBBB"}, at)

	now := at.Add(48 * time.Hour)
	fmt.Println(old.StateAt(now), old.Usable(now))

	old, fresh, ev, err := coupon.Reissue(old, fresh, now, coupon.ReissueParams{
		Actor: "support-7", Notify: true, ExpiresAt: now.AddDate(0, 0, 30),
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %s -> %s for %s by %s, notify %v\n", ev.Kind, ev.OldCode, ev.NewCode, ev.Customer, ev.Actor, ev.Notify)
	fmt.Printf("old: %s holder %q replaced by %s\n", old.State, old.Holder, old.ReissuedTo)
	fmt.Printf("new: %s holder %q replacing %s\n", fresh.StateAt(now), fresh.Holder, fresh.ReissuedFrom)

	_, _, _, err = coupon.Reissue(old, fresh, now, coupon.ReissueParams{})
	fmt.Printf("%d\n", errcode.CodeOf(err))
	// Output:
	// expired false
	// reissued: REF-AAAA -> REF-BBBB for bob by support-7, notify true
	// old: expired holder "" replaced by c2
	// new: issued holder "bob" replacing c1
	// 1109
}

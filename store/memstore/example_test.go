package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// A redemption as the engine hands it to the store: the coupon update, the
// redemption, the guarded counter bump and the event, applied together. The
// second redemption of the code passes the limit of one, so the store
// refuses the whole change.
func Example() {
	ctx := context.Background()
	at := time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)
	s := memstore.New()

	c := coupon.Coupon{ID: "c1", SeriesID: "s1", Code: "abc-123", Canonical: "ABC123",
		State: coupon.Issued, Holder: "alice", Version: 2}
	if _, err := s.InsertCoupons(ctx, []coupon.Coupon{c}, nil); err != nil {
		panic(err)
	}

	redeem := func(c coupon.Coupon, key string) error {
		next := c
		next.Redemptions++
		next.State = coupon.Redeemed
		next.Version++
		ch := &store.Change{
			Coupons: []store.CouponUpdate{{Coupon: next, ExpectVersion: c.Version}},
			NewRedemptions: []coupon.Redemption{{ID: "r-" + key, CouponID: c.ID, SeriesID: c.SeriesID,
				Customer: "alice", IdempotencyKey: key, Status: coupon.StatusRedeemed, At: at}},
			Bumps: []store.Bump{{
				Key:   store.CounterKey{Counter: limits.CodeUses, Series: c.SeriesID, Code: c.Canonical},
				Delta: 1, At: at, Guard: limits.Guard{Counter: limits.CodeUses, Limit: 1},
			}},
			Events: []coupon.Event{{ID: "e-" + key, Kind: coupon.EventRedeemed, CouponID: c.ID,
				SeriesID: c.SeriesID, Customer: "alice", At: at}},
		}
		err := s.Apply(ctx, ch)
		if err == nil {
			fmt.Println("redeemed; code uses now", ch.Bumps[0].After.N)
		}
		return err
	}

	found, _ := s.CouponsByCode(ctx, "s1", "ABC123")
	if err := redeem(found[0], "pos-1"); err != nil {
		panic(err)
	}

	found, _ = s.CouponsByCode(ctx, "s1", "ABC123")
	err := redeem(found[0], "pos-2")
	var ge *store.GuardError
	fmt.Println(errors.Is(err, errcode.ErrGuardFailed), errors.As(err, &ge) && ge.Count.N == 1)

	_, err = s.RedemptionByKey(ctx, "c1", "pos-2")
	fmt.Println("pos-2 stored:", !errors.Is(err, errcode.ErrNotFound))
	// Output:
	// redeemed; code uses now 1
	// true true
	// pos-2 stored: false
}

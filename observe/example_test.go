package observe_test

import (
	"context"
	"fmt"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// An engine reports each operation once, with its outcome; the store calls
// it makes are reported inside it. A refusal is an outcome of its own, with
// its codes, not a failure.
func Example() {
	ctx := context.Background()
	var rec observe.Recorder
	e, err := couponkit.New(couponkit.Config{Store: memstore.New(), Observer: &rec})
	if err != nil {
		panic(err)
	}
	if _, _, err := e.EventsAfter(ctx, store.Position{}, 10); err != nil {
		panic(err)
	}
	_, err = e.Redeem(ctx, couponkit.RedeemRequest{Code: "NOSUCHCODE", Customer: couponkit.ByID("alice"), IdempotencyKey: "pos-1"})
	fmt.Println(err != nil)
	for _, r := range rec.Records() {
		if !r.Op.IsStore() {
			fmt.Println(r.Op, r.Outcome.Result, r.Outcome.Codes)
		}
	}
	fmt.Println(observe.Mask("WELCOME10"))
	// Output:
	// true
	// EventsAfter ok []
	// Redeem refused [coupon not found]
	// WE*****10
}

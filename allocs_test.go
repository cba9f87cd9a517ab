package couponkit_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/couponkit/couponkit"
)

// TestRedeemAllocations keeps the redemption hot path lean: a redemption
// by an engine without Observer or Logger (observing costs nothing then)
// through memstore allocates at most three times (the redemption's ids, the
// discount and the store's record). A refusal model or a check that makes
// the redemption plan escape to the heap shows here first.
func TestRedeemAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	ctx := context.Background()
	e, _ := newEngine()
	cfg := tenOff()
	cfg.Issuance.MaxPerCustomer = 0 // alice holds every coupon
	s := must(e.CreateSeries(ctx, cfg))
	const n = 200
	reqs := make([]couponkit.RedeemRequest, n+1)
	for i := range reqs {
		c := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice")})).Coupon
		reqs[i] = couponkit.RedeemRequest{Code: c.Code, Customer: couponkit.ByID("alice"), IdempotencyKey: fmt.Sprint("pos-", i), Bill: eur("64.90")}
	}
	i := 0
	got := testing.AllocsPerRun(n, func() {
		if _, err := e.Redeem(ctx, reqs[i]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if got > 3 {
		t.Errorf("a redemption allocates %.1f times; at most 3", got)
	}
}

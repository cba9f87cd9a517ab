package couponkit_test

import (
	"context"
	"fmt"

	"github.com/couponkit/couponkit"
)

// Issue a stream of batches, such as the rows of a file read a batch at a
// time: each batch is read and decided while the one before it is
// written, and done sees each batch's outcomes in order. The series gives
// each customer one coupon, so dave's second request, in the second
// batch, is refused as Issue would refuse it.
func ExampleEngine_IssueBatches() {
	ctx := context.Background()
	e, _ := newEngine()
	s := must(e.CreateSeries(ctx, tenOff()))
	batches := func(yield func([]couponkit.IssueRequest) bool) {
		row := 0
		for _, names := range [][]string{{"alice", "bob", "dave"}, {"carol", "dave"}} {
			reqs := make([]couponkit.IssueRequest, len(names))
			for i, n := range names {
				row++
				reqs[i] = couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(n), IdempotencyKey: fmt.Sprint("mailing-7/row-", row)}
			}
			if !yield(reqs) {
				return
			}
		}
	}
	batch := 0
	err := e.IssueBatches(ctx, batches, func(outs []couponkit.IssueOutcome, err error) error {
		batch++
		for _, o := range outs {
			if o.Err != nil {
				fmt.Printf("batch %d: refused: %v\n", batch, o.Err)
				continue
			}
			fmt.Printf("batch %d: %s has a coupon\n", batch, o.Result.Coupon.Holder)
		}
		return err
	})
	fmt.Println("error:", err)
	// Output:
	// batch 1: alice has a coupon
	// batch 1: bob has a coupon
	// batch 1: dave has a coupon
	// batch 2: carol has a coupon
	// batch 2: refused: couponkit: refused: code 1221 (1221) customer_issues: This customer has received the most coupons of this offer allowed (1).
	// error: <nil>
}

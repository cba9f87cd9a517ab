package refstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/refstore"
)

// An engine runs over the reference store as over any other.
func Example() {
	ctx := context.Background()
	e, err := couponkit.New(couponkit.Config{
		Store:   refstore.New(),
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("keep this secret"), nil },
	})
	if err != nil {
		log.Fatal(err)
	}
	s, err := e.CreateSeries(ctx, series.Series{
		Name:     "5 EUR off",
		TimeZone: "Europe/Berlin",
		Source:   series.Source{Kind: series.Common, Code: "WELCOME5"},
		Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(5), Currency: "EUR"},
	})
	if err != nil {
		log.Fatal(err)
	}
	issued, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice")})
	if err != nil {
		log.Fatal(err)
	}
	bill := series.Money{Amount: decimal.RequireFromString("20.00"), Currency: "EUR"}
	r, err := e.Redeem(ctx, couponkit.RedeemRequest{Code: "welcome5", Customer: couponkit.ByID("alice"), IdempotencyKey: "till-1", Bill: bill})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(issued.Coupon.Code, r.Coupon.State, r.Discount)
	// Output: WELCOME5 redeemed 5 EUR
}

// The store checks the guards a change carries and decides nothing else:
// here a limit of 2 on a counter, which refuses the third bump.
func ExampleStore_Apply() {
	ctx := context.Background()
	st := refstore.New()
	k := store.CounterKey{Counter: limits.SeriesUses, Series: "s1"}
	at := time.Date(2030, time.January, 7, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		err := st.Apply(ctx, &store.Change{Bumps: []store.Bump{
			{Key: k, Delta: 1, At: at, Guard: limits.Guard{Counter: limits.SeriesUses, Limit: 2}},
		}})
		var refused *store.GuardError
		switch {
		case err == nil:
			fmt.Printf("bump %d applied\n", i+1)
		case errors.As(err, &refused):
			fmt.Printf("bump %d refused: the counter stands at %d\n", i+1, refused.Count.N)
		default:
			log.Fatal(err)
		}
	}
	out := make([]store.Count, 1)
	if err := st.Counters(ctx, []store.CounterKey{k}, out); err != nil {
		log.Fatal(err)
	}
	fmt.Println("counter:", out[0].N)
	// Output:
	// bump 1 applied
	// bump 2 applied
	// bump 3 refused: the counter stands at 2
	// counter: 2
}

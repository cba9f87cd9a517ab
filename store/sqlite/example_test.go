package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/shopspring/decimal"

	couponkit "github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/sqlite"
)

// An engine on an SQLite file: open, migrate, and redeem an uploaded code
// under a series level; the same request sent again is a replay.
func Example() {
	dir, err := os.MkdirTemp("", "couponkit-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	st, err := sqlite.Open(ctx, filepath.Join(dir, "coupons.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	now := time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)
	eng, err := couponkit.New(couponkit.Config{Store: st, Now: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}
	s, err := eng.CreateSeries(ctx, series.Series{
		ID: "summer", Name: "Summer sale", TimeZone: "UTC",
		Source:     series.Source{Kind: series.Uploaded},
		Expiry:     series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount:   series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(10), Currency: "EUR"},
		Redemption: limits.RedemptionRules{MaxPerSeries: 100},
	})
	if err != nil {
		log.Fatal(err)
	}
	up, err := eng.Upload(ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: []couponkit.UploadRow{{Code: "SUN-0001", Customer: couponkit.ByID("alice")}}, Actor: "ops"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("uploaded:", up.Added)

	req := couponkit.RedeemRequest{
		Code: "sun-0001", Customer: couponkit.ByID("alice"), IdempotencyKey: "till-7/order-42",
		Bill: series.Money{Amount: decimal.NewFromInt(80)},
	}
	res, err := eng.Redeem(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("discount:", res.Discount.Amount.StringFixed(2), res.Discount.Currency)
	again, err := eng.Redeem(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("replayed:", again.Replayed)
	c, err := eng.Counters(ctx, s.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("uses:", c.Uses, "remaining:", c.RemainingUses)
	// Output:
	// uploaded: 1
	// discount: 8.00 EUR
	// replayed: true
	// uses: 1 remaining: 99
}

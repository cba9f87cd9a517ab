package postgres_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/shopspring/decimal"

	couponkit "github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/postgres"
)

// An engine on a PostgreSQL database: open, migrate, and redeem an
// uploaded code under a series level; the same request sent again is a
// replay. (It needs a server: its output is not checked.)
func Example() {
	ctx := context.Background()
	st, err := postgres.Open(ctx, os.Getenv("COUPONKIT_POSTGRES_DSN")) // e.g. postgres://app@db/coupons
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	eng, err := couponkit.New(couponkit.Config{Store: st, Now: time.Now})
	if err != nil {
		log.Fatal(err)
	}
	s, err := eng.CreateSeries(ctx, series.Series{
		Name: "Summer sale", TimeZone: "UTC",
		Source:     series.Source{Kind: series.Uploaded},
		Expiry:     series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount:   series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(10), Currency: "EUR"},
		Redemption: limits.RedemptionRules{MaxPerSeries: 100},
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := eng.Upload(ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: []couponkit.UploadRow{{Code: "SUN-0001", Customer: couponkit.ByID("alice")}}}); err != nil {
		log.Fatal(err)
	}
	req := couponkit.RedeemRequest{
		Code: "sun-0001", Customer: couponkit.ByID("alice"), IdempotencyKey: "till-7/order-42",
		Bill: series.Money{Amount: decimal.NewFromInt(80)},
	}
	res, err := eng.Redeem(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("discount:", res.Discount.Amount.StringFixed(2), res.Discount.Currency)
}

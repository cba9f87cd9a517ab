package couponkit_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/store/memstore"
)

// nopObserver observes nothing, at the cost of the calls alone.
type nopObserver struct{}

func (nopObserver) Start(ctx context.Context, _ observe.Op) (context.Context, func(observe.Outcome)) {
	return ctx, func(observe.Outcome) {}
}

// BenchmarkRedeemObserved redeems distinct coupons on memstore, one
// goroutine: plain (no Observer, no Logger), with an Observer that does
// nothing (the cost of the hooks and the store wrapper), and with a Logger
// whose handler drops every line below Info (the cost of the checks).
func BenchmarkRedeemObserved(b *testing.B) {
	for _, bc := range []struct {
		name string
		obs  observe.Observer
		log  *slog.Logger
	}{
		{"plain", nil, nil},
		{"observer", nopObserver{}, nil},
		{"logger", nil, slog.New(slog.NewTextHandler(io.Discard, nil))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			clk := &clock{t: time.Date(2026, time.November, 12, 10, 0, 0, 0, time.UTC)}
			e, err := couponkit.New(couponkit.Config{Store: memstore.New(), Now: clk.now, Observer: bc.obs, Logger: bc.log,
				CodeKey: func(context.Context, string) ([]byte, error) { return []byte("a benchmark key"), nil }})
			if err != nil {
				b.Fatal(err)
			}
			cfg := tenOff()
			cfg.Issuance.MaxPerCustomer = 0
			s := must(e.CreateSeries(ctx, cfg))
			reqs := make([]couponkit.RedeemRequest, b.N)
			for i := range reqs {
				c := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice")})).Coupon
				reqs[i] = couponkit.RedeemRequest{Code: c.Code, Customer: couponkit.ByID("alice"), IdempotencyKey: fmt.Sprint("pos-", i), Bill: eur("64.90")}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := e.Redeem(ctx, reqs[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

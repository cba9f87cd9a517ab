package sqltest

import (
	"context"
	"errors"
	"flag"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

var (
	bulkN    = flag.Int("couponkit.bulk", 1_000_000, "codes BenchmarkBulkInsert1M generates per iteration")
	hotConns = flag.Int("couponkit.clients", 32, "concurrent clients of BenchmarkRedeemHotSeries")
)

// BenchBulkInsert1M is the benchmark BulkInsert1M of each database: it
// generates 1,000,000 codes (-couponkit.bulk) of a Generated series with
// the engine's Generate (codegen.NewUnique codes, 10 alphanumeric
// characters, batches of couponkit.GenerateBatch, each coupon with its
// Created event) into a fresh store, and reports the time per million.
func BenchBulkInsert1M(b *testing.B, be Backend) {
	if testing.Short() {
		b.Skip("skipped under -short")
	}
	b.ReportAllocs()
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		s := be.Open(b)
		e := NewEngine(b, s, t0)
		sr := RedeemSeries("", 0)
		sr.Source = series.Source{Kind: series.Generated, Length: 10, Alphabet: series.Alphanumeric}
		sr, err := e.CreateSeries(context.Background(), sr)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		n, err := e.Generate(context.Background(), couponkit.GenerateRequest{SeriesID: sr.ID, N: *bulkN})
		if err != nil || n != *bulkN {
			b.Fatalf("Generate: %d, %v", n, err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(*bulkN)*float64(b.N)/total.Seconds(), "codes/s")
	b.ReportMetric(total.Seconds()/float64(b.N)*1e6/float64(*bulkN), "s/1M")
}

// BenchRedeemHotSeries is the benchmark RedeemHotSeries of each database:
// it redeems through the engine, from 32 concurrent
// clients (b.SetParallelism), distinct coupons of one series whose series
// level is 90% of the attempts, and checks that exactly the level was
// redeemed. It reports successful redemptions per second.
func BenchRedeemHotSeries(b *testing.B, be Backend) {
	b.ReportAllocs()
	s := be.Open(b)
	e := NewEngine(b, s, t0)
	n := b.N
	level := n - n/10
	sr, err := e.CreateSeries(context.Background(), RedeemSeries("", limitOf(level)))
	if err != nil {
		b.Fatal(err)
	}
	IssuedCoupons(b, s, sr.ID, n, t0)
	var next, ok atomic.Int64
	b.SetParallelism(max(1, *hotConns/max(1, runtimeProcs())))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1) - 1)
			_, err := e.Redeem(context.Background(), RedeemReq(i, "k"))
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, errcode.ErrLimitReached):
			default:
				b.Errorf("Redeem: %v", err)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if ok.Load() != int64(level) {
		b.Fatalf("%d redeemed, want exactly the level %d", ok.Load(), level)
	}
	b.ReportMetric(float64(ok.Load())/elapsed.Seconds(), "redemptions/s")
}

func limitOf(n int) limits.Limit { return limits.Limit(n) }

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// RedeemHot is the work of BenchRedeemHotSeries for tests that count what
// it costs: a fresh series whose level n is not reached, n coupons, and n
// redemptions of distinct ones from clients goroutines, every one of which
// must succeed. It calls start once the series and coupons are stored,
// before the first redemption.
func RedeemHot(t testing.TB, s Store, n, clients int, start func()) {
	t.Helper()
	e := NewEngine(t, s, t0)
	sr, err := e.CreateSeries(context.Background(), RedeemSeries("", limitOf(n)))
	if err != nil {
		t.Fatal(err)
	}
	IssuedCoupons(t, s, sr.ID, n, t0)
	start()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if _, err := e.Redeem(context.Background(), RedeemReq(i, "k")); err != nil {
					t.Errorf("Redeem %d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
}

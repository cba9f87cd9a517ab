package sqlstore_test

import (
	"context"
	"errors"
	"flag"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/sqlstore"
)

var (
	bulkN    = flag.Int("sqlstore.bulk", 1_000_000, "codes BenchmarkBulkInsert1M generates per iteration")
	hotConns = flag.Int("sqlstore.clients", 32, "concurrent clients of BenchmarkRedeemHotSeries")
)

// benchBackends runs f as a sub-benchmark on every backend.
func benchBackends(b *testing.B, f func(b *testing.B, open func(testing.TB) *sqlstore.Store)) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			be.skipUnavailable(b)
			f(b, be.open)
		})
	}
}

// BenchmarkBulkInsert1M generates 1,000,000 codes of a Generated series
// with the engine's Generate (codegen.NewUnique codes, 10 alphanumeric
// characters, batches of couponkit.GenerateBatch, each coupon with its
// Created event) into a fresh store, and reports the time per million.
func BenchmarkBulkInsert1M(b *testing.B) {
	if testing.Short() {
		b.Skip("skipped under -short")
	}
	benchBackends(b, func(b *testing.B, open func(testing.TB) *sqlstore.Store) {
		b.ReportAllocs()
		var total time.Duration
		for b.Loop() {
			b.StopTimer()
			s := open(b)
			e := newEngine(b, s, t0)
			sr := redeemSeries("", 0)
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
	})
}

// BenchmarkRedeemHotSeries redeems through the engine, from 32 concurrent
// clients (b.SetParallelism), distinct coupons of one series whose series
// level is 90% of the attempts, and checks that exactly the level was
// redeemed. It reports successful redemptions per second.
func BenchmarkRedeemHotSeries(b *testing.B) {
	benchBackends(b, func(b *testing.B, open func(testing.TB) *sqlstore.Store) {
		b.ReportAllocs()
		s := open(b)
		e := newEngine(b, s, t0)
		n := b.N
		level := n - n/10
		sr, err := e.CreateSeries(context.Background(), redeemSeries("", limitOf(level)))
		if err != nil {
			b.Fatal(err)
		}
		issuedCoupons(b, s, sr.ID, n, t0)
		var next, ok atomic.Int64
		b.SetParallelism(max(1, *hotConns/max(1, runtimeProcs())))
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1) - 1)
				_, err := e.Redeem(context.Background(), redeemReq(i, "k"))
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
	})
}

func limitOf(n int) limits.Limit { return limits.Limit(n) }

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

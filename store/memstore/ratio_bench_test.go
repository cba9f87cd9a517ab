//go:build unix

package memstore_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// BenchmarkRedeemHotSeriesRatio redeems b.N distinct coupons of one
// series with a series-wide limit (every redemption bumps the same
// guarded counter) through the engine, alternately by one goroutine and
// by 8, in phases of equal size, and reports each side's redemptions per
// second, the ratio 8 ÷ 1 of them (the scaling on a hot series: at least
// 0.9 wanted), and each side's process CPU time per redemption, which
// other load on the machine moves less than the rates, with the system
// part of it and the page faults per redemption (on a virtual machine a
// fault of a fresh page can cost microseconds). Alternating phases put
// both sides under the same drift of that load.
func BenchmarkRedeemHotSeriesRatio(b *testing.B) {
	const goroutines, phases = 8, 10
	ctx := context.Background()
	now := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	st := memstore.New()
	e, err := couponkit.New(couponkit.Config{Store: st, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	s, err := e.CreateSeries(ctx, series.Series{Name: "hot", TimeZone: "UTC", Source: series.Source{Kind: series.Uploaded},
		Expiry:     series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount:   series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"},
		Redemption: limits.RedemptionRules{MaxPerSeries: limits.MaxLimit}})
	if err != nil {
		b.Fatal(err)
	}
	reqs := hotPool(b, st, s.ID, b.N, now.Add(-time.Hour))
	var wall, cpu, sys [2]time.Duration // [0] one goroutine, [1] goroutines
	var count, faults [2]int
	next := 0
	b.ReportAllocs()
	b.ResetTimer()
	for p := range 2 * phases {
		end := (p + 1) * b.N / (2 * phases)
		side := p % 2
		u0, t0 := usage(), time.Now()
		if side == 0 {
			for ; next < end; next++ {
				if _, err := e.Redeem(ctx, reqs[next]); err != nil {
					b.Fatal(err)
				}
			}
		} else {
			var at atomic.Int64
			at.Store(int64(next))
			var wg sync.WaitGroup
			for range goroutines {
				wg.Go(func() {
					for i := int(at.Add(1) - 1); i < end; i = int(at.Add(1) - 1) {
						if _, err := e.Redeem(ctx, reqs[i]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			next = end
		}
		wall[side] += time.Since(t0)
		u := usage()
		cpu[side] += u.cpu - u0.cpu
		sys[side] += u.sys - u0.sys
		faults[side] += u.faults - u0.faults
		count[side] += end - p*b.N/(2*phases)
	}
	b.StopTimer()
	if count[0] == 0 || count[1] == 0 {
		return
	}
	rate := func(i int) float64 { return float64(count[i]) / wall[i].Seconds() }
	b.ReportMetric(rate(0), "1-goroutine-redemptions/s")
	b.ReportMetric(rate(1), "8-goroutines-redemptions/s")
	b.ReportMetric(rate(1)/rate(0), "8÷1")
	b.ReportMetric(float64(cpu[0].Nanoseconds())/float64(count[0]), "1-goroutine-cpu-ns/redemption")
	b.ReportMetric(float64(cpu[1].Nanoseconds())/float64(count[1]), "8-goroutines-cpu-ns/redemption")
	b.ReportMetric(float64(sys[0].Nanoseconds())/float64(count[0]), "1-goroutine-sys-ns/redemption")
	b.ReportMetric(float64(sys[1].Nanoseconds())/float64(count[1]), "8-goroutines-sys-ns/redemption")
	b.ReportMetric(float64(faults[0])/float64(count[0]), "1-goroutine-faults/redemption")
	b.ReportMetric(float64(faults[1])/float64(count[1]), "8-goroutines-faults/redemption")
	var got [1]store.Count
	if err := st.Counters(ctx, []store.CounterKey{{Counter: limits.SeriesUses, Series: s.ID}}, got[:]); err != nil || got[0].N != int64(b.N) {
		b.Fatalf("the hot series counted %d uses (%v), want %d", got[0].N, err, b.N)
	}
}

// hotPool stores n coupons of series sid issued at at, each to a customer
// of its own, and returns a request redeeming each.
func hotPool(b *testing.B, st *memstore.Store, sid string, n int, at time.Time) []couponkit.RedeemRequest {
	reqs := make([]couponkit.RedeemRequest, n)
	cs := make([]coupon.Coupon, n)
	bill := series.Money{Amount: decimal.NewFromInt(50), Currency: "EUR"}
	for i := range n {
		k := strconv.Itoa(i)
		cs[i] = coupon.Coupon{ID: "hot-" + k, SeriesID: sid, Code: "H" + k, Canonical: "H" + k, State: coupon.Issued,
			Holder: "c" + k, CreatedAt: at, IssuedAt: at, ExpiresAt: at.Add(30 * 24 * time.Hour), LastStatusChange: at, Version: 2}
		reqs[i] = couponkit.RedeemRequest{Code: "H" + k, SeriesID: sid, Customer: couponkit.ByID("c" + k), IdempotencyKey: "pos", Bill: bill}
	}
	if _, err := st.InsertCoupons(context.Background(), cs, nil); err != nil {
		b.Fatal(err)
	}
	return reqs
}

// usage reads the process's CPU time (user and system), its system time
// and its page faults so far.
func usage() (u rusage) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return u
	}
	return rusage{cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), sys: time.Duration(ru.Stime.Nano()), faults: int(ru.Minflt + ru.Majflt)}
}

// rusage is what usage reads of the process's resource use so far.
type rusage struct {
	cpu, sys time.Duration
	faults   int
}

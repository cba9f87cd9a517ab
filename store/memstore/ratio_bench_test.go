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
// guarded counter) through the engine, half by one goroutine and half by
// 8, in alternating phases of equal size, and reports each side's
// redemptions per second, the ratio 8 ÷ 1 of them (the scaling on a hot
// series: at least 0.9 wanted), and each side's process CPU time per
// redemption, which other load on the machine moves less than the rates,
// with the system part of it and the page faults per redemption (on a
// virtual machine a fault of a fresh page can cost microseconds).
// Alternating phases put both sides under the same drift of that load.
//
// Each side has a store of its own, filled alike, so that its k-th phase
// starts from a store of the same size as the other side's k-th: a store
// grows its tables at sizes that would otherwise fall in one side's
// phases only, charging that side alone with the growth.
func BenchmarkRedeemHotSeriesRatio(b *testing.B) {
	const goroutines, phases = 8, 10
	now := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	var sides [2]hotSide // [0] one goroutine, [1] goroutines
	for i := range sides {
		sides[i] = newHotSide(b, now, b.N/2+b.N%2*(1-i))
	}
	var wall, cpu, sys [2]time.Duration
	var count, faults [2]int
	b.ReportAllocs()
	b.ResetTimer()
	for p := range 2 * phases {
		i, side := p%2, &sides[p%2]
		end := (p/2 + 1) * len(side.reqs) / phases
		count[i] += end - side.next
		u0, t0 := usage(), time.Now()
		if i == 0 {
			side.redeem(b, end)
		} else {
			side.redeemConcurrently(b, end, goroutines)
		}
		wall[i] += time.Since(t0)
		u := usage()
		cpu[i] += u.cpu - u0.cpu
		sys[i] += u.sys - u0.sys
		faults[i] += u.faults - u0.faults
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
	for i := range sides {
		sides[i].check(b)
	}
}

// hotSide is one side of BenchmarkRedeemHotSeriesRatio: an engine on a
// store of its own, a hot series, and the requests redeeming its pool.
type hotSide struct {
	st       *memstore.Store
	e        *couponkit.Engine
	seriesID string
	reqs     []couponkit.RedeemRequest
	next     int // the first request not yet redeemed
}

// newHotSide creates a store and an engine with one hot series (a
// series-wide limit never reached) and n coupons of it to redeem.
func newHotSide(b *testing.B, now time.Time, n int) hotSide {
	st := memstore.New()
	e, err := couponkit.New(couponkit.Config{Store: st, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	s, err := e.CreateSeries(context.Background(), series.Series{Name: "hot", TimeZone: "UTC", Source: series.Source{Kind: series.Uploaded},
		Expiry:     series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount:   series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"},
		Redemption: limits.RedemptionRules{MaxPerSeries: limits.MaxLimit}})
	if err != nil {
		b.Fatal(err)
	}
	return hotSide{st: st, e: e, seriesID: s.ID, reqs: hotPool(b, st, s.ID, n, now.Add(-time.Hour))}
}

// redeem redeems the side's requests up to end, one after another.
func (h *hotSide) redeem(b *testing.B, end int) {
	for ; h.next < end; h.next++ {
		if _, err := h.e.Redeem(context.Background(), h.reqs[h.next]); err != nil {
			b.Fatal(err)
		}
	}
}

// redeemConcurrently redeems the side's requests up to end, each of the
// goroutines taking the next one not taken.
func (h *hotSide) redeemConcurrently(b *testing.B, end, goroutines int) {
	var at atomic.Int64
	at.Store(int64(h.next))
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for i := int(at.Add(1) - 1); i < end; i = int(at.Add(1) - 1) {
				if _, err := h.e.Redeem(context.Background(), h.reqs[i]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	h.next = end
}

// check fails b unless the side's hot series counted each of its
// requests once.
func (h *hotSide) check(b *testing.B) {
	var got [1]store.Count
	key := store.CounterKey{Counter: limits.SeriesUses, Series: h.seriesID}
	if err := h.st.Counters(context.Background(), []store.CounterKey{key}, got[:]); err != nil || got[0].N != int64(len(h.reqs)) {
		b.Fatalf("the hot series counted %d uses (%v), want %d", got[0].N, err, len(h.reqs))
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

package memstore

import (
	"errors"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// benchCoupons is the number of coupons the benchmark redeems, shared out
// among the workers so that serial and parallel runs touch as much memory.
const benchCoupons = 1 << 14

// benchStore returns a store with series s1 and benchCoupons issued
// coupons shared among workers: coupon i of worker w has code "W<w>C<i>"
// and holder "w<w>u<i>".
func benchStore(b *testing.B, workers int) *Store {
	s := New()
	mustApply(b, s, &store.Change{Series: &store.SeriesWrite{Series: testSeries("s1")}})
	var cs []coupon.Coupon
	for w := range workers {
		for i := range benchCoupons / workers {
			code := "W" + strconv.Itoa(w) + "C" + strconv.Itoa(i)
			cs = append(cs, issued(code, "s1", code, "w"+strconv.Itoa(w)+"u"+strconv.Itoa(i)))
		}
	}
	if _, err := s.InsertCoupons(ctx, cs, nil); err != nil {
		b.Fatal(err)
	}
	return s
}

// redeemer runs the store side of one redemption the way the engine does:
// read the series, the coupon by code, the redemption by idempotency key
// (a miss), the four counters, then apply the coupon update, the
// redemption, the four guarded bumps and the event.
type redeemer struct {
	s      *Store
	worker string
	pool   int // coupons of this worker
	n      int
	keys   [4]store.CounterKey
	counts [4]store.Count
	ch     store.Change
	upd    [1]store.CouponUpdate
	red    [1]coupon.Redemption
	ev     [1]coupon.Event
	bumps  [4]store.Bump
	buf    []byte
}

func newRedeemer(s *Store, worker, workers int) *redeemer {
	r := &redeemer{s: s, worker: strconv.Itoa(worker), pool: benchCoupons / workers}
	r.ch = store.Change{Coupons: r.upd[:], NewRedemptions: r.red[:], Events: r.ev[:], Bumps: r.bumps[:]}
	return r
}

func (r *redeemer) id(prefix string) string {
	r.buf = append(r.buf[:0], prefix...)
	r.buf = append(r.buf, r.worker...)
	r.buf = append(r.buf, '-')
	r.buf = strconv.AppendInt(r.buf, int64(r.n), 10)
	return string(r.buf)
}

func (r *redeemer) redeem(b *testing.B) {
	i := r.n % r.pool
	r.n++
	at := t0.Add(time.Duration(r.n) * time.Second)
	if _, err := r.s.Series(ctx, "s1"); err != nil {
		b.Fatal(err)
	}
	code := "W" + r.worker + "C" + strconv.Itoa(i)
	cs, err := r.s.CouponsByCode(ctx, "s1", code)
	if err != nil || len(cs) != 1 {
		b.Fatal(cs, err)
	}
	c := cs[0]
	key := r.id("pos-")
	if _, err := r.s.RedemptionByKey(ctx, c.ID, key); !errors.Is(err, errcode.ErrNotFound) {
		b.Fatal(err)
	}
	guards := [4]limits.Guard{
		{Counter: limits.CodeUses, Limit: 1 << 40},
		{Counter: limits.CustomerCodeUses, Limit: 1 << 40},
		{Counter: limits.SeriesUses, Limit: 1 << 40},
		{Counter: limits.CustomerSeriesUses, MinGap: time.Millisecond},
	}
	r.keys = [4]store.CounterKey{
		{Counter: limits.CodeUses, Series: c.SeriesID, Code: c.Canonical},
		{Counter: limits.CustomerCodeUses, Series: c.SeriesID, Code: c.Canonical, Customer: c.Holder},
		{Counter: limits.SeriesUses, Series: c.SeriesID},
		{Counter: limits.CustomerSeriesUses, Series: c.SeriesID, Customer: c.Holder},
	}
	if err := r.s.Counters(ctx, r.keys[:], r.counts[:]); err != nil {
		b.Fatal(err)
	}
	nc := c
	nc.Redemptions++
	nc.Version++
	rid := r.id("red-")
	r.upd[0] = store.CouponUpdate{Coupon: nc, ExpectVersion: c.Version}
	r.red[0] = coupon.Redemption{ID: rid, CouponID: c.ID, SeriesID: c.SeriesID, Customer: c.Holder,
		IdempotencyKey: key, Status: coupon.StatusRedeemed, At: at, ConfirmedAt: at}
	for k := range r.bumps {
		r.bumps[k] = store.Bump{Key: r.keys[k], Delta: 1, Guard: guards[k], At: at}
	}
	r.ev[0] = coupon.Event{ID: rid, Kind: coupon.EventRedeemed, CouponID: c.ID, SeriesID: c.SeriesID,
		Code: c.Code, Customer: c.Holder, At: at, RedemptionID: rid}
	if err := r.s.Apply(ctx, &r.ch); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkApplyRedemption measures the store side of a redemption (see
// redeemer): serially, and by 8 goroutines on one series (whose series
// counter they all bump), each redeeming its own coupons.
func BenchmarkApplyRedemption(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		r := newRedeemer(benchStore(b, 1), 0, 1)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			r.redeem(b)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "redemptions/s")
	})
	b.Run("parallel8", func(b *testing.B) {
		const goroutines = 8
		s := benchStore(b, goroutines)
		procs := runtime.GOMAXPROCS(0)
		b.SetParallelism((goroutines + procs - 1) / procs)
		var workers atomic.Int32
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			r := newRedeemer(s, int(workers.Add(1)-1)%goroutines, goroutines)
			for pb.Next() {
				r.redeem(b)
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "redemptions/s")
	})
}

package sqltest

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// BenchReadCode is the benchmark ReadCode of each database: ReadCode of
// distinct codes of one series, each with the six counters a redemption
// of a series with a budget and a minimum gap reads (the code's uses, the customer's of the
// code, the series', the customer's of the series, the budget and the
// customer's budget), from 32 concurrent clients (b.SetParallelism): the
// read every redemption starts with.
func BenchReadCode(b *testing.B, be Backend) {
	s := be.Open(b)
	CreateSeries(b, s, "s1")
	const n = 4096
	IssuedCoupons(b, s, "s1", n, t0)
	// Every counter but the budgets' stands at one, as after a use.
	var bumps []store.Bump
	for i := range n {
		cs := hotCounters(custOf(i))
		c := coupon.Coupon{SeriesID: "s1", Canonical: codeOf(i)}
		for _, cc := range cs[:4] {
			if k := cc.Key(&c); i == 0 || cc.ByCode || cc.Customer != "" {
				bumps = append(bumps, store.Bump{Key: k, Delta: 1, At: t0})
			}
		}
	}
	if err := s.Apply(context.Background(), &store.Change{Bumps: bumps}); err != nil {
		b.Fatal(err)
	}
	cr := s.(store.CodeReader)
	var next atomic.Int64
	b.SetParallelism(max(1, *hotConns/max(1, runtimeProcs())))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var dst []store.CodeRead
		for pb.Next() {
			i := int(next.Add(1)-1) % n
			counters := hotCounters(custOf(i))
			var err error
			if dst, err = cr.ReadCode(context.Background(), "", codeOf(i), counters[:], dst[:0]); err != nil || len(dst) != 1 {
				b.Errorf("ReadCode: %d reads, %v", len(dst), err)
				return
			}
		}
	})
}

// hotCounters are the counters of a redemption by customer of a series
// with a budget and a minimum gap, in the order the engine reads them: the code's uses, the
// customer's of the code, the series', the customer's of the series, the
// budget, the customer's budget.
func hotCounters(customer string) [6]store.CouponCounter {
	kinds := [6]limits.Counter{limits.CodeUses, limits.CustomerCodeUses, limits.SeriesUses,
		limits.CustomerSeriesUses, limits.SeriesBudget, limits.CustomerBudget}
	var out [6]store.CouponCounter
	for i, k := range kinds {
		out[i] = store.CouponCounter{Counter: k, ByCode: i < 2}
		if i%2 == 1 {
			out[i].Customer = customer
		}
	}
	return out
}

// codeOf and custOf are the code and the holder of the i-th coupon of
// IssuedCoupons.
func codeOf(i int) string { return fmt.Sprintf("HOT%07d", i) }
func custOf(i int) string { return "cust" + strconv.Itoa(i) }

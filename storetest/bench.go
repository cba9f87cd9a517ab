package storetest

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// RunBenchmarks measures a store under the engine's main operations.
// newStore is called once per run of each sub-benchmark and must return a
// fresh, empty store. Each sub-benchmark reports ops/s besides ns/op and
// allocations; setup (series, coupons to redeem or reverse) is outside the
// timer.
//
//   - Issue: issue a coupon of a generated series, each op to another
//     customer.
//   - Redeem: redeem a coupon, each op a different coupon of one series,
//     one goroutine.
//   - RedeemHotSeries/goroutines=N: N goroutines redeem distinct coupons of
//     one series with a series-level limit, so every op bumps the same
//     guarded counter. Compare N=8 with N=1 for how the store scales on a
//     hot counter.
//   - Reverse: reverse a redemption, each op a different one.
//   - RedeemBasket20 and RedeemBasket20Budget: redeem a coupon on a
//     basket of 20 lines (20% off, sale items excluded, split per line),
//     each op a different coupon, the second under a series budget and a
//     customer budget (two more guarded counters).
func RunBenchmarks(b *testing.B, newStore func(b *testing.B) store.Store) {
	b.Run("Issue", func(b *testing.B) { benchIssue(b, newStore(b)) })
	b.Run("Redeem", func(b *testing.B) { benchRedeem(b, newStore(b)) })
	for _, n := range []int{1, 8} {
		b.Run("RedeemHotSeries/goroutines="+strconv.Itoa(n), func(b *testing.B) { benchHot(b, newStore(b), n) })
	}
	b.Run("Reverse", func(b *testing.B) { benchReverse(b, newStore(b)) })
	b.Run("RedeemBasket20", func(b *testing.B) { benchBasket(b, newStore(b), false) })
	b.Run("RedeemBasket20Budget", func(b *testing.B) { benchBasket(b, newStore(b), true) })
}

func benchBasket(b *testing.B, st store.Store, budget bool) {
	e := benchEngine(b, st)
	s := benchSeries(b, e, baseSeries("bench basket", uploadSrc(), func(s *series.Series) {
		s.Discount = series.Discount{Kind: series.Percent, Percent: dec("20"), Cap: nullDec("500"), Currency: "EUR"}
		s.Products = series.ProductRules{ExcludeCategories: []string{"sale"}}
		if budget {
			s.Budget = series.Budget{Total: nullDec("1000000000"), PerCustomer: nullDec("1000")}
		}
	}))
	lines := make([]basket.Line, 20)
	for i := range lines {
		lines[i] = basket.Line{ID: strconv.Itoa(i + 1), Product: "p" + strconv.Itoa(i), Categories: []string{"home", "c" + strconv.Itoa(i%4)},
			Quantity: int64(1 + i%3), UnitPrice: dec(strconv.Itoa(3+i) + ".99")}
		if i%5 == 0 {
			lines[i].Categories = append(lines[i].Categories, "sale")
		}
	}
	reqs := issuedPool(b, st, s, b.N)
	for i := range reqs {
		reqs[i].Bill = series.Money{Currency: "EUR"}
		reqs[i].Lines = lines
	}
	redeemAll(b, e, reqs)
}

// benchEngine is an engine with a fixed clock and customers by id only.
func benchEngine(b *testing.B, st store.Store) *couponkit.Engine {
	now := t0
	e, err := couponkit.New(couponkit.Config{
		Store:   st,
		Now:     func() time.Time { return now },
		CodeKey: seriesKey,
	})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func benchSeries(b *testing.B, e *couponkit.Engine, s series.Series) series.Series {
	out, err := e.CreateSeries(context.Background(), s)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func report(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "ops/s")
	}
}

func customerIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "c" + strconv.Itoa(i)
	}
	return out
}

func benchIssue(b *testing.B, st store.Store) {
	ctx := context.Background()
	e := benchEngine(b, st)
	s := benchSeries(b, e, baseSeries("bench issue", series.Source{Kind: series.Generated, Length: 10, Alphabet: series.Alphanumeric}))
	custs := customerIDs(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(custs[i])}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	report(b)
}

// issuedPool stores n coupons of s issued to n customers, in batches,
// straight through the store (as an upload with customers does), and
// returns their requests: code, holder and a key each.
func issuedPool(b *testing.B, st store.Store, s series.Series, n int) []couponkit.RedeemRequest {
	ctx := context.Background()
	reqs := make([]couponkit.RedeemRequest, n)
	bill := eur("50") // one bill for all: its decimal is immutable
	const batch = 10000
	cs := make([]coupon.Coupon, 0, batch)
	for i := range n {
		code := fmt.Sprintf("B%09d", i)
		c, _, err := coupon.New(coupon.NewParams{ID: fmt.Sprintf("bench-%09d", i), SeriesID: s.ID, Code: code, Canonical: code}, t0.Add(-time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		holder := "c" + strconv.Itoa(i)
		if c, _, err = coupon.Issue(c, holder, t0.Add(-time.Hour), time.Time{}, "bench"); err != nil {
			b.Fatal(err)
		}
		cs = append(cs, c)
		reqs[i] = couponkit.RedeemRequest{Code: code, SeriesID: s.ID, Customer: couponkit.ByID(holder), IdempotencyKey: "pos", Bill: bill}
		if len(cs) == batch || i == n-1 {
			if _, err := st.InsertCoupons(ctx, cs, nil); err != nil {
				b.Fatal(err)
			}
			cs = cs[:0]
		}
	}
	return reqs
}

func benchRedeem(b *testing.B, st store.Store) {
	e := benchEngine(b, st)
	s := benchSeries(b, e, baseSeries("bench redeem", uploadSrc()))
	redeemAll(b, e, issuedPool(b, st, s, b.N))
}

// redeemAll times the redemption of reqs, one a op.
func redeemAll(b *testing.B, e *couponkit.Engine, reqs []couponkit.RedeemRequest) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := e.Redeem(ctx, reqs[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	report(b)
}

func benchHot(b *testing.B, st store.Store, goroutines int) {
	ctx := context.Background()
	e := benchEngine(b, st)
	s := benchSeries(b, e, baseSeries("bench hot", uploadSrc(), func(s *series.Series) {
		s.Redemption.MaxPerSeries = limits.MaxLimit
	}))
	reqs := issuedPool(b, st, s, b.N)
	var next atomic.Int64
	b.SetParallelism((goroutines + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	if goroutines == 1 {
		for i := range b.N {
			if _, err := e.Redeem(ctx, reqs[i]); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := next.Add(1) - 1
				if _, err := e.Redeem(ctx, reqs[i]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.StopTimer()
	report(b)
	keys := []store.CounterKey{{Counter: limits.SeriesUses, Series: s.ID}}
	out := make([]store.Count, 1)
	if err := st.Counters(ctx, keys, out); err != nil || out[0].N != int64(b.N) {
		b.Fatalf("the hot series counted %d uses (%v), want %d", out[0].N, err, b.N)
	}
}

func benchReverse(b *testing.B, st store.Store) {
	ctx := context.Background()
	e := benchEngine(b, st)
	s := benchSeries(b, e, baseSeries("bench reverse", uploadSrc()))
	reqs := issuedPool(b, st, s, b.N)
	ids := make([]string, b.N)
	for i := range b.N {
		r, err := e.Redeem(ctx, reqs[i])
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = r.Redemption.ID
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := e.Reverse(ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: ids[i]}}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	report(b)
}

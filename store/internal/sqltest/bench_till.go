package sqltest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	couponkit "github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/series"
)

// BenchApplyJournal is the benchmark ApplyJournal of each database: the
// central's side of a till's sync. A till holding a lease of b.N uses of
// a series uploads b.N offline uses (each a distinct issued coupon
// redeemed by its holder, as in BenchRedeemHotSeries) in batches of
// couponkit.MaxJournalBatch, and the engine records each exactly once,
// counted on the lease. It reports journal entries applied per second,
// and checks that every entry was recorded without conflict.
//
// It runs journalRounds rounds of two sub-benchmarks, alternately, each on
// a fresh store: one-entry-per-change (Config.JournalGroup 1: a change per
// entry) and grouped (the default), so that both see the same load of a
// shared machine.
func BenchApplyJournal(b *testing.B, be Backend) {
	for range journalRounds {
		b.Run("one-entry-per-change", func(b *testing.B) { benchApplyJournal(b, be, 1) })
		b.Run("grouped", func(b *testing.B) { benchApplyJournal(b, be, 0) })
	}
}

// journalRounds is how many times BenchApplyJournal runs each way.
const journalRounds = 3

func benchApplyJournal(b *testing.B, be Backend, group int) {
	ctx := context.Background()
	s := be.Open(b)
	e, err := couponkit.New(couponkit.Config{Store: s, Now: func() time.Time { return t0 }, JournalGroup: group,
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("0123456789abcdef0123456789abcdef"), nil }})
	if err != nil {
		b.Fatal(err)
	}
	n := b.N
	sr, err := e.CreateSeries(ctx, RedeemSeries("", limitOf(2*n)))
	if err != nil {
		b.Fatal(err)
	}
	IssuedCoupons(b, s, sr.ID, n, t0)
	g, err := e.GrantLease(ctx, couponkit.LeaseRequest{Till: "till-1", SeriesID: sr.ID, Key: "grant", Uses: int64(n), End: t0.Add(24 * time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	batches := journalBatches(g.Lease.ID, n)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for _, batch := range batches {
		ack, err := e.ApplyJournal(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		for _, x := range ack.Entries {
			if x.Conflicted() {
				b.Fatalf("entry %s conflicted: %+v", x.Key, x.Conflicts)
			}
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "entries/s")
}

// journalBatches is till-1's journal of n uses of lease leaseID, the i-th
// a use of the i-th coupon of IssuedCoupons by its holder, in batches of
// couponkit.MaxJournalBatch.
func journalBatches(leaseID string, n int) []couponkit.JournalBatch {
	var out []couponkit.JournalBatch
	for from := 0; from < n; from += couponkit.MaxJournalBatch {
		b := couponkit.JournalBatch{Till: "till-1"}
		for i := from; i < min(from+couponkit.MaxJournalBatch, n); i++ {
			b.Entries = append(b.Entries, couponkit.JournalEntry{
				Key: fmt.Sprintf("sale-%d", i), LeaseID: leaseID, Code: fmt.Sprintf("HOT%07d", i),
				Customer: fmt.Sprintf("cust%d", i), Bill: series.Money{Amount: decimal.NewFromInt(40), Currency: "EUR"},
				At: t0.Add(time.Duration(i) * time.Millisecond),
			})
		}
		out = append(out, b)
	}
	return out
}

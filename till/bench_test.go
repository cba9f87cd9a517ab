package till_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/till"
)

// BenchmarkOfflineRedeem is the till's offline redemption on a SQLite file
// with immediate transactions, in SQLite's default rollback journal and in
// WAL mode, both fully synchronous (an acknowledged sale survives a power
// cut): each iteration is one Journal.Redeem of a new
// sale and code within a lease, decided under the synced series' rules and
// committed with its journal entry. It reports the median and 99th
// percentile latency and redemptions per second.
func BenchmarkOfflineRedeem(b *testing.B) {
	for _, mode := range []struct{ name, pragmas string }{
		{"rollback", ""},
		{"wal", "&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"},
	} {
		b.Run(mode.name, func(b *testing.B) { benchOfflineRedeem(b, mode.pragmas) })
	}
}

func benchOfflineRedeem(b *testing.B, pragmas string) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "till.db")+"?_txlock=immediate&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"+pragmas)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	j, err := till.Open(ctx, db, skew)
	if err != nil {
		b.Fatal(err)
	}
	if err := j.PutSeries(ctx, permissive()); err != nil {
		b.Fatal(err)
	}
	l, err := lease.New(lease.Params{ID: "l1", Till: "till-1", SeriesID: "s1", Slice: lease.Slice{Uses: int64(b.N) + 1}, End: t0.Add(24 * time.Hour)}, t0)
	if err != nil {
		b.Fatal(err)
	}
	l.Allowance = l.Granted.Uses // the codes are unknown to the till: every use is unverified
	if err := j.PutLease(ctx, l); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		u := use(fmt.Sprintf("sale-%d", i), t0.Add(time.Duration(i)*time.Millisecond))
		u.Code = fmt.Sprintf("CODE%d", i)
		t := time.Now()
		if _, err := j.Redeem(ctx, u, nil); err != nil {
			b.Fatalf("use %d: %v", i, err)
		}
		lat = append(lat, time.Since(t))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "redemptions/s")
}

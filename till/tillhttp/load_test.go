package tillhttp_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/couponkit/couponkit/till"
	"github.com/couponkit/couponkit/till/tillhttp"
	"github.com/shopspring/decimal"
)

// The central's load per redemption: how many write transactions (store
// changes) and HTTP requests a redemption costs the central, online and
// through a till's lease and journal.

// applyCounter is a memstore that counts the changes it applies: the
// central's write transactions. It keeps the leases (store.LeaseStore).
type applyCounter struct {
	*memstore.Store
	applies atomic.Int64
}

var _ store.LeaseStore = (*applyCounter)(nil)

func (s *applyCounter) Apply(ctx context.Context, ch *store.Change) error {
	s.applies.Add(1)
	return s.Store.Apply(ctx, ch)
}

// loadCentral is a central on an applyCounter behind the till handler,
// counting requests, with n coupons issued to n customers.
type loadCentral struct {
	ctx      context.Context
	st       *applyCounter
	e        *couponkit.Engine
	s        series.Series
	codes    []string
	requests atomic.Int64
	client   *tillhttp.Client
}

func newLoadCentral(b *testing.B, n, group int) *loadCentral {
	c := &loadCentral{ctx: context.Background(), st: &applyCounter{Store: memstore.New()}}
	e, err := couponkit.New(couponkit.Config{Store: c.st, Now: func() time.Time { return t0 }, JournalGroup: group,
		CodeKey:        func(context.Context, string) ([]byte, error) { return []byte("test key"), nil },
		LeaseAllowance: func(_ *series.Series, uses int64) int64 { return uses }})
	if err != nil {
		b.Fatal(err)
	}
	c.e = e
	c.s, err = e.CreateSeries(c.ctx, series.Series{Name: "load", TimeZone: "UTC",
		Source:     series.Source{Kind: series.Generated, Length: 10, Alphabet: series.Alphanumeric},
		Redemption: limits.RedemptionRules{MaxPerSeries: limits.Limit(2 * n)}, Expiry: series.Expiry{Kind: series.Never},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"}})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		r, err := e.Issue(c.ctx, couponkit.IssueRequest{SeriesID: c.s.ID, Customer: couponkit.ByID(fmt.Sprintf("cust-%d", i))})
		if err != nil {
			b.Fatal(err)
		}
		c.codes = append(c.codes, r.Coupon.Code)
	}
	h := tillhttp.NewHandler(e, func(till string) ([]byte, bool) { return []byte("secret-1"), till == "till-1" })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	b.Cleanup(srv.Close)
	c.client = &tillhttp.Client{BaseURL: srv.URL, Till: "till-1", Secret: []byte("secret-1"), Timeout: 5 * time.Second, Backoff: time.Millisecond}
	return c
}

// BenchmarkCentralLoad measures what n redemptions cost the central, in
// store changes (its write transactions), HTTP requests and time spent in
// calls to it per redemption (on a memstore: the engine's and the HTTP
// binding's work, not a database's): online, each use decided by the central (RedeemAtTill); and
// leased, a till granted a lease (one request), fetching the series' rules
// (one), making the uses offline in its SQLite journal and syncing them
// in batches of couponkit.MaxJournalBatch, the central recording each
// batch in groups (the default) or, for comparison, one entry per change.
func BenchmarkCentralLoad(b *testing.B) {
	b.Run("online", func(b *testing.B) {
		c := newLoadCentral(b, b.N, 0)
		c.measure(b, func() time.Duration {
			start := time.Now()
			for i := range b.N {
				_, err := c.client.RedeemAtTill(c.ctx, couponkit.TillRedeemRequest{Till: "till-1", Key: fmt.Sprintf("sale-%d", i),
					SeriesID: c.s.ID, Code: c.codes[i], Customer: fmt.Sprintf("cust-%d", i), Bill: eur(50), At: t0})
				if err != nil {
					b.Fatal(err)
				}
			}
			return time.Since(start)
		})
	})
	for _, v := range []struct {
		name  string
		group int
	}{{"leased", 0}, {"leased-one-entry-per-change", 1}} {
		b.Run(v.name, func(b *testing.B) {
			c := newLoadCentral(b, b.N, v.group)
			j := c.journal(b)
			c.measure(b, func() time.Duration { return c.leased(b, j) })
		})
	}
}

// measure runs work, which returns the time it spent waiting for the
// central, and reports the changes and requests it cost per redemption,
// and that time per redemption.
func (c *loadCentral) measure(b *testing.B, work func() time.Duration) {
	w0, r0 := c.st.applies.Load(), c.requests.Load()
	b.ResetTimer()
	central := work()
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(c.st.applies.Load()-w0)/n, "writes/redemption")
	b.ReportMetric(float64(c.requests.Load()-r0)/n, "requests/redemption")
	b.ReportMetric(float64(central.Microseconds())/n, "central-µs/redemption")
}

// journal opens till-1's journal on a SQLite file.
func (c *loadCentral) journal(b *testing.B) *till.Journal {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "till.db")+"?_txlock=immediate&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	j, err := till.Open(c.ctx, db, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	return j
}

// leased is a till's day: a lease of b.N uses, the series' rules, b.N
// uses offline, and the sync of the journal. It returns the time spent
// in the calls to the central.
func (c *loadCentral) leased(b *testing.B, j *till.Journal) time.Duration {
	start := time.Now()
	g, err := c.client.GrantLease(c.ctx, couponkit.LeaseRequest{Till: "till-1", SeriesID: c.s.ID, Key: "grant", Uses: int64(b.N), End: t0.Add(8 * time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	s, err := c.client.Series(c.ctx, c.s.ID)
	if err != nil {
		b.Fatal(err)
	}
	central := time.Since(start)
	b.StopTimer() // the till's own work
	if err := j.PutSeries(c.ctx, s); err != nil {
		b.Fatal(err)
	}
	if err := j.PutLease(c.ctx, g.Lease); err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		u := till.Use{Key: fmt.Sprintf("sale-%d", i), SeriesID: c.s.ID, Code: c.codes[i], Customer: fmt.Sprintf("cust-%d", i),
			Bill: "50", Currency: "EUR", At: t0.Add(time.Duration(i) * time.Millisecond)}
		if _, err := j.Redeem(c.ctx, u, nil); err != nil {
			b.Fatalf("use %d: %v", i, err)
		}
	}
	b.StartTimer()
	start = time.Now()
	n, err := j.Sync(c.ctx, "till-1", c.client, couponkit.MaxJournalBatch)
	if err != nil || n != b.N {
		b.Fatalf("synced %d of %d: %v", n, b.N, err)
	}
	central += time.Since(start) // with the till's marking of what was synced
	es, err := c.st.TillEntries(c.ctx, store.TillEntryQuery{Conflicted: true})
	if err != nil || len(es) > 0 {
		b.Fatalf("conflicted entries: %v, %v", es, err)
	}
	return central
}

package till_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
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

// TestSyncOverHTTP: a till leases over HTTP, sells offline into its
// SQLite journal, and syncs; an upload whose acknowledgement the till
// never marked (a crash) is sent again and counted once.
func TestSyncOverHTTP(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	e, err := couponkit.New(couponkit.Config{Store: st, Now: func() time.Time { return t0 },
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("test key"), nil }})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.CreateSeries(ctx, series.Series{Name: "s", TimeZone: "UTC",
		Source:     series.Source{Kind: series.Generated, Length: 8, Alphabet: series.Alphanumeric},
		Redemption: limits.RedemptionRules{MaxPerSeries: 10}, Expiry: series.Expiry{Kind: series.Never},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(tillhttp.NewHandler(e, func(string) ([]byte, bool) { return []byte("pw"), true }))
	defer srv.Close()
	c := &tillhttp.Client{BaseURL: srv.URL, Till: "till-1", Secret: []byte("pw"), Backoff: time.Millisecond}
	g, err := c.GrantLease(ctx, couponkit.LeaseRequest{Till: "till-1", SeriesID: s.ID, Key: "g1", Uses: 3, End: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	j := openJournal(t, openDB(t, filepath.Join(t.TempDir(), "till.db")))
	g.Lease.Allowance = 3 // the till has not synced the codes it sells
	if err := j.PutLease(ctx, g.Lease); err != nil {
		t.Fatal(err)
	}
	synced, err := c.Series(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	putSeries(t, j, synced)
	for i, cust := range []string{"alice", "bob"} {
		is, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(cust)})
		if err != nil {
			t.Fatal(err)
		}
		u := till.Use{Key: "sale-" + cust, SeriesID: s.ID, Code: is.Coupon.Code, Customer: cust, Bill: "50", Currency: "EUR", At: t0.Add(time.Duration(i) * time.Minute)}
		if _, err := j.Redeem(ctx, u, nil); err != nil {
			t.Fatal(err)
		}
	}
	// The first entry reached the central, but the till crashed before
	// marking it synced.
	pending, err := j.Pending(ctx, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	first := couponkit.JournalEntry{Key: pending[0].Key, LeaseID: pending[0].LeaseID, Code: pending[0].Code, Customer: pending[0].Customer,
		Bill: series.Money{Amount: decimal.RequireFromString(pending[0].Bill), Currency: "EUR"}, At: pending[0].At}
	if _, err := c.UploadJournal(ctx, couponkit.JournalBatch{Till: "till-1", Entries: []couponkit.JournalEntry{first}}); err != nil {
		t.Fatal(err)
	}
	n, err := j.Sync(ctx, "till-1", c, 1)
	if err != nil || n != 2 {
		t.Fatalf("Sync: %d acknowledged, %v; want 2", n, err)
	}
	if p, err := j.Pending(ctx, 0, 0); err != nil || len(p) != 0 {
		t.Fatalf("pending after a sync: %v, %+v", err, p)
	}
	l, err := st.Lease(ctx, g.Lease.ID)
	if err != nil || l.Used.Uses != 2 {
		t.Fatalf("the central's lease after the sync: %v, used %d, want 2", err, l.Used.Uses)
	}
	recs, err := st.TillEntries(ctx, store.TillEntryQuery{Till: "till-1"})
	if err != nil || len(recs) != 2 {
		t.Fatalf("the central recorded %d entries (%v), want 2", len(recs), err)
	}
	if n, err := j.Sync(ctx, "till-1", c, 0); err != nil || n != 0 {
		t.Errorf("a sync with nothing pending: %d, %v", n, err)
	}
}

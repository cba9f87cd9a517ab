package couponkit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/memstore"
)

// TestApplyJournalWrites counts the changes ApplyJournal makes for worked
// batches: disjoint uses in groups of 100, a group closed by a second use
// of a code, by a second use of a customer and by a reversal of a use it
// holds, and nothing at all for a batch uploaded again.
func TestApplyJournalWrites(t *testing.T) {
	ctx := context.Background()
	st := &raceStore{leaseStoreAll: memstore.New()}
	e, err := couponkit.New(couponkit.Config{Store: st, Now: func() time.Time { return syncT0 },
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("0123456789abcdef0123456789abcdef"), nil }})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.CreateSeries(ctx, series.Series{Name: "w", TimeZone: "UTC", Source: series.Source{Kind: series.Generated, Length: 8, Alphabet: series.Alphanumeric},
		Expiry: series.Expiry{Kind: series.Never}, Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(1), Currency: "EUR"},
		Redemption: limits.RedemptionRules{AnyoneMayRedeem: true, Repeat: true, MaxPerCode: 5, MaxPerCustomer: 5, MaxPerSeries: 2000}})
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for i := range 260 {
		r, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(fmt.Sprintf("c%d", i))})
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, r.Coupon.Code)
	}
	g, err := e.GrantLease(ctx, couponkit.LeaseRequest{Till: "till-1", SeriesID: s.ID, Key: "g", Uses: 1000, End: syncT0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	use := func(code, customer string) couponkit.JournalEntry {
		n++
		return couponkit.JournalEntry{Key: fmt.Sprintf("k%d", n), LeaseID: g.Lease.ID, Code: code, Customer: customer, Bill: syncBill, At: syncT0}
	}
	var disjoint []couponkit.JournalEntry
	for i := range 250 {
		disjoint = append(disjoint, use(codes[i], fmt.Sprintf("c%d", i)))
	}
	first := use(codes[250], "x1")
	reversal := first
	n++
	reversal.Key, reversal.Reverses = fmt.Sprintf("k%d", n), first.Key
	for _, c := range []struct {
		name    string
		entries []couponkit.JournalEntry
		changes int
	}{
		{"250 disjoint uses", disjoint, 3},
		{"the same batch again", disjoint, 0},
		{"a code used twice", []couponkit.JournalEntry{use(codes[251], "x2"), use(codes[252], "x3"), use(codes[251], "x4")}, 2},
		{"a customer using twice", []couponkit.JournalEntry{use(codes[253], "x5"), use(codes[254], "x6"), use(codes[255], "x5")}, 2},
		{"a use and its reversal", []couponkit.JournalEntry{first, use(codes[256], "x7"), reversal}, 2},
	} {
		before := st.applies
		ack, err := e.ApplyJournal(ctx, couponkit.JournalBatch{Till: "till-1", Entries: c.entries})
		if err != nil || len(ack.Entries) != len(c.entries) {
			t.Fatalf("%s: %d entries acknowledged, %v", c.name, len(ack.Entries), err)
		}
		for _, x := range ack.Entries {
			if x.Conflicted() {
				t.Errorf("%s: %s conflicted: %+v", c.name, x.Key, x.Conflicts)
			}
		}
		if got := st.applies - before; got != c.changes {
			t.Errorf("%s: %d changes, want %d", c.name, got, c.changes)
		}
	}
	l, err := st.Lease(ctx, g.Lease.ID)
	if err != nil || l.Used.Uses != 250+3+3+2 || l.Version != 1+3+2+2+1 { // a reversal leaves its lease as it is
		t.Errorf("the lease counts every use, and a version per change: %+v, %v", l, err)
	}
}

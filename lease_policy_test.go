package couponkit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/shopspring/decimal"
)

// TestLeaseAllowancePolicy: the operator's policy sets a lease's
// allowance of unverified uses, and the first conflicted use past it is
// flagged AllowanceExceeded.
func TestLeaseAllowancePolicy(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
	var asked []int64
	e, err := couponkit.New(couponkit.Config{Store: memstore.New(), Now: func() time.Time { return now },
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("k"), nil },
		LeaseAllowance: func(s *series.Series, uses int64) int64 {
			asked = append(asked, uses)
			return uses / 4
		}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.CreateSeries(ctx, series.Series{Name: "s", TimeZone: "UTC",
		Source:     series.Source{Kind: series.Generated, Length: 8, Alphabet: series.Alphanumeric},
		Redemption: limits.RedemptionRules{MaxPerSeries: 20}, Expiry: series.Expiry{Kind: series.Never},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(1), Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := e.GrantLease(ctx, couponkit.LeaseRequest{Till: "t", SeriesID: s.ID, Key: "g", Uses: 4, End: now.Add(time.Hour)})
	if err != nil || g.Lease.Allowance != 1 {
		t.Fatalf("grant of 4 under a quarter policy: %v, allowance %d, want 1", err, g.Lease.Allowance)
	}
	u, err := e.TopUpLease(ctx, couponkit.LeaseCall{Till: "t", LeaseID: g.Lease.ID, Key: "u", Uses: 3})
	if err != nil || u.Lease.Allowance != 1 {
		t.Fatalf("a top-up of 3 under a quarter policy adds nothing: %v, allowance %d", err, u.Lease.Allowance)
	}
	if len(asked) != 2 || asked[0] != 4 || asked[1] != 3 {
		t.Errorf("the policy was asked about %v uses, want [4 3]", asked)
	}
	var x []couponkit.JournalEntry
	for i, who := range []string{"a", "b"} {
		c, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(who)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Revoke(ctx, couponkit.RevokeRequest{SeriesID: s.ID, Codes: []string{c.Coupon.Code}, Actor: "op", Reason: "fraud"})
		if err != nil {
			t.Fatal(err)
		}
		x = append(x, couponkit.JournalEntry{Key: string(rune('1' + i)), LeaseID: g.Lease.ID, Code: c.Coupon.Code, Customer: who, At: now})
	}
	ack, err := e.ApplyJournal(ctx, couponkit.JournalBatch{Till: "t", Entries: x})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ack.Entries[0].Conflicts); n != 1 {
		t.Errorf("the first conflicted use, within the allowance: %d conflicts, want 1 (Revoked)", n)
	}
	last := ack.Entries[1].Conflicts[len(ack.Entries[1].Conflicts)-1]
	if !errors.Is(errcode.New(last.Code, "", ""), errcode.ErrAllowanceExceeded) || last.Params.Limit != 1 || last.Params.Used != 2 {
		t.Errorf("the second conflicted use: %+v, want AllowanceExceeded with 2 of 1 used", last)
	}
}

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
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/shopspring/decimal"
)

// noLeases hides a store's lease methods: a store that keeps no leases.
type noLeases struct{ store.Store }

func TestLeaseNeedsALeaseStore(t *testing.T) {
	e, err := couponkit.New(couponkit.Config{Store: noLeases{memstore.New()}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.GrantLease(context.Background(), couponkit.LeaseRequest{Till: "t", SeriesID: "s", Key: "k", Uses: 1, End: time.Now().Add(time.Hour)})
	if !errors.Is(err, errcode.ErrInvalidArgument) {
		t.Fatalf("a grant on a store without leases: err = %v, want InvalidArgument", err)
	}
}

func TestLeaseBadInputChangesNothing(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	now := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
	e, err := couponkit.New(couponkit.Config{Store: st, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.CreateSeries(ctx, series.Series{Name: "s", TimeZone: "UTC", Source: series.Source{Kind: series.Uploaded},
		Redemption: limits.RedemptionRules{MaxPerSeries: 5}, Expiry: series.Expiry{Kind: series.Never},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(1), Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	ok := couponkit.LeaseRequest{Till: "t", SeriesID: s.ID, Key: "k", Uses: 2, End: now.Add(time.Hour)}
	for name, mod := range map[string]func(*couponkit.LeaseRequest){
		"no till":       func(r *couponkit.LeaseRequest) { r.Till = "" },
		"no key":        func(r *couponkit.LeaseRequest) { r.Key = "" },
		"zero uses":     func(r *couponkit.LeaseRequest) { r.Uses = 0 },
		"negative uses": func(r *couponkit.LeaseRequest) { r.Uses = -3 },
		"end now":       func(r *couponkit.LeaseRequest) { r.End = now },
		"control char":  func(r *couponkit.LeaseRequest) { r.Key = "k\n" },
	} {
		req := ok
		mod(&req)
		if _, err := e.GrantLease(ctx, req); !errors.Is(err, errcode.ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want InvalidArgument", name, err)
		}
	}
	c, err := e.Counters(ctx, s.ID)
	if err != nil || c.Uses != 0 {
		t.Fatalf("bad requests moved the series' uses: %v, %+v", err, c)
	}
	if _, err := e.GrantLease(ctx, ok); err != nil {
		t.Fatalf("the good request: %v", err)
	}
	if c, _ := e.Counters(ctx, s.ID); c.Uses != 2 || c.RemainingUses != 3 {
		t.Fatalf("after leasing 2 of 5: %+v", c)
	}
}

package couponkit_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// fuzzWorld is a small store for the fuzz target: a generated series with a
// minimum bill, calendar and places, a common code anyone may redeem, each
// with coupons issued to alice and bob, one of them used, one held.
type fuzzWorld struct {
	e      *couponkit.Engine
	st     store.Store
	codes  []string
	series []string
}

var fuzzStart = time.Date(2030, time.January, 7, 10, 0, 0, 0, time.UTC)

func newFuzzWorld(tb testing.TB) *fuzzWorld {
	ctx := context.Background()
	st := memstore.New()
	e, err := couponkit.New(couponkit.Config{
		Store: st, Now: func() time.Time { return fuzzStart },
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("fuzz key"), nil },
		Rates:   series.FixedRates{{From: "USD", To: "EUR"}: decimal.RequireFromString("0.5")},
	})
	if err != nil {
		tb.Fatal(err)
	}
	w := &fuzzWorld{e: e, st: st}
	gen := tenOff()
	gen.Redemption.Weekdays = limits.WeekdaysOf(time.Monday, time.Tuesday)
	gen.Redemption.Places = limits.NewPlaceSet(limits.PlaceRef{Kind: limits.Store, ID: "s1"})
	common := series.Series{
		Name: "common", TimeZone: "UTC",
		Source:     series.Source{Kind: series.Common, Code: "WELCOME10"},
		Expiry:     series.Expiry{Kind: series.DaysFromIssue, N: 10},
		Redemption: limits.RedemptionRules{AnyoneMayRedeem: true, Repeat: true, MaxPerCustomer: 2},
		Discount:   series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(10), Currency: "EUR"},
	}
	for _, s := range []series.Series{gen, common} {
		s, err := e.CreateSeries(ctx, s)
		if err != nil {
			tb.Fatal(err)
		}
		w.series = append(w.series, s.ID)
		for _, who := range []string{"alice", "bob"} {
			r, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(who)})
			if err != nil {
				tb.Fatal(err)
			}
			w.codes = append(w.codes, r.Coupon.Code)
		}
	}
	bill := series.Money{Amount: decimal.NewFromInt(60), Currency: "EUR"}
	place := limits.Place{Store: "s1"}
	if _, err := e.Redeem(ctx, couponkit.RedeemRequest{Code: w.codes[0], Customer: couponkit.ByID("alice"), IdempotencyKey: "k1", Bill: bill, Place: place}); err != nil {
		tb.Fatal(err)
	}
	if _, err := e.Hold(ctx, couponkit.HoldRequest{RedeemRequest: couponkit.RedeemRequest{Code: w.codes[1], Customer: couponkit.ByID("bob"), IdempotencyKey: "h1", Bill: bill, Place: place}, TTL: time.Hour}); err != nil {
		tb.Fatal(err)
	}
	return w
}

// dump is everything the store holds, read through the store contract.
type dump struct {
	Series      []series.Series
	Coupons     []coupon.Coupon
	Redemptions []coupon.Redemption
	Events      []coupon.Event
	Counters    []store.Count
}

func (w *fuzzWorld) dump(tb testing.TB) dump {
	ctx := context.Background()
	var d dump
	var err error
	if d.Series, err = w.st.ListSeries(ctx, store.SeriesQuery{}); err != nil {
		tb.Fatal(err)
	}
	if d.Coupons, err = w.st.ListCoupons(ctx, store.CouponQuery{}); err != nil {
		tb.Fatal(err)
	}
	if d.Redemptions, err = w.st.ListRedemptions(ctx, store.RedemptionQuery{}); err != nil {
		tb.Fatal(err)
	}
	if d.Events, err = w.st.Events(ctx, store.EventQuery{}); err != nil {
		tb.Fatal(err)
	}
	var keys []store.CounterKey
	for _, s := range w.series {
		for _, c := range []limits.Counter{limits.SeriesUses, limits.SeriesIssued} {
			keys = append(keys, store.CounterKey{Counter: c, Series: s})
		}
		for _, who := range []string{"alice", "bob", "carol"} {
			keys = append(keys, store.CounterKey{Counter: limits.CustomerSeriesUses, Series: s, Customer: who},
				store.CounterKey{Counter: limits.CustomerIssued, Series: s, Customer: who})
		}
	}
	for _, c := range d.Coupons {
		keys = append(keys, store.CounterKey{Counter: limits.CodeUses, Series: c.SeriesID, Code: c.Canonical, Holder: store.Slot(&c)})
		for _, who := range []string{"alice", "bob", "carol"} {
			keys = append(keys, store.CounterKey{Counter: limits.CustomerCodeUses, Series: c.SeriesID, Code: c.Canonical, Holder: store.Slot(&c), Customer: who})
		}
	}
	d.Counters = make([]store.Count, len(keys))
	if err := w.st.Counters(ctx, keys, d.Counters); err != nil {
		tb.Fatal(err)
	}
	return d
}

// FuzzRedeemRequest throws arbitrary redemption requests at Validate,
// Redeem and Hold. Whatever the input: no panic; every error is typed (an
// *errcode.Error or a refusal, never a store failure or conflict); and a
// refused call changes nothing in the store; Validate changes nothing ever.
func FuzzRedeemRequest(f *testing.F) {
	f.Add(uint8(0), uint8(0), "", "alice", "k2", "60", "EUR", "s1", "")
	f.Add(uint8(1), uint8(1), "", "alice", "k1", "60", "EUR", "s1", "")
	f.Add(uint8(2), uint8(2), "", "carol", "k3", "10", "USD", "", "t")
	f.Add(uint8(0), uint8(3), "wel come", "bob", "h1", "-1", "", "s1", "x")
	f.Add(uint8(1), uint8(0), "ſUMMER10", "\x00", "k", "1e400", "EUR", "\xff", "")
	f.Add(uint8(2), uint8(4), "SERIES?", "bob", "k\n", "60.000000000000000000001", "JPY", "s1", "")
	// The world is built once and again only after a call changed it, so
	// that most executions (refused ones) cost no setup.
	var mu sync.Mutex
	var w *fuzzWorld
	var want dump
	f.Fuzz(func(t *testing.T, op, pick uint8, code, customer, key, bill, currency, place, seriesID string) {
		mu.Lock()
		defer mu.Unlock()
		if w == nil {
			w = newFuzzWorld(t)
			want = w.dump(t)
		}
		if int(pick) < len(w.codes) {
			code = w.codes[pick]
		} else if pick%2 == 0 && code == "" {
			code = w.codes[int(pick)%len(w.codes)] + code
		}
		if seriesID == "s" {
			seriesID = w.series[int(pick)%len(w.series)]
		}
		amount, err := decimal.NewFromString(bill)
		if err != nil {
			amount = decimal.NewFromInt(int64(len(bill)))
		}
		req := couponkit.RedeemRequest{
			Code: code, SeriesID: seriesID, Customer: couponkit.ByID(customer), IdempotencyKey: key,
			Bill:  series.Money{Amount: amount, Currency: currency},
			Place: limits.Place{Store: place, Till: place},
		}
		before := want
		ctx := context.Background()
		switch op % 3 {
		case 0:
			_, err = w.e.Validate(ctx, req)
		case 1:
			_, err = w.e.Redeem(ctx, req)
		default:
			_, err = w.e.Hold(ctx, couponkit.HoldRequest{RedeemRequest: req, TTL: time.Duration(pick+1) * time.Minute})
		}
		if err != nil {
			switch errcode.CodeOf(err) {
			case 0:
				t.Fatalf("an untyped error: %v", err)
			case errcode.Unavailable, errcode.Conflict, errcode.GuardFailed:
				t.Fatalf("bad input answered as a store failure or conflict: %v", err)
			}
			var ce *errcode.Error
			if !errors.As(err, &ce) {
				t.Fatalf("errors.As finds no *errcode.Error in %v", err)
			}
		}
		if err != nil || op%3 == 0 {
			if after := w.dump(t); !reflect.DeepEqual(before, after) {
				t.Fatalf("a refused or dry-run call changed the store (op %d, error %v)", op%3, err)
			}
			return
		}
		w = nil // a use was made: the next execution starts afresh
	})
}

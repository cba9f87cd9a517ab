package observe

import (
	"context"
	"errors"
	"testing"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// fullStore implements every optional interface: memstore's and ReadCode.
type fullStore struct{ *memstore.Store }

func (s fullStore) ReadCode(ctx context.Context, seriesID, code string, counters []store.CouponCounter, dst []store.CodeRead) ([]store.CodeRead, error) {
	return store.ReadCodeWith(ctx, s, seriesID, code, counters, dst)
}

// nop observes nothing.
type nop struct{}

func (nop) Start(ctx context.Context, _ Op) (context.Context, func(Outcome)) {
	return ctx, func(Outcome) {}
}

// TestStoreKeepsOptionalInterfaces wraps, for each of the 32 combinations
// of optional interfaces, a store that has exactly those, and checks that
// the wrapper has exactly the same.
func TestStoreKeepsOptionalInterfaces(t *testing.T) {
	full := fullStore{memstore.New()}
	if got := optional(full); got != 31 {
		t.Fatalf("the full store implements %05b, want every optional interface", got)
	}
	for m := range uint(32) {
		inner := wrap(&observed{inner: full, obs: nop{}}, m)
		if got := optional(inner); got != m {
			t.Fatalf("inner store of mask %05b implements %05b", m, got)
		}
		if got := optional(Store(inner, &Recorder{})); got != m {
			t.Errorf("wrapper of a store implementing %05b implements %05b", m, got)
		}
	}
}

func TestStoreNilObserver(t *testing.T) {
	st := memstore.New()
	if got := Store(st, nil); got != store.Store(st) {
		t.Errorf("Store(st, nil) = %T, want st itself", got)
	}
}

// TestStoreReportsCalls: each call through the wrapper is reported once,
// under its name, with its outcome; a record not found is a refusal.
func TestStoreReportsCalls(t *testing.T) {
	ctx := context.Background()
	var rec Recorder
	st := Store(fullStore{memstore.New()}, &rec)
	if _, err := st.Series(ctx, "nope"); !errors.Is(err, errcode.ErrNotFound) {
		t.Fatalf("Series of a missing id: %v", err)
	}
	if _, err := st.(store.CodeReader).ReadCode(ctx, "", "A1", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.(store.LeaseStore).Leases(ctx, store.LeaseQuery{}); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.NextIndex(cctx, "s"); err == nil {
		t.Fatal("NextIndex with a cancelled context succeeded")
	}
	want := []struct {
		op     Op
		result Result
		codes  int
	}{
		{StoreSeries, Refused, 1},
		{StoreReadCode, OK, 0},
		{StoreLeases, OK, 0},
		{StoreNextIndex, Failed, -1},
	}
	got := rec.Records()
	if len(got) != len(want) {
		t.Fatalf("recorded %d calls, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Op != w.op || g.Outcome.Result != w.result || (w.codes >= 0 && len(g.Outcome.Codes) != w.codes) {
			t.Errorf("call %d: %s %s %v, want %s %s", i, g.Op, g.Outcome.Result, g.Outcome.Codes, w.op, w.result)
		}
		if g.Outcome.Latency < 0 {
			t.Errorf("call %d: negative latency %v", i, g.Outcome.Latency)
		}
	}
	if !got[0].Op.IsStore() || Redeem.IsStore() {
		t.Error("IsStore tells store calls from engine operations wrongly")
	}
}

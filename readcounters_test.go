package couponkit_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// countingStore is memstore recording the counters each ReadCode asks
// for and the keys of each Counters call.
type countingStore struct {
	*memstore.Store
	mu       sync.Mutex
	reads    [][]limits.Counter
	counters [][]limits.Counter
}

func (s *countingStore) ReadCode(ctx context.Context, seriesID, code string, ccs []store.CouponCounter, dst []store.CodeRead) ([]store.CodeRead, error) {
	s.record(&s.reads, len(ccs), func(i int) limits.Counter { return ccs[i].Counter })
	return s.Store.ReadCode(ctx, seriesID, code, ccs, dst)
}

func (s *countingStore) Counters(ctx context.Context, keys []store.CounterKey, out []store.Count) error {
	s.record(&s.counters, len(keys), func(i int) limits.Counter { return keys[i].Counter })
	return s.Store.Counters(ctx, keys, out)
}

// record appends to calls the n counters of one call, kind(i) the i-th.
func (s *countingStore) record(calls *[][]limits.Counter, n int, kind func(int) limits.Counter) {
	kinds := make([]limits.Counter, n)
	for i := range kinds {
		kinds[i] = kind(i)
	}
	s.mu.Lock()
	*calls = append(*calls, kinds)
	s.mu.Unlock()
}

// take returns what was recorded since the last take, and forgets it.
func (s *countingStore) take() (reads, counters [][]limits.Counter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reads, counters = s.reads, s.counters
	s.reads, s.counters = nil, nil
	return reads, counters
}

// A redemption reads only the counters its series' rules decide on: the
// customer's uses of the series (whose last time a minimum gap is decided
// on) only once the engine has met a series with a gap. A series with a
// gap met first by an engine that did not ask for that counter reads it
// on its own, so that the gap still holds: a second engine over the same
// store, fresh, refuses a use within the gap of one the first made.
func TestRedemptionReadsOnlyTheCountersItNeeds(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: memstore.New()}
	clk := &clock{t: time.Date(2026, time.November, 12, 10, 0, 0, 0, time.UTC)}
	newEngine := func() *couponkit.Engine {
		return must(couponkit.New(couponkit.Config{Store: st, Now: clk.now,
			CodeKey: func(context.Context, string) ([]byte, error) { return []byte("a test key, not a secret"), nil }}))
	}
	e := newEngine()
	plainCfg := tenOff()
	plainCfg.Issuance.MaxPerCustomer = 0
	plain := must(e.CreateSeries(ctx, plainCfg))
	gapCfg := plainCfg
	gapCfg.Name, gapCfg.Redemption.MinGap = "one a day", 24*time.Hour
	gapCfg.Redemption.Repeat, gapCfg.Redemption.MaxPerCustomer = true, 5
	gap := must(e.CreateSeries(ctx, gapCfg))
	issue := func(seriesID, customer string) string {
		return must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: seriesID, Customer: couponkit.ByID(customer)})).Coupon.Code
	}
	redeem := func(e *couponkit.Engine, code, customer, key string) error {
		_, err := e.Redeem(ctx, couponkit.RedeemRequest{Code: code, Customer: couponkit.ByID(customer), IdempotencyKey: key,
			Bill: eur("60")})
		return err
	}
	uses := []limits.Counter{limits.CodeUses, limits.CustomerCodeUses, limits.SeriesUses}
	withGap := append(slices.Clone(uses), limits.CustomerSeriesUses)
	want := func(step string, wantReads, wantCounters [][]limits.Counter) {
		t.Helper()
		reads, counters := st.take()
		if !slices.EqualFunc(reads, wantReads, slices.Equal) || !slices.EqualFunc(counters, wantCounters, slices.Equal) {
			t.Errorf("%s: ReadCode asked for %v and Counters for %v, want %v and %v", step, reads, counters, wantReads, wantCounters)
		}
	}

	codes := []string{issue(plain.ID, "alice"), issue(gap.ID, "bob"), issue(gap.ID, "carol")}
	st.take()
	if err := redeem(e, codes[0], "alice", "k1"); err != nil {
		t.Fatal(err)
	}
	want("a series without a gap", [][]limits.Counter{uses}, nil)
	if err := redeem(e, codes[1], "bob", "k2"); err != nil {
		t.Fatal(err)
	}
	want("the first series with a gap", [][]limits.Counter{uses}, [][]limits.Counter{{limits.CustomerSeriesUses}})
	if err := redeem(e, codes[2], "carol", "k3"); err != nil {
		t.Fatal(err)
	}
	want("once a gap was met", [][]limits.Counter{withGap}, nil)

	clk.advance(time.Hour)
	fresh := newEngine()
	err := redeem(fresh, codes[1], "bob", "k4")
	var re *refusal.Error
	if !errors.As(err, &re) || len(re.Refusals) != 1 || re.Refusals[0].Rule != refusal.RedemptionGap {
		t.Fatalf("bob's second use an hour after his first, by an engine that had not met a gap: %v, want refused by the gap", err)
	}
	want("a fresh engine meeting a gap", [][]limits.Counter{uses}, [][]limits.Counter{{limits.CustomerSeriesUses}})
}

// Issuing reads the customer's issue counter only where the series' rules
// decide on it (a per-customer limit or a gap between issues), alone and
// in a batch, and bumps it either way: a limit added to the series later
// counts the coupons issued before it.
func TestIssuanceReadsOnlyTheCountersItNeeds(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: memstore.New()}
	clk := &clock{t: time.Date(2026, time.November, 12, 10, 0, 0, 0, time.UTC)}
	e := must(couponkit.New(couponkit.Config{Store: st, Now: clk.now,
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("a test key, not a secret"), nil }}))
	plainCfg := tenOff()
	plainCfg.Issuance.MaxPerCustomer = 0
	plain := must(e.CreateSeries(ctx, plainCfg))
	gapCfg := plainCfg
	gapCfg.Name, gapCfg.Issuance.MinGap = "one a day", 24*time.Hour
	gap := must(e.CreateSeries(ctx, gapCfg))
	limited := must(e.CreateSeries(ctx, tenOff()))
	series := []limits.Counter{limits.SeriesIssued}
	both := []limits.Counter{limits.SeriesIssued, limits.CustomerIssued}
	for _, c := range []struct {
		name     string
		seriesID string
		want     []limits.Counter
	}{{"no customer rule", plain.ID, series}, {"a gap between issues", gap.ID, both}, {"a per-customer limit", limited.ID, both}} {
		st.take()
		must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: c.seriesID, Customer: couponkit.ByID("alice")}))
		if _, counters := st.take(); len(counters) == 0 || !slices.Equal(counters[0], c.want) {
			t.Errorf("%s: Issue's first Counters call asked for %v, want %v", c.name, counters, c.want)
		}
		must(e.IssueBatch(ctx, []couponkit.IssueRequest{{SeriesID: c.seriesID, Customer: couponkit.ByID("bob")},
			{SeriesID: c.seriesID, Customer: couponkit.ByID("carol")}}))
		wantBatch := c.want
		if len(c.want) > 1 {
			wantBatch = []limits.Counter{limits.SeriesIssued, limits.CustomerIssued, limits.CustomerIssued}
		}
		if _, counters := st.take(); len(counters) == 0 || !slices.Equal(counters[0], wantBatch) {
			t.Errorf("%s: IssueBatch's first Counters call asked for %v, want %v", c.name, counters, wantBatch)
		}
	}

	must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: plain.ID, Customer: couponkit.ByID("alice")}))
	cfg := must(e.Series(ctx, plain.ID))
	cfg.Issuance.MaxPerCustomer = 2
	must(e.UpdateSeries(ctx, cfg))
	_, err := e.Issue(ctx, couponkit.IssueRequest{SeriesID: plain.ID, Customer: couponkit.ByID("alice")})
	var re *refusal.Error
	if !errors.As(err, &re) || len(re.Refusals) != 1 || re.Refusals[0].Rule != refusal.CustomerIssues {
		t.Fatalf("a third coupon to alice once the series allows two a customer: %v, want refused by the customer limit", err)
	}
}

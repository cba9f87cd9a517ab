package couponkit_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/couponkit/couponkit/store/sqlite"
)

// Grouped sync: ApplyJournal records a batch in few changes with exactly
// the outcome of recording its entries one at a time. Two engines over
// fresh stores, one grouping (the default) and one not (JournalGroup 1),
// run the same random history of journal batches, online uses, reclaims
// and revocations, and must agree on everything observable.

// leaseStoreAll is a store that keeps leases.
type leaseStoreAll interface {
	store.Store
	store.LeaseStore
}

// raceStore runs race once, just before the first Apply that writes the
// lease an online use by race's till would draw on: an online use racing
// a sync for the same lease, which makes that write conflict. It counts
// the Apply calls.
type raceStore struct {
	leaseStoreAll
	race    func()
	till    string
	applies int
}

func (s *raceStore) Apply(ctx context.Context, ch *store.Change) error {
	s.applies++
	if s.race != nil && len(ch.TillEntries) > 0 {
		if id := s.onlineLease(ctx); id != "" && slices.ContainsFunc(ch.Leases, func(w store.LeaseWrite) bool { return w.Lease.ID == id }) {
			r := s.race
			s.race = nil
			r()
		}
	}
	return s.leaseStoreAll.Apply(ctx, ch)
}

// onlineLease is the lease an online use by s.till draws on (see
// Engine.RedeemAtTill), or "".
func (s *raceStore) onlineLease(ctx context.Context) string {
	ls, _ := s.Leases(ctx, store.LeaseQuery{Till: s.till, Status: lease.Open})
	best := lease.Lease{}
	for _, l := range ls {
		if l.Left().Uses > 0 && (best.ID == "" || l.End.Before(best.End)) {
			best = l
		}
	}
	return best.ID
}

// syncSide is one engine of a syncPair.
type syncSide struct {
	e  *couponkit.Engine
	st *raceStore
}

// syncPair runs the same history on a grouping engine and on one that
// records each entry on its own.
type syncPair struct {
	ctx    context.Context
	now    time.Time
	sides  [2]*syncSide
	series string
	codes  []string // the coupons the journals use
	racers []string // the coupons only the racer uses
	leases map[string][]string
	keys   int
}

var syncT0 = time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)

func newSyncPair(t *rapid.T, open func() leaseStoreAll, gap time.Duration) *syncPair {
	p := &syncPair{ctx: context.Background(), now: syncT0, leases: map[string][]string{}}
	for i, group := range []int{0, 1} {
		n := 0
		st := &raceStore{leaseStoreAll: open()}
		e, err := couponkit.New(couponkit.Config{Store: st, Now: func() time.Time { return p.now }, JournalGroup: group,
			NewID:   func() string { n++; return fmt.Sprintf("id-%d", n) },
			CodeKey: func(context.Context, string) ([]byte, error) { return []byte("0123456789abcdef0123456789abcdef"), nil }})
		if err != nil {
			t.Fatal(err)
		}
		p.sides[i] = &syncSide{e: e, st: st}
	}
	p.setup(t, gap)
	return p
}

// setup makes, on both sides, a series with code and customer levels, its
// coupons, and the tills' leases: a small one, a larger one, and one that
// ends soon (to be reclaimed).
func (p *syncPair) setup(t *rapid.T, gap time.Duration) {
	s := series.Series{Name: "tills", TimeZone: "UTC", Source: series.Source{Kind: series.Generated, Length: 8, Alphabet: series.Alphanumeric},
		Expiry:     series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount:   series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"},
		Redemption: limits.RedemptionRules{AnyoneMayRedeem: true, Repeat: true, MaxPerCode: 3, MaxPerCustomer: 2, MaxPerSeries: limits.Limit(rapid.SampledFrom([]int{16, 60}).Draw(t, "series limit")), MinGap: gap}}
	small := rapid.Int64Range(1, 4).Draw(t, "small")
	for i, side := range p.sides {
		sr, err := side.e.CreateSeries(p.ctx, s)
		mustR(t, err)
		p.series = sr.ID
		for _, holder := range []string{"c0", "c1", "c2", "c0", "racer", "racer"} {
			r, err := side.e.Issue(p.ctx, couponkit.IssueRequest{SeriesID: sr.ID, Customer: couponkit.ByID(holder)})
			mustR(t, err)
			if i == 0 && holder == "racer" {
				p.racers = append(p.racers, r.Coupon.Code)
			} else if i == 0 {
				p.codes = append(p.codes, r.Coupon.Code)
			}
		}
		for k, g := range []struct {
			till string
			uses int64
			end  time.Duration
		}{{"till-1", 3, 10 * time.Minute}, {"till-1", small, time.Hour}, {"till-2", 6, 2 * time.Hour}} {
			key := fmt.Sprintf("g%d", k)
			r, err := side.e.GrantLease(p.ctx, couponkit.LeaseRequest{Till: g.till, SeriesID: sr.ID, Key: key, Uses: g.uses, End: p.now.Add(g.end)})
			mustR(t, err)
			if i == 0 {
				p.leases[g.till] = append(p.leases[g.till], r.Lease.ID)
			}
		}
	}
}

func mustR(t *rapid.T, err error) {
	if err != nil {
		t.Helper()
		t.Fatal(err)
	}
}

// bill is the bill of every use.
var syncBill = series.Money{Amount: decimal.NewFromInt(60), Currency: "EUR"}

// journal is what the history recorded so far: every entry uploaded (for
// replays) and the keys of the uses (for reversals), by till.
type journal struct {
	sent map[string][]couponkit.JournalEntry
	uses map[string][]couponkit.JournalEntry
}

// drawBatch draws a batch for a till: new uses of the journals' codes by a
// few customers, on the till's leases; reversals of its uses; uploads
// again of earlier entries (of this batch too), and of uses recorded
// online.
func (p *syncPair) drawBatch(t *rapid.T, j *journal) couponkit.JournalBatch {
	till := rapid.SampledFrom([]string{"till-1", "till-2"}).Draw(t, "till")
	b := couponkit.JournalBatch{Till: till}
	n := rapid.IntRange(1, 14).Draw(t, "entries")
	var fresh []couponkit.JournalEntry
	for range n {
		var x couponkit.JournalEntry
		switch k := rapid.IntRange(0, 9).Draw(t, "kind"); {
		case k == 0 && len(j.sent[till]) > 0:
			x = rapid.SampledFrom(j.sent[till]).Draw(t, "replay")
		case k == 2 && len(b.Entries) > 0:
			x = rapid.SampledFrom(b.Entries).Draw(t, "again")
		case k == 1 && len(j.uses[till])+len(fresh) > 0:
			use := rapid.SampledFrom(append(slices.Clone(j.uses[till]), fresh...)).Draw(t, "reversed")
			x = use
			x.Key, x.Reverses, x.At = p.key(), use.Key, p.now
			x.LeaseID = rapid.SampledFrom(p.leases[till]).Draw(t, "lease")
		default:
			x = couponkit.JournalEntry{Key: p.key(), LeaseID: rapid.SampledFrom(p.leases[till]).Draw(t, "lease"),
				Code:     rapid.SampledFrom(p.codes).Draw(t, "code"),
				Customer: rapid.SampledFrom([]string{"c0", "c1", "c2", "c3"}).Draw(t, "customer"), Bill: syncBill,
				At: p.now.Add(-time.Duration(rapid.IntRange(0, 600).Draw(t, "ago")) * time.Second)}
			fresh = append(fresh, x)
		}
		b.Entries = append(b.Entries, x)
	}
	return b
}

func (p *syncPair) key() string {
	p.keys++
	return fmt.Sprintf("k%d", p.keys)
}

// arm makes each side's next sync race an online use of a racer's coupon
// by the batch's till.
func (p *syncPair) arm(t *rapid.T, till string) {
	code := rapid.SampledFrom(p.racers).Draw(t, "racer")
	key := p.key()
	for _, side := range p.sides {
		side.st.till = till
		side.st.race = func() {
			_, _ = side.e.RedeemAtTill(p.ctx, couponkit.TillRedeemRequest{Till: till, Key: key, SeriesID: p.series, Code: code, Customer: "racer", Bill: syncBill, At: p.now})
		}
	}
}

// step runs one drawn action on both sides and compares their answers.
func (p *syncPair) step(t *rapid.T, j *journal) {
	switch rapid.IntRange(0, 9).Draw(t, "action") {
	case 0:
		p.now = p.now.Add(20 * time.Minute)
		p.both(t, func(e *couponkit.Engine) (any, error) {
			ls, err := e.ReclaimLapsed(p.ctx, couponkit.ReclaimRequest{SeriesID: p.series})
			for i := range ls {
				ls[i].Version = 0 // one per change: the grouping side makes fewer
			}
			return ls, err
		})
	case 1:
		code := rapid.SampledFrom(p.codes).Draw(t, "revoked")
		p.both(t, func(e *couponkit.Engine) (any, error) {
			return e.Revoke(p.ctx, couponkit.RevokeRequest{SeriesID: p.series, Codes: []string{code}, Actor: "op", Reason: "fraud"})
		})
	case 2:
		p.online(t, j)
	default:
		b := p.drawBatch(t, j)
		if rapid.Bool().Draw(t, "race") {
			p.arm(t, b.Till)
		}
		p.both(t, func(e *couponkit.Engine) (any, error) {
			ack, err := e.ApplyJournal(p.ctx, b)
			return anonEntries(ack.Entries), err
		})
		for _, x := range b.Entries {
			j.sent[b.Till] = append(j.sent[b.Till], x)
			if x.Reverses == "" {
				j.uses[b.Till] = append(j.uses[b.Till], x)
			}
		}
		for _, side := range p.sides {
			side.st.race = nil
		}
	}
	p.now = p.now.Add(time.Duration(rapid.IntRange(0, 10).Draw(t, "advance")) * time.Minute)
}

// online makes a use online at a till, later also uploaded from its
// journal, on both sides.
func (p *syncPair) online(t *rapid.T, j *journal) {
	till := rapid.SampledFrom([]string{"till-1", "till-2"}).Draw(t, "online till")
	req := couponkit.TillRedeemRequest{Till: till, Key: p.key(), SeriesID: p.series, Code: rapid.SampledFrom(p.codes).Draw(t, "online code"),
		Customer: rapid.SampledFrom([]string{"c0", "c1", "c2", "c3"}).Draw(t, "online customer"), Bill: syncBill, At: p.now}
	p.both(t, func(e *couponkit.Engine) (any, error) {
		r, err := e.RedeemAtTill(p.ctx, req)
		return anonEntries([]lease.Entry{r.Entry}), err
	})
	x := couponkit.JournalEntry{Key: req.Key, LeaseID: p.leases[till][0], Code: req.Code, Customer: req.Customer, Bill: req.Bill, At: req.At}
	j.sent[till] = append(j.sent[till], x)
}

// both runs op on each side and fails unless their answers agree.
func (p *syncPair) both(t *rapid.T, op func(*couponkit.Engine) (any, error)) {
	var got [2]any
	var code [2]errcode.Code
	for i, side := range p.sides {
		out, err := op(side.e)
		got[i], code[i] = out, errcode.CodeOf(err)
		if err != nil && code[i] == 0 {
			t.Fatalf("side %d: %v", i, err)
		}
	}
	if code[0] != code[1] {
		t.Fatalf("grouped answered code %v, one at a time %v", code[0], code[1])
	}
	if code[0] == 0 {
		if d := cmp.Diff(got[1], got[0]); d != "" {
			t.Fatalf("answers differ (-one at a time +grouped):\n%s", d)
		}
	}
}

// anonEntries returns es with their redemption ids reduced to whether
// there is one: the ids an engine hands out depend on how many decisions
// it made.
func anonEntries(es []lease.Entry) []lease.Entry {
	out := slices.Clone(es)
	for i := range out {
		if out[i].RedemptionID != "" {
			out[i].RedemptionID = "set"
		}
	}
	return out
}

// state is everything observable of a side, with the ids that depend on
// how many decisions an engine made taken out.
type syncState struct {
	Entries     []lease.Entry
	Leases      []lease.Lease
	Coupons     []coupon.Coupon
	Redemptions []coupon.Redemption
	Counters    map[string]store.Count
	Events      []coupon.Event
}

func (p *syncPair) state(t *rapid.T, side *syncSide) syncState {
	var s syncState
	st := side.st
	es, err := st.TillEntries(p.ctx, store.TillEntryQuery{})
	mustR(t, err)
	s.Entries = anonEntries(es)
	s.Leases, err = st.Leases(p.ctx, store.LeaseQuery{})
	mustR(t, err)
	for i := range s.Leases {
		s.Leases[i].Version = 0 // one per change: the grouping side makes fewer
	}
	s.Coupons, err = st.ListCoupons(p.ctx, store.CouponQuery{})
	mustR(t, err)
	rs, err := st.ListRedemptions(p.ctx, store.RedemptionQuery{SeriesID: p.series})
	mustR(t, err)
	for _, r := range rs {
		r.ID = ""
		s.Redemptions = append(s.Redemptions, r)
	}
	slices.SortFunc(s.Redemptions, func(a, b coupon.Redemption) int { return strings.Compare(a.IdempotencyKey, b.IdempotencyKey) })
	s.Counters = p.counters(t, side)
	evs, _, err := side.e.EventsAfter(p.ctx, store.Position{}, 100000)
	mustR(t, err)
	for _, fe := range evs {
		ev := fe.Event
		if ev.Actor != "op" && (ev.Customer == "racer" || ev.Counterparty == "racer") {
			continue // the racer's place in the feed depends on when it ran
		}
		ev.ID, ev.RedemptionID = "", ""
		s.Events = append(s.Events, ev)
	}
	return s
}

// counters reads every counter the history can move.
func (p *syncPair) counters(t *rapid.T, side *syncSide) map[string]store.Count {
	cs, err := side.st.ListCoupons(p.ctx, store.CouponQuery{})
	mustR(t, err)
	var keys []store.CounterKey
	customers := []string{"", "c0", "c1", "c2", "c3", "racer"}
	for _, c := range customers {
		keys = append(keys, store.CounterKey{Counter: limits.CustomerSeriesUses, Series: p.series, Customer: c},
			store.CounterKey{Counter: limits.CustomerIssued, Series: p.series, Customer: c})
		for _, cp := range cs {
			keys = append(keys, store.CounterKey{Counter: limits.CodeUses, Series: p.series, Code: cp.Canonical, Holder: store.Slot(&cp)},
				store.CounterKey{Counter: limits.CustomerCodeUses, Series: p.series, Code: cp.Canonical, Holder: store.Slot(&cp), Customer: c})
		}
	}
	keys = append(keys, store.CounterKey{Counter: limits.SeriesUses, Series: p.series}, store.CounterKey{Counter: limits.SeriesIssued, Series: p.series})
	counts := make([]store.Count, len(keys))
	mustR(t, side.st.Counters(p.ctx, keys, counts))
	out := make(map[string]store.Count, len(keys))
	for i, k := range keys {
		out[k.String()] = counts[i]
	}
	return out
}

// checkSame runs a drawn history on a fresh pair of stores made by open and
// fails unless both sides end in the same state.
func checkSame(t *rapid.T, open func() leaseStoreAll) {
	gap := rapid.SampledFrom([]time.Duration{0, 5 * time.Minute}).Draw(t, "gap")
	p := newSyncPair(t, open, gap)
	j := &journal{sent: map[string][]couponkit.JournalEntry{}, uses: map[string][]couponkit.JournalEntry{}}
	steps := rapid.IntRange(1, 8).Draw(t, "steps")
	for range steps {
		p.step(t, j)
	}
	one, grouped := p.state(t, p.sides[1]), p.state(t, p.sides[0])
	if d := cmp.Diff(one, grouped); d != "" {
		t.Fatalf("the stores differ (-one at a time +grouped):\n%s", d)
	}
}

func TestApplyJournalGroupedSameAsOneAtATime(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		checkSame(t, func() leaseStoreAll { return memstore.New() })
	})
}

// TestApplyJournalGroupedSameOnSQLite runs sqliteHistories histories of
// the property on SQLite files: the grouped change as one transaction of
// a SQL store.
func TestApplyJournalGroupedSameOnSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("SQLite files")
	}
	const sqliteHistories = 40
	dir, runs, files := t.TempDir(), 0, 0
	rapid.Check(t, func(rt *rapid.T) {
		if runs++; runs > sqliteHistories {
			return
		}
		checkSame(rt, func() leaseStoreAll {
			files++
			s, err := sqlite.Open(context.Background(), fmt.Sprintf("%s/%d.db", dir, files))
			mustR(rt, err)
			rt.Cleanup(func() { s.Close() })
			mustR(rt, s.Migrate(context.Background()))
			return s
		})
	})
}

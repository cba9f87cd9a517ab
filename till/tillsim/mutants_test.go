package tillsim

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// The simulation is only worth running if it fails on a broken central.
// Each mutant below is memstore with one way of counting broken, in the
// change the engine applies; the simulation over it must report a
// violation.

// mutantStore is memstore whose Apply first breaks the change.
type mutantStore struct {
	*memstore.Store
	mutate func(*store.Change)
}

// Apply implements store.Store.
func (m mutantStore) Apply(ctx context.Context, c *store.Change) error {
	m.mutate(c)
	return m.Store.Apply(ctx, c)
}

// seriesUses returns the bump of c on the series' use counter, or nil.
func seriesUses(c *store.Change) *store.Bump {
	for i := range c.Bumps {
		if c.Bumps[i].Key.Counter == limits.SeriesUses {
			return &c.Bumps[i]
		}
	}
	return nil
}

// onLease returns the entry c records counted on its lease, or nil.
func onLease(c *store.Change) *lease.Entry {
	if len(c.TillEntries) == 1 && c.TillEntries[0].Counted == lease.OnLease {
		return &c.TillEntries[0]
	}
	return nil
}

var mutants = []struct {
	name   string
	mutate func(*store.Change)
}{
	// A grant counted twice against its series.
	{"grant counted twice", func(c *store.Change) {
		if len(c.LeaseOps) == 1 && c.LeaseOps[0].Kind == lease.Grant {
			if b := seriesUses(c); b != nil {
				b.Delta *= 2
			}
		}
	}},
	// A journal use counted on its lease and again on its series.
	{"journal use counted on the series too", func(c *store.Change) {
		if e := onLease(c); e != nil && seriesUses(c) == nil {
			k := store.CounterKey{Counter: limits.SeriesUses, Series: e.SeriesID}
			c.Bumps = append(c.Bumps, store.Bump{Key: k, Delta: 1, At: e.At})
		}
	}},
	// A grant (or top-up) that takes money past the series' budget: its
	// bump of the budget counter unguarded, 10 EUR more than the budget
	// had left.
	{"grant takes money past the budget", func(c *store.Change) {
		if len(c.LeaseOps) != 1 || len(c.Leases) != 1 || (c.LeaseOps[0].Kind != lease.Grant && c.LeaseOps[0].Kind != lease.TopUp) {
			return
		}
		for i := range c.Bumps {
			if b := &c.Bumps[i]; b.Key.Counter == limits.SeriesBudget && b.Delta > 0 {
				b.Delta += 1000
				b.Guard = limits.Guard{}
				c.Leases[0].Lease.Granted.Money += 1000
				c.LeaseOps[0].Lease.Granted.Money += 1000
			}
		}
	}},
	// A journal use its open lease could take, counted on the series
	// instead: the lease keeps the use it lent, and the series counts it.
	// Only a use that spends no money, so that the budget's checks do not
	// see it: the check of when a use may be counted on the series must.
	{"journal use counted on the series while its lease is open", func(c *store.Change) {
		if e := onLease(c); e != nil && e.Budget == 0 && len(c.Leases) == 1 && seriesUses(c) == nil {
			c.Leases[0].Lease.Used.Uses--
			e.Counted = lease.OnSeries
			k := store.CounterKey{Counter: limits.SeriesUses, Series: e.SeriesID}
			c.Bumps = append(c.Bumps, store.Bump{Key: k, Delta: 1, At: e.At})
		}
	}},
	// A journal use applied twice to its lease.
	{"journal use counted twice on its lease", func(c *store.Change) {
		if e := onLease(c); e != nil && len(c.Leases) == 1 {
			c.Leases[0].Lease.Used.Uses++
		}
	}},
}

// splitStore is memstore with a central that does not see a till's
// online use when the journal entry of the same key comes: the engine
// does not find the online record, and the journal's use is recorded as
// a use of its own (under its key marked, as is its redemption's), so the
// sale is counted twice.
type splitStore struct{ *memstore.Store }

// TillEntry implements store.LeaseStore: an online record is not found
// by a journal's upload.
func (s splitStore) TillEntry(ctx context.Context, till, key string) (lease.Entry, error) {
	e, err := s.Store.TillEntry(ctx, till, key)
	if err == nil && e.Online && ctx.Value(uploading{}) != nil {
		return lease.Entry{}, store.NotFound("till entry", till+"/"+key)
	}
	return e, err
}

// Apply implements store.Store: a journal entry whose key has an online
// record is written under another key.
func (s splitStore) Apply(ctx context.Context, c *store.Change) error {
	for i := range c.TillEntries {
		e := &c.TillEntries[i]
		if rec, err := s.Store.TillEntry(ctx, e.Till, e.Key); err == nil && rec.Online && !e.Online {
			for j := range c.NewRedemptions {
				if r := &c.NewRedemptions[j]; r.IdempotencyKey == e.Till+"/"+e.Key {
					r.IdempotencyKey += "#journal"
				}
			}
			e.Key += "#journal"
		}
	}
	return s.Store.Apply(ctx, c)
}

var tillMutants = []struct {
	name   string
	broken tillMutant
}{
	{"keeps stale answers", keepsStaleAnswers}, // about one run in 70 meets it
	{"spends returns in doubt", spendsReturnsInDoubt},
	{"marks lost uploads synced", marksLostUploadsSynced},
}

// TestTillMutantsFail runs the simulation with tills that break the
// protocol and checks that it reports a violation: the checks see a till
// that spends more than its leases hold, or loses uses.
func TestTillMutantsFail(t *testing.T) {
	mutantFlags(t)
	for _, m := range tillMutants {
		t.Run(strings.ReplaceAll(m.name, " ", "_"), func(t *testing.T) {
			if m.broken == keepsStaleAnswers && (testing.Short() || raceEnabled) {
				t.Skip("about one run in 70 meets a stale answer; run without -short and -race")
			}
			mustFail(t, m.name, config{broken: m.broken})
		})
	}
}

// mustFail runs the simulation with cfg and fails the test unless it
// reports a violation.
func mustFail(t *testing.T, what string, cfg config) {
	base := t.TempDir()
	rec := &recorder{TB: t}
	rapid.Check(rec, func(rt *rapid.T) {
		if v, _ := simulate(rt, base, cfg); len(v) > 0 {
			rt.Fatalf("%d violations:\n%s", len(v), strings.Join(v, "\n"))
		}
	})
	if !rec.failed {
		t.Fatalf("the simulation passed with a broken part: %s", what)
	}
	t.Logf("caught: %s", rec.first)
}

// TestMutantsFail runs the simulation over each mutant central and
// checks that it reports a violation.
func TestMutantsFail(t *testing.T) {
	mutantFlags(t)
	for _, m := range mutants {
		t.Run(strings.ReplaceAll(m.name, " ", "_"), func(t *testing.T) {
			mustFail(t, "a central whose "+m.name, config{wrap: func(st store.Store) store.Store {
				return mutantStore{Store: st.(*memstore.Store), mutate: m.mutate}
			}})
		})
	}
}

// TestSplitCentralFails runs the simulation over a central that records
// a till's online use and the journal entry of the same key (the sale
// decided offline when the online answer was lost) as two uses, and
// checks that it reports a violation.
func TestSplitCentralFails(t *testing.T) {
	mutantFlags(t)
	mustFail(t, "a central that counts an online use and its journal entry twice", config{noReversals: true,
		wrap: func(st store.Store) store.Store { return splitStore{Store: st.(*memstore.Store)} }})
}

// mutantFlags sets rapid for a mutant: runs until the first failure (up
// to 1000, for mutants only some schedules meet), a short shrink, no fail
// file.
func mutantFlags(t *testing.T) {
	setFlag(t, "rapid.checks", "1000")
	setFlag(t, "rapid.nofailfile", "true")
	setFlag(t, "rapid.shrinktime", "500ms")
}

// setFlag sets a flag for the test and restores it after.
func setFlag(t *testing.T, name, value string) {
	f := flag.Lookup(name)
	if f == nil {
		t.Fatalf("no flag %s", name)
	}
	old := f.Value.String()
	if err := flag.Set(name, value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { flag.Set(name, old) })
}

// recorder is a rapid.TB that records a failure instead of failing the
// test, and keeps quiet.
type recorder struct {
	testing.TB
	failed bool
	first  string
}

func (r *recorder) fail(msg string) {
	if !r.failed {
		r.first = msg
	}
	r.failed = true
}

func (r *recorder) Errorf(format string, args ...any) { r.fail(fmt.Sprintf(format, args...)) }
func (r *recorder) Error(args ...any)                 { r.fail(fmt.Sprint(args...)) }
func (r *recorder) Fatalf(format string, args ...any) { r.fail(fmt.Sprintf(format, args...)) }
func (r *recorder) Fatal(args ...any)                 { r.fail(fmt.Sprint(args...)) }
func (r *recorder) FailNow()                          { r.fail("FailNow") }
func (r *recorder) Fail()                             { r.fail("Fail") }
func (r *recorder) Failed() bool                      { return r.failed }
func (r *recorder) Logf(string, ...any)               {}
func (r *recorder) Log(...any)                        {}

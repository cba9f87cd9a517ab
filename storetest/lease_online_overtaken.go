package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/store"
)

// The interleavings of an online use and the journal upload of the same
// sale, forced: one is overtaken by the other between its read of the
// key's record and its write.

// tillOvertaking is a store that runs overtake once: after the first read
// of a till entry that finds none (atMiss) or just before the first
// change that records a till entry (otherwise).
type tillOvertaking struct {
	store.Store
	ls       store.LeaseStore
	atMiss   bool
	overtake func()
	done     bool
}

func (o *tillOvertaking) fire() {
	if !o.done {
		o.done = true
		o.overtake()
	}
}

func (o *tillOvertaking) Apply(ctx context.Context, c *store.Change) error {
	if !o.atMiss && len(c.TillEntries) > 0 {
		o.fire()
	}
	return o.Store.Apply(ctx, c)
}

func (o *tillOvertaking) TillEntry(ctx context.Context, till, key string) (lease.Entry, error) {
	rec, err := o.ls.TillEntry(ctx, till, key)
	if o.atMiss && errors.Is(err, errcode.ErrNotFound) {
		o.fire()
	}
	return rec, err
}

func (o *tillOvertaking) Lease(ctx context.Context, id string) (lease.Lease, error) {
	return o.ls.Lease(ctx, id)
}

func (o *tillOvertaking) Leases(ctx context.Context, q store.LeaseQuery) ([]lease.Lease, error) {
	return o.ls.Leases(ctx, q)
}

func (o *tillOvertaking) LeaseOp(ctx context.Context, till, key string) (lease.Op, error) {
	return o.ls.LeaseOp(ctx, till, key)
}

func (o *tillOvertaking) TillEntries(ctx context.Context, q store.TillEntryQuery) ([]lease.Entry, error) {
	return o.ls.TillEntries(ctx, q)
}

// tillOvertakenEngine returns an engine like e's over a store that runs
// overtake (with e's own engine) as tillOvertaking says.
func (e *env) tillOvertakenEngine(t *testing.T, atMiss bool, overtake func()) (*couponkit.Engine, *tillOvertaking) {
	t.Helper()
	o := &tillOvertaking{Store: e.st, ls: leaseStore(t, e), atMiss: atMiss, overtake: overtake}
	eng, err := couponkit.New(couponkit.Config{Store: o, Now: e.clk.Now, Customers: e.dir, CodeKey: seriesKey, Rates: rates})
	if err != nil {
		t.Fatalf("couponkit.New: %v", err)
	}
	return eng, o
}

func testOnlineOvertaken(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(10)
	l := e.grant(t, "till-1", s.ID, "g1", 5)
	for _, atMiss := range []bool{true, false} {
		c := e.issue(s.ID, alice)
		k := "sale-" + c.Code
		var recs []lease.Entry
		eng, o := e.tillOvertakenEngine(t, atMiss, func() { recs = e.sync(t, "till-1", entry(k, l.ID, c.Code, alice, t0)) })
		r, err := eng.RedeemAtTill(e.ctx, onlineReq("till-1", k, s.ID, c.Code, alice))
		if !wantOK(t, err, "an online use overtaken by the journal (at its read: %v)", atMiss) || !o.done {
			continue
		}
		same(t, [2]any{r.Replayed, r.Entry}, [2]any{true, recs[0]}, "the online call answers the journal's record (at its read: %v)", atMiss)
	}
	c := e.issue(s.ID, alice)
	var first couponkit.TillRedeemResult
	eng, o := e.tillOvertakenEngine(t, false, func() { first = e.online(t, onlineReq("till-1", "sale-x", s.ID, c.Code, alice)) })
	ack, err := eng.ApplyJournal(e.ctx, couponkit.JournalBatch{Till: "till-1", Entries: []couponkit.JournalEntry{entry("sale-x", l.ID, c.Code, alice, t0)}})
	if wantOK(t, err, "a journal upload overtaken by the online use") && o.done {
		same(t, ack.Entries[0], first.Entry, "the journal is answered with the online record")
	}
	same(t, e.lease(t, l.ID).Used, lease.Slice{Uses: 3}, "three sales on the lease, each counted once")
	// till-2's lease was reclaimed: its online use is made on the series.
	// The journal's sale, made after the coupon expired by the till's
	// clock, is recorded as a conflict on the closed lease: it changes no
	// coupon and no lease the online use writes, so the online use
	// collides with its record alone.
	closed := e.grant(t, "till-2", s.ID, "g1", 1)
	e.clk.Advance(2 * time.Hour)
	_, err = e.e.ReclaimLapsed(e.ctx, couponkit.ReclaimRequest{SeriesID: s.ID, Skew: time.Minute})
	mustOK(t, err, "ReclaimLapsed")
	late := e.issue(s.ID, alice)
	var rec []lease.Entry
	eng, o = e.tillOvertakenEngine(t, false, func() {
		rec = e.sync(t, "till-2", entry("sale-late", closed.ID, late.Code, alice, t0.Add(40*24*time.Hour)))
	})
	r, err := eng.RedeemAtTill(e.ctx, onlineReq("till-2", "sale-late", s.ID, late.Code, alice))
	if wantOK(t, err, "an online use overtaken by a conflicted journal entry") && o.done {
		same(t, [3]any{r.Replayed, r.Entry, r.Redemption.Redemption.ID}, [3]any{true, rec[0], ""}, "the online call answers the conflicted record")
	}
	e.wantTillInvariant(t, s.ID)
}

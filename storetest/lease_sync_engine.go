package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// The central's side of a till's sync: journal entries applied exactly
// once, at their sale time, counted against their lease, conflicts
// recorded and reported.

// leaseSyncTests are the sync subtests of the lease tier.
var leaseSyncTests = []test{
	{"OnTheLease", testSyncOnTheLease},
	{"Conflicts", testSyncConflicts},
	{"AtSaleTime", testSyncAtSaleTime},
	{"AfterReclaim", testSyncAfterReclaim},
	{"BadInput", testSyncBadInput},
}

func entry(key, leaseID, code, customer string, at time.Time) couponkit.JournalEntry {
	return couponkit.JournalEntry{Key: key, LeaseID: leaseID, Code: code, Customer: customer, Bill: eur("60"), At: at}
}

// sync applies a batch of till's entries and fails the test on error.
func (e *env) sync(t *testing.T, till string, entries ...couponkit.JournalEntry) []lease.Entry {
	t.Helper()
	ack, err := e.e.ApplyJournal(e.ctx, couponkit.JournalBatch{Till: till, Entries: entries})
	mustOK(t, err, "ApplyJournal")
	if len(ack.Entries) != len(entries) {
		t.Fatalf("ApplyJournal acknowledged %d of %d entries", len(ack.Entries), len(entries))
	}
	return ack.Entries
}

func (e *env) lease(t *testing.T, id string) lease.Lease {
	t.Helper()
	l, err := e.st.(store.LeaseStore).Lease(e.ctx, id)
	mustOK(t, err, "Lease(%s)", id)
	return l
}

func testSyncOnTheLease(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(5)
	l := e.grant(t, "till-1", s.ID, "g1", 3)
	a, b := e.issue(s.ID, alice), e.issue(s.ID, bob)
	e.clk.Advance(time.Minute)
	batch := []couponkit.JournalEntry{entry("k1", l.ID, a.Code, alice, e.clk.Now()), entry("k2", l.ID, b.Code, bob, e.clk.Now())}
	recs := e.sync(t, "till-1", batch...)
	for i, r := range recs {
		same(t, r.Conflicted(), false, "a use the central allows has no conflict (%s)", r.Key)
		same(t, r.Counted, lease.OnLease, "a use within its lease is counted on it (%s)", r.Key)
		if r.RedemptionID == "" || e.storedRedemption(r.RedemptionID).Status != coupon.StatusRedeemed {
			t.Errorf("entry %d made no redemption: %+v", i, r)
		}
	}
	same(t, e.stored(a.ID).State, coupon.Redeemed, "the coupon used offline is redeemed centrally")
	same(t, e.count(key(limits.SeriesUses, s.ID, "", "")).N, int64(3), "the series counts the lease, not its uses again")
	after := e.lease(t, l.ID)
	same(t, after.Used, lease.Slice{Uses: 2}, "the lease counts the uses")
	again := e.sync(t, "till-1", batch...)
	same(t, again, recs, "a batch uploaded again is answered with its first records")
	same(t, e.lease(t, l.ID), after, "a batch uploaded again changes nothing")
	same(t, len(e.records(s.ID)), 2, "a batch uploaded again makes no redemption")
}

func testSyncConflicts(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(10)
	l1 := e.grant(t, "till-1", s.ID, "g1", 3)
	l2 := e.grant(t, "till-2", s.ID, "g1", 3)
	a, b, c := e.issue(s.ID, alice), e.issue(s.ID, bob), e.issue(s.ID, carol)
	e.redeem(a.Code, alice, "online-1")
	_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Codes: []string{b.Code}, Actor: "op", Reason: "fraud"})
	mustOK(t, err, "Revoke")
	now := e.clk.Now()
	r1 := e.sync(t, "till-1", entry("k1", l1.ID, a.Code, alice, now), entry("k2", l1.ID, b.Code, bob, now), entry("k3", l1.ID, c.Code, carol, now))
	r2 := e.sync(t, "till-2", entry("k1", l2.ID, c.Code, carol, now), entry("k2", l2.ID, c.Code, dave, now))
	wantConflict := func(r lease.Entry, code errcode.Code, what string) {
		t.Helper()
		if !r.Conflicted() || r.Conflicts[0].Code != code || r.RedemptionID != "" || r.Counted != lease.OnLease {
			t.Errorf("%s: %+v, want a conflict %v counted on the lease, with no redemption", what, r, code)
		}
	}
	wantConflict(r1[0], errcode.Redeemed, "a code used elsewhere")
	wantConflict(r1[1], errcode.Revoked, "a code revoked meanwhile")
	same(t, r1[2].Conflicted(), false, "the first use of a code")
	wantConflict(r2[0], errcode.Redeemed, "the same code used at another till")
	wantConflict(r2[1], errcode.CouponNotFound, "a code that is not this customer's")
	same(t, e.lease(t, l2.ID).Used, lease.Slice{Uses: 2}, "conflicted uses are counted on the lease all the same")
	rep, err := e.e.Reconcile(e.ctx, couponkit.ReconcileRequest{SeriesID: s.ID})
	mustOK(t, err, "Reconcile")
	if len(rep) != 2 || rep[0].Till != "till-1" || rep[1].Till != "till-2" {
		t.Fatalf("a report per till: %+v", rep)
	}
	same(t, [2]int64{rep[0].Uses, rep[0].Conflicted}, [2]int64{3, 2}, "till-1's uses and conflicts")
	same(t, rep[1].Exposure, []series.Money{eur("20")}, "till-2's exposure: the discounts its conflicted uses gave")
}

func testSyncAtSaleTime(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(10)
	l := e.grant(t, "till-1", s.ID, "g1", 2)
	a, b := e.issue(s.ID, alice), e.issue(s.ID, bob)
	sale := e.clk.Now().Add(10 * time.Minute)
	e.clk.Advance(40 * 24 * time.Hour) // past the coupons' 30 days
	recs := e.sync(t, "till-1", entry("k1", l.ID, a.Code, alice, sale), entry("k2", l.ID, b.Code, bob, e.clk.Now()))
	same(t, recs[0].Conflicted(), false, "a use made before the coupon expired, synced after")
	if !recs[1].Conflicted() || recs[1].Conflicts[0].Code != errcode.Expired {
		t.Errorf("a use made after the coupon expired: %+v, want an Expired conflict", recs[1])
	}
}

func testSyncAfterReclaim(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(3)
	l := e.grant(t, "till-1", s.ID, "g1", 2)
	a, b := e.issue(s.ID, alice), e.issue(s.ID, bob)
	sale := e.clk.Now()
	e.clk.Advance(2 * time.Hour)
	_, err := e.e.ReclaimLapsed(e.ctx, couponkit.ReclaimRequest{Skew: time.Minute})
	mustOK(t, err, "ReclaimLapsed")
	k := key(limits.SeriesUses, s.ID, "", "")
	same(t, e.count(k).N, int64(0), "the reclaim gave the lease's uses back")
	e.grant(t, "till-2", s.ID, "g1", 2)
	r := e.sync(t, "till-1", entry("k1", l.ID, a.Code, alice, sale))
	same(t, [2]any{r[0].Counted, r[0].Conflicted()}, [2]any{lease.OnSeries, false}, "a use after its lease's reclaim that fits the series")
	same(t, e.count(k).N, int64(3), "it is counted against the series again")
	r = e.sync(t, "till-1", entry("k2", l.ID, b.Code, bob, sale))
	if r[0].Counted != lease.OnSeries || !r[0].Conflicted() || r[0].Conflicts[0].Rule != refusal.SeriesLimit {
		t.Errorf("a use after the reclaim that the series cannot fit: %+v, want a series-limit conflict", r[0])
	}
	same(t, e.count(k).N, int64(4), "it is recorded and counted all the same")
	r = e.sync(t, "till-1", entry("k3", l.ID, a.Code, alice, sale))
	rules := make([]refusal.Rule, len(r[0].Conflicts))
	for i, c := range r[0].Conflicts {
		rules[i] = c.Rule
	}
	if r[0].Counted != lease.OnSeries || !slices.Contains(rules, refusal.UsedUp) || !slices.Contains(rules, refusal.SeriesLimit) {
		t.Errorf("a use of a used coupon after the reclaim, past the series' limit: %+v, want its coupon's and the series-limit conflicts", r[0])
	}
	same(t, e.count(k).N, int64(5), "it is counted on the series too")
	closed := e.lease(t, l.ID)
	same(t, closed.Used, lease.Slice{}, "a closed lease counts no more uses")
	same(t, closed.Conflicted, int64(2), "but counts its conflicted uses against its allowance")
	e.wantTillInvariant(t, s.ID)
}

func testSyncBadInput(t *testing.T, e *env) {
	ls := leaseStore(t, e)
	s := e.leaseSeries(10)
	l1 := e.grant(t, "till-1", s.ID, "g1", 3)
	l2 := e.grant(t, "till-2", s.ID, "g1", 3)
	a := e.issue(s.ID, alice)
	now := e.clk.Now()
	good := entry("k1", l1.ID, a.Code, alice, now)
	e.sync(t, "till-1", good)
	before := [2]lease.Lease{e.lease(t, l1.ID), e.lease(t, l2.ID)}
	fresh := entry("k9", l1.ID, a.Code, alice, now)
	for name, c := range map[string]struct {
		b    couponkit.JournalBatch
		code errcode.Code
	}{
		"another till's lease":  {couponkit.JournalBatch{Till: "till-1", Entries: []couponkit.JournalEntry{fresh, entry("k8", l2.ID, a.Code, alice, now)}}, errcode.NotFound},
		"a key for another use": {couponkit.JournalBatch{Till: "till-1", Entries: []couponkit.JournalEntry{fresh, entry("k1", l1.ID, a.Code, bob, now)}}, errcode.KeyMismatch},
		"no code":               {couponkit.JournalBatch{Till: "till-1", Entries: []couponkit.JournalEntry{fresh, entry("k7", l1.ID, "", alice, now)}}, errcode.InvalidArgument},
		"no sale time":          {couponkit.JournalBatch{Till: "till-1", Entries: []couponkit.JournalEntry{fresh, entry("k7", l1.ID, a.Code, alice, time.Time{})}}, errcode.InvalidArgument},
		"no till":               {couponkit.JournalBatch{Entries: []couponkit.JournalEntry{fresh}}, errcode.InvalidArgument},
	} {
		_, err := e.e.ApplyJournal(e.ctx, c.b)
		wantCode(t, err, c.code, "%s", name)
	}
	if _, err := ls.TillEntry(e.ctx, "till-1", "k9"); err == nil {
		t.Errorf("a refused batch recorded its good entry")
	}
	same(t, [2]lease.Lease{e.lease(t, l1.ID), e.lease(t, l2.ID)}, before, "refused batches change no lease")
	same(t, len(e.records(s.ID)), 1, "refused batches make no redemption")
}

package storetest

import (
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
)

// Reversals in a till's journal and the leases' allowances of unverified
// uses.

// leaseReverseTests are the reversal and allowance subtests of the lease
// tier.
var leaseReverseTests = []test{
	{"InTheBatch", testReverseInTheBatch},
	{"Unknown", testReverseUnknown},
	{"AfterOperator", testReverseAfterOperator},
	{"Conflicted", testReverseConflicted},
	{"Online", testReverseOnline},
	{"Allowance", testAllowance},
}

func reversal(key, reverses, leaseID, code, customer string, at time.Time) couponkit.JournalEntry {
	x := entry(key, leaseID, code, customer, at)
	x.Reverses = reverses
	return x
}

func testReverseInTheBatch(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(5)
	l := e.grant(t, "till-1", s.ID, "g1", 3)
	a, b := e.issue(s.ID, alice), e.issue(s.ID, bob)
	now := e.clk.Now()
	batch := []couponkit.JournalEntry{entry("k1", l.ID, a.Code, alice, now), entry("k2", l.ID, b.Code, bob, now), reversal("r1", "k1", l.ID, a.Code, alice, now)}
	recs := e.sync(t, "till-1", batch...)
	same(t, [3]any{recs[2].Reverses, recs[2].Conflicted(), recs[2].RedemptionID}, [3]any{"k1", false, recs[0].RedemptionID}, "the reversal's record")
	used := e.lease(t, l.ID)
	same(t, used.Used, lease.Slice{Uses: 2}, "the lease keeps counting the uses reported")
	same(t, e.storedRedemption(recs[0].RedemptionID).Status, coupon.StatusReversed, "the use's redemption is reversed")
	same(t, e.stored(a.ID).State, coupon.Issued, "its coupon is usable again")
	k := key(limits.SeriesUses, s.ID, "", "")
	same(t, e.count(k).N, int64(2), "the use went back to the series")
	same(t, e.count(key(limits.CodeUses, s.ID, a.Canonical, "")).N, int64(0), "and to its code's level")
	got := e.sync(t, "till-1", batch...)
	same(t, got[2], recs[2], "a batch uploaded again is answered with its records")
	same(t, [2]any{e.count(k).N, e.lease(t, l.ID)}, [2]any{int64(2), used}, "and changes nothing")
	r2 := e.sync(t, "till-1", reversal("r2", "k1", l.ID, a.Code, alice, now))
	if !r2[0].Conflicted() || r2[0].Conflicts[0].Code != errcode.AlreadyReversed {
		t.Errorf("a second reversal of the same use: %+v, want an AlreadyReversed conflict", r2[0])
	}
	same(t, e.count(k).N, int64(2), "a use is given back once")
	rep, err := e.e.Reconcile(e.ctx, couponkit.ReconcileRequest{Till: "till-1"})
	mustOK(t, err, "Reconcile")
	if len(rep) != 1 || rep[0].Uses != 2 || rep[0].Reversals != 2 || rep[0].Reversed != 1 {
		t.Errorf("report: %+v, want 2 uses, 2 reversals, 1 use reversed", rep)
	}
	e.wantTillInvariant(t, s.ID)
}

func testReverseUnknown(t *testing.T, e *env) {
	ls := leaseStore(t, e)
	s := e.leaseSeries(5)
	l := e.grant(t, "till-1", s.ID, "g1", 3)
	a := e.issue(s.ID, alice)
	now := e.clk.Now()
	good := entry("k1", l.ID, a.Code, alice, now)
	for name, c := range map[string]struct {
		batch []couponkit.JournalEntry
		code  errcode.Code
	}{
		"a use never recorded":      {[]couponkit.JournalEntry{good, reversal("r1", "k9", l.ID, a.Code, alice, now)}, errcode.NotFound},
		"a use later in the batch":  {[]couponkit.JournalEntry{reversal("r1", "k1", l.ID, a.Code, alice, now), good}, errcode.NotFound},
		"itself":                    {[]couponkit.JournalEntry{good, reversal("r1", "r1", l.ID, a.Code, alice, now)}, errcode.InvalidArgument},
		"a use of another customer": {[]couponkit.JournalEntry{good, reversal("r1", "k1", l.ID, a.Code, bob, now)}, errcode.InvalidArgument},
	} {
		_, err := e.e.ApplyJournal(e.ctx, couponkit.JournalBatch{Till: "till-1", Entries: c.batch})
		wantCode(t, err, c.code, "a reversal of %s", name)
	}
	if got, _ := ls.TillEntries(e.ctx, storeEntries("till-1")); len(got) != 0 {
		t.Errorf("refused batches recorded %d entries", len(got))
	}
	same(t, e.count(key(limits.SeriesUses, s.ID, "", "")).N, int64(3), "refused batches change no counter")
	same(t, e.lease(t, l.ID).Version, l.Version, "nor the lease")
}

func testReverseAfterOperator(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(5)
	l := e.grant(t, "till-1", s.ID, "g1", 3)
	a := e.issue(s.ID, alice)
	now := e.clk.Now()
	recs := e.sync(t, "till-1", entry("k1", l.ID, a.Code, alice, now))
	e.reverse(recs[0].RedemptionID)
	k := key(limits.SeriesUses, s.ID, "", "")
	same(t, e.count(k).N, int64(2), "the operator's reversal gave the use back")
	r := e.sync(t, "till-1", reversal("r1", "k1", l.ID, a.Code, alice, now))
	if !r[0].Conflicted() || r[0].Conflicts[0].Code != errcode.AlreadyReversed {
		t.Errorf("a till's reversal of a use reversed centrally: %+v, want an AlreadyReversed conflict", r[0])
	}
	same(t, e.count(k).N, int64(2), "not given back twice")
	e.wantTillInvariant(t, s.ID)
}

func testReverseConflicted(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(5)
	l := e.grant(t, "till-1", s.ID, "g1", 3)
	a := e.issue(s.ID, alice)
	e.redeem(a.Code, alice, "central-1")
	now := e.clk.Now()
	recs := e.sync(t, "till-1", entry("k1", l.ID, a.Code, alice, now))
	same(t, recs[0].Conflicted(), true, "a use of a code redeemed centrally is conflicted")
	k := key(limits.SeriesUses, s.ID, "", "")
	same(t, e.count(k).N, int64(4), "before the reversal")
	e.sync(t, "till-1", reversal("r1", "k1", l.ID, a.Code, alice, now))
	same(t, e.count(k).N, int64(3), "a conflicted use goes back to the series' counter")
	same(t, e.stored(a.ID).State, coupon.Redeemed, "the central's redemption stands")
	same(t, e.lease(t, l.ID).Used, lease.Slice{Uses: 1}, "the lease keeps the use reported")
	e.wantTillInvariant(t, s.ID)
}

func testReverseOnline(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(5)
	l := e.grant(t, "till-1", s.ID, "g1", 3)
	a := e.issue(s.ID, alice)
	r := e.online(t, onlineReq("till-1", "k1", s.ID, a.Code, alice))
	e.sync(t, "till-1", reversal("r1", "k1", l.ID, a.Code, alice, e.clk.Now()))
	same(t, e.storedRedemption(r.Entry.RedemptionID).Status, coupon.StatusReversed, "a use decided online is reversed from the journal")
	same(t, e.count(key(limits.SeriesUses, s.ID, "", "")).N, int64(2), "and given back to the series")
	e.wantTillInvariant(t, s.ID)
}

// testAllowance checks that grants and top-ups set the lease's allowance
// (the default policy: a tenth of the uses, rounded up), that each
// conflicted use is counted on its lease, and that one past the allowance
// is recorded all the same and flagged.
func testAllowance(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(30)
	l := e.grant(t, "till-1", s.ID, "g1", 10)
	same(t, l.Allowance, int64(1), "a grant of 10 allows 1 unverified use")
	r, err := e.e.TopUpLease(e.ctx, couponkit.LeaseCall{Till: "till-1", LeaseID: l.ID, Key: "u1", Uses: 5})
	mustOK(t, err, "TopUpLease")
	same(t, r.Lease.Allowance, int64(2), "a top-up of 5 allows 1 more")
	var x []couponkit.JournalEntry
	for i, c := range []string{alice, bob, carol} {
		cp := e.issue(s.ID, c)
		e.redeem(cp.Code, c, "central-"+c)
		x = append(x, entry("k"+string(rune('1'+i)), l.ID, cp.Code, c, e.clk.Now()))
	}
	recs := e.sync(t, "till-1", x...)
	for i, rec := range recs {
		last := rec.Conflicts[len(rec.Conflicts)-1].Code
		if over := last == errcode.AllowanceExceeded; over != (i == 2) {
			t.Errorf("conflicted use %d: conflicts %+v; only the third passes the allowance of 2", i+1, rec.Conflicts)
		}
	}
	got := e.lease(t, l.ID)
	same(t, [2]int64{got.Conflicted, got.Used.Uses}, [2]int64{3, 3}, "the lease counts its conflicted uses")
	rep, err := e.e.Reconcile(e.ctx, couponkit.ReconcileRequest{Till: "till-1", SeriesID: s.ID})
	mustOK(t, err, "Reconcile")
	if len(rep) != 1 || rep[0].Allowance != 2 || len(rep[0].Leases) != 1 || rep[0].Leases[0].Conflicted != 3 || rep[0].Conflicted != 3 {
		t.Errorf("report: %+v, want an allowance of 2 and 3 conflicted uses on the one lease", rep)
	}
	e.wantTillInvariant(t, s.ID)
}

package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// Online use by a till (Engine.RedeemAtTill): decided at the central,
// drawn on the till's lease, recorded once per (till, key) with the
// journal.

// leaseOnlineTests are the online subtests of the lease tier.
var leaseOnlineTests = []test{
	{"OnTheLease", testOnlineOnTheLease},
	{"WithoutLease", testOnlineWithoutLease},
	{"LeaseEndingFirst", testOnlineLeaseEndingFirst},
	{"NamedLease", testOnlineNamedLease},
	{"OnlineThenJournal", testOnlineThenJournal},
	{"JournalThenOnline", testJournalThenOnline},
	{"RaceWithJournal", testOnlineRace},
	{"Overtaken", testOnlineOvertaken},
}

// wantTillInvariant checks, for the series, the central's count with
// tills' uses and reversals:
//
//	series use counter = unreversed uses counted on the series
//	                   + Σ leases (Granted - Returned - Reclaimed)
//	                   - reversed uses counted on leases
//
// a use being a redemption (Redeemed, or Reversed when given back) or a
// till's conflicted entry (no redemption; Reversed when given back), on a
// lease when its till entry was counted there; and that every lease keeps
// package lease's invariants.
func (e *env) wantTillInvariant(t *testing.T, seriesID string) {
	t.Helper()
	ls := e.st.(store.LeaseStore)
	leases, err := ls.Leases(e.ctx, store.LeaseQuery{SeriesID: seriesID})
	mustOK(t, err, "Leases")
	entries, err := ls.TillEntries(e.ctx, store.TillEntryQuery{SeriesID: seriesID})
	mustOK(t, err, "TillEntries")
	want := int64(0)
	onLease := map[string]bool{}
	for _, x := range entries {
		switch {
		case x.Reverses != "":
		case x.RedemptionID != "":
			onLease[x.RedemptionID] = x.Counted == lease.OnLease
		case x.Counted == lease.OnSeries && x.Reversed.IsZero():
			want++
		case x.Counted == lease.OnLease && !x.Reversed.IsZero():
			want--
		}
	}
	for _, r := range e.records(seriesID) {
		switch {
		case r.Status == coupon.StatusRedeemed && !onLease[r.ID]:
			want++
		case r.Status == coupon.StatusReversed && onLease[r.ID]:
			want--
		}
	}
	for _, l := range leases {
		if err := l.Check(); err != nil {
			t.Errorf("lease %s: %v", l.ID, err)
		}
		want += l.Granted.Sub(l.Returned).Sub(l.Reclaimed).Uses
	}
	if got := e.count(key(limits.SeriesUses, seriesID, "", "")).N; got != want {
		t.Errorf("series uses counted %d, want %d (uses on the series, leases, reversals of %d entries)", got, want, len(entries))
	}
}

func onlineReq(till, key, seriesID, code, customer string) couponkit.TillRedeemRequest {
	return couponkit.TillRedeemRequest{Till: till, Key: key, SeriesID: seriesID, Code: code, Customer: customer, Bill: eur("60"), At: t0}
}

func (e *env) online(t *testing.T, req couponkit.TillRedeemRequest) couponkit.TillRedeemResult {
	t.Helper()
	r, err := e.e.RedeemAtTill(e.ctx, req)
	mustOK(t, err, "RedeemAtTill(%s/%s)", req.Till, req.Key)
	return r
}

func testOnlineOnTheLease(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(3)
	l := e.grant(t, "till-1", s.ID, "g1", 3)
	a, b := e.issue(s.ID, alice), e.issue(s.ID, bob)
	_, err := e.e.Redeem(e.ctx, redeemReq(b.Code, bob, "central-1", "60"))
	wantCode(t, err, errcode.LimitReached, "a central redemption of a series fully leased out")
	req := onlineReq("till-1", "sale-1", s.ID, a.Code, alice)
	r := e.online(t, req)
	same(t, [4]any{r.Entry.Online, r.Entry.Counted, r.Entry.LeaseID, r.Replayed}, [4]any{true, lease.OnLease, l.ID, false}, "an online use draws on the till's lease")
	same(t, r.Redemption.Redemption.IdempotencyKey, "till-1/sale-1", "the redemption's key is the till's and the sale's")
	same(t, e.stored(a.ID).State, coupon.Redeemed, "the coupon is redeemed")
	same(t, e.lease(t, l.ID).Used, lease.Slice{Uses: 1}, "the lease counts the use")
	k := key(limits.SeriesUses, s.ID, "", "")
	same(t, e.count(k).N, int64(3), "the series counted the use with the lease, not again")
	again := e.online(t, req)
	same(t, [2]any{again.Replayed, again.Redemption.Redemption.ID}, [2]any{true, r.Redemption.Redemption.ID}, "a repeat answers the first use")
	same(t, e.lease(t, l.ID).Used, lease.Slice{Uses: 1}, "a repeat counts nothing")
	other := req
	other.Bill = eur("70")
	_, err = e.e.RedeemAtTill(e.ctx, other)
	wantCode(t, err, errcode.KeyMismatch, "the same key with another bill")
	other = req
	other.Code = b.Code
	_, err = e.e.RedeemAtTill(e.ctx, other)
	wantCode(t, err, errcode.KeyMismatch, "the same key with another code")
	e.wantTillInvariant(t, s.ID)
}

func testOnlineWithoutLease(t *testing.T, e *env) {
	ls := leaseStore(t, e)
	s := e.leaseSeries(2)
	a, b, c := e.issue(s.ID, alice), e.issue(s.ID, bob), e.issue(s.ID, carol)
	r := e.online(t, onlineReq("till-9", "k1", s.ID, a.Code, alice))
	same(t, [3]any{r.Entry.Counted, r.Entry.LeaseID, r.Entry.Online}, [3]any{lease.OnSeries, "", true}, "a till without a lease makes an ordinary redemption")
	k := key(limits.SeriesUses, s.ID, "", "")
	same(t, e.count(k).N, int64(1), "counted on the series")
	_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Codes: []string{b.Code}, Actor: "op", Reason: "fraud"})
	mustOK(t, err, "Revoke")
	evs := len(e.allEvents())
	_, err = e.e.RedeemAtTill(e.ctx, onlineReq("till-9", "k2", s.ID, b.Code, bob))
	wantCode(t, err, errcode.Revoked, "an online use of a revoked code")
	_, err = e.e.RedeemAtTill(e.ctx, onlineReq("till-9", "k3", s.ID, a.Code, bob))
	wantCode(t, err, errcode.CouponNotFound, "an online use of another customer's code")
	if _, err := ls.TillEntry(e.ctx, "till-9", "k2"); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("a refused online use was recorded: %v", err)
	}
	same(t, [2]any{e.count(k).N, len(e.allEvents())}, [2]any{int64(1), evs}, "refused online uses change nothing")
	e.online(t, onlineReq("till-9", "k4", s.ID, c.Code, carol))
	_, err = e.e.RedeemAtTill(e.ctx, onlineReq("till-9", "k5", s.ID, e.issue(s.ID, dave).Code, dave))
	wantCode(t, err, errcode.LimitReached, "an online use past the series' limit, without a lease")
	e.wantTillInvariant(t, s.ID)
}

func testOnlineThenJournal(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(5)
	l1 := e.grant(t, "till-1", s.ID, "g1", 2)
	l2 := e.grant(t, "till-1", s.ID, "g2", 2)
	a := e.issue(s.ID, alice)
	first := e.online(t, onlineReq("till-1", "sale-1", s.ID, a.Code, alice))
	drawn := first.Entry.LeaseID
	other := l2.ID
	if drawn == l2.ID {
		other = l1.ID
	}
	before := [2]lease.Lease{e.lease(t, l1.ID), e.lease(t, l2.ID)}
	// The answer was lost: the till made the sale offline on another
	// lease, at its own time, and uploads it.
	x := entry("sale-1", other, a.Code, alice, t0.Add(time.Minute))
	recs := e.sync(t, "till-1", x)
	same(t, recs[0], first.Entry, "the journal entry is answered with the online record")
	same(t, [2]lease.Lease{e.lease(t, l1.ID), e.lease(t, l2.ID)}, before, "and counts nothing again")
	same(t, len(e.records(s.ID)), 1, "one redemption")
	x.Bill = eur("99")
	_, err := e.e.ApplyJournal(e.ctx, couponkit.JournalBatch{Till: "till-1", Entries: []couponkit.JournalEntry{x}})
	wantCode(t, err, errcode.KeyMismatch, "the online key uploaded with another bill")
	e.wantTillInvariant(t, s.ID)
}

func testJournalThenOnline(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(5)
	l := e.grant(t, "till-1", s.ID, "g1", 2)
	a, b := e.issue(s.ID, alice), e.issue(s.ID, bob)
	recs := e.sync(t, "till-1", entry("sale-1", l.ID, a.Code, alice, t0))
	r := e.online(t, onlineReq("till-1", "sale-1", s.ID, a.Code, alice))
	same(t, [2]any{r.Replayed, r.Entry}, [2]any{true, recs[0]}, "an online call of a key the journal recorded answers that record")
	same(t, r.Redemption.Redemption.ID, recs[0].RedemptionID, "with its redemption")
	same(t, e.lease(t, l.ID).Used, lease.Slice{Uses: 1}, "counted once")
	_, err := e.e.RedeemAtTill(e.ctx, onlineReq("till-1", "sale-1", s.ID, b.Code, bob))
	wantCode(t, err, errcode.KeyMismatch, "the journal's key with another code")
	e.wantTillInvariant(t, s.ID)
}

// testOnlineRace races, for each of several keys, online calls and journal
// uploads of the same sale: each is recorded once, every answer is that
// record, and the counts hold.
func testOnlineRace(t *testing.T, e *env) {
	ls := leaseStore(t, e)
	const n = 6
	s := e.leaseSeries(20)
	l := e.grant(t, "till-1", s.ID, "g1", n)
	codes := make([]string, n)
	for i := range codes {
		codes[i] = e.issue(s.ID, alice).Code
	}
	ids := make([][4]string, n)
	var wg sync.WaitGroup
	for i := range n {
		k := fmt.Sprintf("sale-%d", i)
		for j := range 4 {
			wg.Go(func() {
				if j%2 == 0 {
					r, err := e.e.RedeemAtTill(e.ctx, onlineReq("till-1", k, s.ID, codes[i], alice))
					if err != nil {
						t.Errorf("%s online: %v", k, err)
						return
					}
					ids[i][j] = r.Entry.RedemptionID
					return
				}
				ack, err := e.e.ApplyJournal(e.ctx, couponkit.JournalBatch{Till: "till-1", Entries: []couponkit.JournalEntry{entry(k, l.ID, codes[i], alice, t0)}})
				if err != nil {
					t.Errorf("%s journal: %v", k, err)
					return
				}
				ids[i][j] = ack.Entries[0].RedemptionID
			})
		}
	}
	wg.Wait()
	for i := range n {
		rec, err := ls.TillEntry(e.ctx, "till-1", fmt.Sprintf("sale-%d", i))
		mustOK(t, err, "TillEntry")
		if rec.RedemptionID == "" || rec.Conflicted() {
			t.Errorf("sale-%d recorded as %+v, want one allowed use", i, rec)
		}
		for j, id := range ids[i] {
			if id != rec.RedemptionID {
				t.Errorf("sale-%d: answer %d names redemption %q, the record %q", i, j, id, rec.RedemptionID)
			}
		}
	}
	same(t, len(e.records(s.ID)), n, "one redemption per sale")
	same(t, e.lease(t, l.ID).Used, lease.Slice{Uses: n}, "one use per sale on the lease")
	e.wantTillInvariant(t, s.ID)
}

// storeEntries selects a till's recorded entries.
func storeEntries(till string) store.TillEntryQuery { return store.TillEntryQuery{Till: till} }

// testOnlineLeaseEndingFirst: an online use draws on the till's open lease
// with uses left that ends first, and on no other till's.
func testOnlineLeaseEndingFirst(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(10)
	grant := func(till, key string, end time.Duration) lease.Lease {
		r, err := e.e.GrantLease(e.ctx, couponkit.LeaseRequest{Till: till, SeriesID: s.ID, Key: key, Uses: 1, End: e.clk.Now().Add(end)})
		mustOK(t, err, "GrantLease")
		return r.Lease
	}
	grant("till-2", "g0", 30*time.Minute)
	late := grant("till-1", "g1", 3*time.Hour)
	early := grant("till-1", "g2", 2*time.Hour)
	r := e.online(t, onlineReq("till-1", "k1", s.ID, e.issue(s.ID, alice).Code, alice))
	same(t, r.Entry.LeaseID, early.ID, "the first use draws on the lease ending first")
	r = e.online(t, onlineReq("till-1", "k2", s.ID, e.issue(s.ID, bob).Code, bob))
	same(t, r.Entry.LeaseID, late.ID, "the next on the one with uses left")
	r = e.online(t, onlineReq("till-1", "k3", s.ID, e.issue(s.ID, carol).Code, carol))
	same(t, [2]any{r.Entry.LeaseID, r.Entry.Counted}, [2]any{"", lease.OnSeries}, "then on the series")
	e.wantTillInvariant(t, s.ID)
}

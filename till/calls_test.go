package till_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/till"
)

// TestPutLeaseKeepsNewestAnswer: an older answer about a lease (a retried
// call answered with its first result, a duplicate delivered late) put
// after a newer one changes nothing, so a return is never rolled back; a
// newer one is kept.
func TestPutLeaseKeepsNewestAnswer(t *testing.T) {
	ctx := context.Background()
	j := openJournal(t, openDB(t, filepath.Join(t.TempDir(), "till.db")))
	granted := grant(t, j, "l1", 5)
	returned, err := granted.Return(lease.Slice{Uses: 3}, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	toppedUp, err := returned.TopUp(lease.Slice{Uses: 4}, t0.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for i, step := range []struct {
		put  lease.Lease
		left int64
	}{
		{returned, 2}, {granted, 2}, {returned, 2}, {toppedUp, 6}, {granted, 6}, {returned, 6},
	} {
		if err := j.PutLease(ctx, step.put); err != nil {
			t.Fatal(err)
		}
		if left, err := j.Left(ctx, "l1"); err != nil || left != step.left {
			t.Fatalf("step %d: after putting version %d, %d left, %v; want %d", i, step.put.Version, left, err, step.left)
		}
	}
	ls, err := j.Leases(ctx)
	if err != nil || len(ls) != 1 || ls[0].Version != toppedUp.Version || ls[0].Granted != 9 || ls[0].Returned != 3 {
		t.Fatalf("leases %+v, %v", ls, err)
	}
}

// TestReserveReturn: a return's uses are set aside before it is sent, so
// the till does not spend them while its answer is in doubt, across a
// crash; the answer (or a refusal) settles it; the key is the call's.
func TestReserveReturn(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "till.db")
	j := openJournal(t, openDB(t, path))
	l := grant(t, j, "l1", 5)
	if _, err := j.Redeem(ctx, use("u1", t0), nil); err != nil {
		t.Fatal(err)
	}
	if err := j.ReserveReturn(ctx, "l1", 5, "r1"); !errors.Is(err, errcode.ErrInvalidArgument) {
		t.Fatalf("a return of more than is left: %v", err)
	}
	if err := j.ReserveReturn(ctx, "l9", 1, "r1"); !errors.Is(err, errcode.ErrNotFound) {
		t.Fatalf("a return on no lease: %v", err)
	}
	for range 2 { // writing it down twice is once
		if err := j.ReserveReturn(ctx, "l1", 3, "r1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.ReserveReturn(ctx, "l1", 1, "r1"); !errors.Is(err, errcode.ErrKeyMismatch) {
		t.Fatalf("another return under the key: %v", err)
	}
	j = openJournal(t, openDB(t, path)) // the till restarts with the return in doubt
	if left, err := j.Left(ctx, "l1"); err != nil || left != 1 {
		t.Fatalf("with 3 of 4 set aside: %d left, %v; want 1", left, err)
	}
	calls, err := j.Calls(ctx)
	if err != nil || len(calls) != 1 || calls[0] != (till.Call{Key: "r1", Kind: lease.Return, SeriesID: "s1", LeaseID: "l1", Uses: 3}) {
		t.Fatalf("calls %+v, %v", calls, err)
	}
	if _, err := j.Redeem(ctx, use("u2", t0), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Redeem(ctx, use("u3", t0), nil); !errors.Is(err, errcode.ErrNoLease) {
		t.Fatalf("a use of the uses set aside: %v", err)
	}
	returned, err := l.Return(lease.Slice{Uses: 3}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.SettleCall(ctx, "r1", &returned); err != nil {
		t.Fatal(err)
	}
	if left, err := j.Left(ctx, "l1"); err != nil || left != 0 {
		t.Fatalf("after the answer: %d left, %v; want 0", left, err)
	}
	if calls, err := j.Calls(ctx); err != nil || len(calls) != 0 {
		t.Fatalf("calls after the answer: %+v, %v", calls, err)
	}
	// A refused return gives the uses back to the till.
	j2 := openJournal(t, openDB(t, filepath.Join(t.TempDir(), "till2.db")))
	grant(t, j2, "l1", 5)
	if err := j2.ReserveReturn(ctx, "l1", 4, "r1"); err != nil {
		t.Fatal(err)
	}
	if err := j2.SettleCall(ctx, "r1", nil); err != nil {
		t.Fatal(err)
	}
	if left, err := j2.Left(ctx, "l1"); err != nil || left != 5 {
		t.Fatalf("after a refused return: %d left, %v; want 5", left, err)
	}
}

// lossy is a central whose lease calls of the kinds in lose are applied
// and their answers lost (the till's deadline passes), once each.
type lossy struct {
	till.Local
	lose map[lease.Kind]bool
}

func (f *lossy) lost(k lease.Kind, r couponkit.LeaseResult, err error) (couponkit.LeaseResult, error) {
	if err == nil && f.lose[k] {
		f.lose[k] = false
		return couponkit.LeaseResult{}, context.DeadlineExceeded
	}
	return r, err
}

func (f *lossy) GrantLease(ctx context.Context, req couponkit.LeaseRequest) (couponkit.LeaseResult, error) {
	r, err := f.Local.GrantLease(ctx, req)
	return f.lost(lease.Grant, r, err)
}

func (f *lossy) ReturnLease(ctx context.Context, c couponkit.LeaseCall) (couponkit.LeaseResult, error) {
	r, err := f.Local.ReturnLease(ctx, c)
	return f.lost(lease.Return, r, err)
}

// TestSyncResendsUnansweredCalls: a grant and a return whose answers were
// lost are sent again by the next Sync with the same key, after the till
// restarts too: the till learns the lease the grant made (no second lease
// is granted), and the returned uses, set aside meanwhile, are returned
// once.
func TestSyncResendsUnansweredCalls(t *testing.T) {
	ctx := context.Background()
	c := newCentral(t)
	cen := &lossy{Local: till.Local{Engine: c.e}, lose: map[lease.Kind]bool{lease.Grant: true}}
	path := filepath.Join(t.TempDir(), "till.db")
	want := int64(10)
	open := func() (*till.Till, *till.Journal) {
		j, err := till.Open(ctx, openDB(t, path), skew, till.WithTill("till-1"))
		if err != nil {
			t.Fatal(err)
		}
		tl, err := till.New(till.Config{ID: "till-1", Journal: j, Central: cen, Now: c.clock.Now,
			Series: []string{c.s.ID}, Size: func(lease.SizeInput) int64 { return want }})
		if err != nil {
			t.Fatal(err)
		}
		return tl, j
	}
	tl, j := open()
	if _, err := tl.Sync(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a sync whose grant's answer is lost: %v", err)
	}
	if ls, _ := j.Leases(ctx); len(ls) != 0 {
		t.Fatalf("the till holds %+v before the answer", ls)
	}
	tl, j = open() // restarted, a minute later
	c.clock.Add(time.Minute)
	if rep, err := tl.Sync(ctx); err != nil || len(rep.Leases) != 1 || rep.Leases[0].Kind != lease.Grant {
		t.Fatalf("the next sync: %+v, %v; want the grant sent again", rep, err)
	}
	central := func() lease.Lease {
		t.Helper()
		ls, err := c.st.Leases(ctx, store.LeaseQuery{Till: "till-1"})
		if err != nil || len(ls) != 1 {
			t.Fatalf("the central's leases of the till: %+v, %v; want one", ls, err)
		}
		return ls[0]
	}
	if ls, err := j.Leases(ctx); err != nil || len(ls) != 1 || ls[0].ID != central().ID || ls[0].Left() != 10 {
		t.Fatalf("the till's leases: %+v, %v", ls, err)
	}
	want, cen.lose[lease.Return] = 2, true
	if _, err := tl.Sync(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a sync whose return's answer is lost: %v", err)
	}
	if left, err := j.Left(ctx, central().ID); err != nil || left != 2 {
		t.Fatalf("with the return in doubt: %d left, %v; want 2 (8 set aside)", left, err)
	}
	tl, j = open()
	if _, err := tl.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	l := central()
	if l.Returned.Uses != 8 {
		t.Fatalf("the central's lease returned %d; want 8, once", l.Returned.Uses)
	}
	if ls, err := j.Leases(ctx); err != nil || ls[0].Returned != 8 || ls[0].Reserved != 0 || ls[0].Left() != 2 {
		t.Fatalf("the till's leases after the return's answer: %+v, %v", ls, err)
	}
	if calls, err := j.Calls(ctx); err != nil || len(calls) != 0 {
		t.Fatalf("calls left: %+v, %v", calls, err)
	}
}

// downable is a central whose online redemption can be down
// (answering Unavailable).
type downable struct {
	till.Local
	down bool
}

func (s *downable) RedeemAtTill(ctx context.Context, req couponkit.TillRedeemRequest) (couponkit.TillRedeemResult, error) {
	if s.down {
		return couponkit.TillRedeemResult{}, errcode.New(errcode.Unavailable, "", "down")
	}
	return s.Local.RedeemAtTill(ctx, req)
}

// TestOnlineUseSparesLeaseSpentOffline: a till that spent its lease
// offline, and has not uploaded the use, names no lease when it redeems
// online, so the central counts the online use on the series; the
// offline use, uploaded later, finds its lease's use still there (counted
// on the lease, not past it on the series).
func TestOnlineUseSparesLeaseSpentOffline(t *testing.T) {
	ctx := context.Background()
	c := newCentral(t)
	bob := c.issue(t, "bob")
	cen := &downable{Local: till.Local{Engine: c.e}}
	j, err := till.Open(ctx, openDB(t, filepath.Join(t.TempDir(), "till.db")), skew, till.WithTill("till-1"))
	if err != nil {
		t.Fatal(err)
	}
	tl, err := till.New(till.Config{ID: "till-1", Journal: j, Central: cen, Now: c.clock.Now,
		Series: []string{c.s.ID}, Size: func(lease.SizeInput) int64 { return 1 }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tl.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	cen.down = true
	if r, err := tl.Redeem(ctx, c.sale("s1", c.code, "alice"), nil); err != nil || r.Online || r.Entry.LeaseID == "" {
		t.Fatalf("the offline sale: %+v, %v", r, err)
	}
	cen.down = false
	r, err := tl.Redeem(ctx, c.sale("s2", bob, "bob"), nil)
	if err != nil || !r.Online || r.Entry.LeaseID != "" || r.Redemption.Redemption.ID == "" {
		t.Fatalf("the online sale: %+v, %v", r, err)
	}
	if _, err := j.Sync(ctx, "till-1", cen, 0); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]lease.Counted{"s1": lease.OnLease, "s2": lease.OnSeries} {
		e, err := c.st.TillEntry(ctx, "till-1", key)
		if err != nil || e.Counted != want || e.Conflicted() {
			t.Errorf("%s: recorded %+v, %v; want counted %v, no conflict", key, e, err, want)
		}
	}
}

// unnamed is a central reached by a till that names no lease online (as
// a till did before requests named one): the central picks the lease.
type unnamed struct{ till.Central }

func (u unnamed) RedeemAtTill(ctx context.Context, req couponkit.TillRedeemRequest) (couponkit.TillRedeemResult, error) {
	req.LeaseID, req.NoLease = "", false
	return u.Central.RedeemAtTill(ctx, req)
}

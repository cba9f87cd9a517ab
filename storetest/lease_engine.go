package storetest

import (
	"context"
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
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// The engine's lease operations over a store that keeps leases.

// leaseEngineTests are the lease subtests of the engine tier.
var leaseEngineTests = []test{
	{"GrantReplay", testLeaseGrantReplay},
	{"PastRemaining", testLeasePastRemaining},
	{"OwnLeasesOnly", testLeaseOwnOnly},
	{"TopUpReturnRenew", testLeaseTopUpReturnRenew},
	{"Reclaim", testLeaseReclaim},
	{"RaceAtLimit", testLeaseRace},
}

// leaseSeries creates a generated series with a series-level use limit.
func (e *env) leaseSeries(limit limits.Limit) series.Series {
	return e.gen("leased", func(s *series.Series) { s.Redemption.MaxPerSeries = limit })
}

// wantLeaseInvariants checks, for the series, that its use counter is the
// unreversed redemptions made centrally plus what every lease holds
// (Granted - Returned - Reclaimed), and that every lease keeps package
// lease's invariants.
func (e *env) wantLeaseInvariants(t *testing.T, seriesID string) {
	t.Helper()
	ls := e.st.(store.LeaseStore)
	leases, err := ls.Leases(e.ctx, store.LeaseQuery{SeriesID: seriesID})
	mustOK(t, err, "Leases")
	reds, err := e.st.ListRedemptions(e.ctx, store.RedemptionQuery{SeriesID: seriesID, Status: coupon.StatusRedeemed})
	mustOK(t, err, "ListRedemptions")
	want := int64(len(reds))
	for _, l := range leases {
		if err := l.Check(); err != nil {
			t.Errorf("lease %s: %v", l.ID, err)
		}
		want += l.Granted.Sub(l.Returned).Sub(l.Reclaimed).Uses
	}
	if got := e.count(key(limits.SeriesUses, seriesID, "", "")).N; got != want {
		t.Errorf("series uses counted %d, want %d (central uses %d + what %d leases hold)", got, want, len(reds), len(leases))
	}
}

func (e *env) grant(t *testing.T, till, seriesID, key string, uses int64) lease.Lease {
	t.Helper()
	r, err := e.e.GrantLease(e.ctx, couponkit.LeaseRequest{Till: till, SeriesID: seriesID, Key: key, Uses: uses, End: e.clk.Now().Add(time.Hour)})
	mustOK(t, err, "GrantLease(%s, %d)", key, uses)
	return r.Lease
}

func testLeaseGrantReplay(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(10)
	req := couponkit.LeaseRequest{Till: "till-1", SeriesID: s.ID, Key: "g1", Uses: 4, End: e.clk.Now().Add(time.Hour)}
	first, err := e.e.GrantLease(e.ctx, req)
	if !wantOK(t, err, "a grant within the limit") {
		return
	}
	same(t, first.Lease.Granted, lease.Slice{Uses: 4}, "the lease holds what was asked")
	e.clk.Advance(time.Minute)
	again, err := e.e.GrantLease(e.ctx, req)
	if wantOK(t, err, "a repeated grant") {
		same(t, again.Lease, first.Lease, "a repeat returns the first lease")
		same(t, again.Replayed, true, "a repeat says it is one")
	}
	other := req
	other.Uses = 5
	_, err = e.e.GrantLease(e.ctx, other)
	wantCode(t, err, errcode.KeyMismatch, "the same key with other uses")
	other = req
	other.Till = "till-2"
	_, err = e.e.GrantLease(e.ctx, other)
	mustOK(t, err, "another till's key space is its own")
	if n := e.count(key(limits.SeriesUses, s.ID, "", "")).N; n != 8 {
		t.Errorf("two grants of 4 counted %d uses, want 8", n)
	}
	e.wantLeaseInvariants(t, s.ID)
}

func testLeasePastRemaining(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(5)
	c := e.issue(s.ID, alice)
	e.redeem(c.Code, alice, "pos-1")
	e.grant(t, "till-1", s.ID, "g1", 3)
	_, err := e.e.GrantLease(e.ctx, couponkit.LeaseRequest{Till: "till-1", SeriesID: s.ID, Key: "g2", Uses: 2, End: e.clk.Now().Add(time.Hour)})
	wantCode(t, err, errcode.LimitReached, "a grant past what the series has left (1)")
	ls := e.st.(store.LeaseStore)
	if _, err := ls.LeaseOp(e.ctx, "till-1", "g2"); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("a refused grant recorded its call: %v", err)
	}
	e.grant(t, "till-1", s.ID, "g3", 1)
	_, err = e.e.Redeem(e.ctx, couponkit.RedeemRequest{Code: e.issue(s.ID, bob).Code, Customer: couponkit.ByID(bob), IdempotencyKey: "pos-2", Bill: eur("100")})
	wantCode(t, err, errcode.LimitReached, "a central redemption once the series is fully leased out")
	e.wantLeaseInvariants(t, s.ID)
}

func testLeaseOwnOnly(t *testing.T, e *env) {
	ls := leaseStore(t, e)
	s := e.leaseSeries(10)
	l := e.grant(t, "till-1", s.ID, "g1", 4)
	for name, call := range map[string]func(context.Context, couponkit.LeaseCall) (couponkit.LeaseResult, error){
		"top up": e.e.TopUpLease, "return": e.e.ReturnLease,
	} {
		_, err := call(e.ctx, couponkit.LeaseCall{Till: "till-2", LeaseID: l.ID, Key: "x", Uses: 1})
		wantCode(t, err, errcode.NotFound, "a %s of another till's lease", name)
	}
	_, err := e.e.RenewLease(e.ctx, couponkit.LeaseCall{Till: "till-2", LeaseID: l.ID, Key: "x", End: l.End.Add(time.Hour)})
	wantCode(t, err, errcode.NotFound, "a renewal of another till's lease")
	got, err := ls.Lease(e.ctx, l.ID)
	mustOK(t, err, "Lease")
	same(t, got, l, "another till's calls change nothing")
	e.wantLeaseInvariants(t, s.ID)
}

func testLeaseTopUpReturnRenew(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(10)
	l := e.grant(t, "t", s.ID, "g1", 4)
	call := couponkit.LeaseCall{Till: "t", LeaseID: l.ID, Key: "u1", Uses: 2}
	r, err := e.e.TopUpLease(e.ctx, call)
	mustOK(t, err, "a top-up")
	same(t, r.Lease.Granted, lease.Slice{Uses: 6}, "a top-up adds to what was granted")
	if r2, err := e.e.TopUpLease(e.ctx, call); err != nil || !r2.Replayed || r2.Lease != r.Lease {
		t.Errorf("a repeated top-up: %v, %+v", err, r2)
	}
	_, err = e.e.ReturnLease(e.ctx, couponkit.LeaseCall{Till: "t", LeaseID: l.ID, Key: "u1", Uses: 2})
	wantCode(t, err, errcode.KeyMismatch, "a return under a top-up's key")
	_, err = e.e.TopUpLease(e.ctx, couponkit.LeaseCall{Till: "t", LeaseID: l.ID, Key: "u2", Uses: 5})
	wantCode(t, err, errcode.LimitReached, "a top-up past what the series has left")
	r, err = e.e.ReturnLease(e.ctx, couponkit.LeaseCall{Till: "t", LeaseID: l.ID, Key: "r1", Uses: 5})
	mustOK(t, err, "a return")
	same(t, r.Lease.Left(), lease.Slice{Uses: 1}, "a return takes from what is left")
	if n := e.count(key(limits.SeriesUses, s.ID, "", "")).N; n != 1 {
		t.Errorf("after granting 6 and returning 5 the series counts %d uses, want 1", n)
	}
	_, err = e.e.ReturnLease(e.ctx, couponkit.LeaseCall{Till: "t", LeaseID: l.ID, Key: "r2", Uses: 2})
	wantCode(t, err, errcode.InvalidArgument, "a return of more than is left")
	end := l.End.Add(time.Hour)
	r, err = e.e.RenewLease(e.ctx, couponkit.LeaseCall{Till: "t", LeaseID: l.ID, Key: "n1", End: end})
	if wantOK(t, err, "a renewal") && !r.Lease.End.Equal(end) {
		t.Errorf("a renewal moved End to %v, want %v", r.Lease.End, end)
	}
	e.wantLeaseInvariants(t, s.ID)
}

func testLeaseReclaim(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(10)
	l := e.grant(t, "t", s.ID, "g1", 4)
	skew := 2 * time.Minute
	e.clk.Advance(l.End.Sub(e.clk.Now()) + skew - time.Second)
	got, err := e.e.ReclaimLapsed(e.ctx, couponkit.ReclaimRequest{Skew: skew})
	mustOK(t, err, "ReclaimLapsed")
	if len(got) != 0 {
		t.Errorf("a lease reclaimed before its end plus the allowance: %+v", got)
	}
	e.clk.Advance(time.Second)
	got, err = e.e.ReclaimLapsed(e.ctx, couponkit.ReclaimRequest{Skew: skew})
	mustOK(t, err, "ReclaimLapsed")
	if len(got) != 1 || got[0].Status != lease.Closed || got[0].Reclaimed != l.Granted {
		t.Fatalf("reclaimed %+v, want lease %s closed with its 4 uses reclaimed", got, l.ID)
	}
	if n := e.count(key(limits.SeriesUses, s.ID, "", "")).N; n != 0 {
		t.Errorf("a reclaimed lease still counts %d uses", n)
	}
	got, err = e.e.ReclaimLapsed(e.ctx, couponkit.ReclaimRequest{Skew: skew})
	if err != nil || len(got) != 0 {
		t.Errorf("a second reclaim: %v, %+v", err, got)
	}
	_, err = e.e.TopUpLease(e.ctx, couponkit.LeaseCall{Till: "t", LeaseID: l.ID, Key: "u", Uses: 1})
	wantCode(t, err, errcode.InvalidTransition, "a top-up of a closed lease")
	e.wantLeaseInvariants(t, s.ID)
}

// testLeaseRace races grants, top-ups and returns of many tills at one
// series' limit: the limit holds and the counter equals what the leases
// hold.
func testLeaseRace(t *testing.T, e *env) {
	leaseStore(t, e)
	const limit = 10
	s := e.leaseSeries(limit)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			till := fmt.Sprintf("till-%d", i)
			end := e.clk.Now().Add(time.Hour)
			r, err := e.e.GrantLease(e.ctx, couponkit.LeaseRequest{Till: till, SeriesID: s.ID, Key: "g", Uses: int64(1 + i%3), End: end})
			if err != nil {
				if !errors.Is(err, errcode.ErrLimitReached) {
					t.Errorf("%s: grant: %v", till, err)
				}
				return
			}
			_, err = e.e.ReturnLease(e.ctx, couponkit.LeaseCall{Till: till, LeaseID: r.Lease.ID, Key: "r", Uses: 1})
			if err != nil {
				t.Errorf("%s: return: %v", till, err)
			}
			_, err = e.e.TopUpLease(e.ctx, couponkit.LeaseCall{Till: till, LeaseID: r.Lease.ID, Key: "u", Uses: 2})
			if err != nil && !errors.Is(err, errcode.ErrLimitReached) {
				t.Errorf("%s: top up: %v", till, err)
			}
		})
	}
	wg.Wait()
	if n := e.count(key(limits.SeriesUses, s.ID, "", "")).N; n > limit {
		t.Errorf("tills leased %d uses of a limit of %d", n, limit)
	}
	e.wantLeaseInvariants(t, s.ID)
}

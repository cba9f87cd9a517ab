package storetest

import (
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
)

// testOnlineNamedLease: an online use draws on the lease the till names
// when it is the till's open lease of the series with a use left, and on
// the series otherwise (another till's lease, one used up, NoLease),
// never on another of the till's leases.
func testOnlineNamedLease(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(10)
	grant := func(till, key string, uses int64, end time.Duration) lease.Lease {
		r, err := e.e.GrantLease(e.ctx, couponkit.LeaseRequest{Till: till, SeriesID: s.ID, Key: key, Uses: uses, End: e.clk.Now().Add(end)})
		mustOK(t, err, "GrantLease")
		return r.Lease
	}
	other := grant("till-2", "g0", 1, 30*time.Minute)
	late := grant("till-1", "g1", 2, 3*time.Hour)
	early := grant("till-1", "g2", 1, 2*time.Hour)
	n := 0
	use := func(leaseID string, noLease bool) couponkit.TillRedeemResult {
		who := []string{alice, bob, carol, dave, erin}[n]
		n++
		req := onlineReq("till-1", "k"+string(rune('0'+n)), s.ID, e.issue(s.ID, who).Code, who)
		req.LeaseID, req.NoLease = leaseID, noLease
		return e.online(t, req)
	}
	r := use(late.ID, false)
	same(t, [2]any{r.Entry.LeaseID, r.Entry.Counted}, [2]any{late.ID, lease.OnLease}, "the named lease, not the one ending first")
	r = use(other.ID, false)
	same(t, [2]any{r.Entry.LeaseID, r.Entry.Counted}, [2]any{"", lease.OnSeries}, "another till's lease named: on the series")
	r = use("", true)
	same(t, [2]any{r.Entry.LeaseID, r.Entry.Counted}, [2]any{"", lease.OnSeries}, "no lease: on the series")
	use(early.ID, false)
	r = use(early.ID, false)
	same(t, [2]any{r.Entry.LeaseID, r.Entry.Counted}, [2]any{"", lease.OnSeries}, "a used-up lease named: on the series")
	same(t, [2]any{e.lease(t, early.ID).Used.Uses, e.lease(t, late.ID).Used.Uses}, [2]any{int64(1), int64(1)}, "the leases' uses")
	req := onlineReq("till-1", "bad", s.ID, "ANY", alice)
	req.LeaseID, req.NoLease = late.ID, true
	_, err := e.e.RedeemAtTill(e.ctx, req)
	wantCode(t, err, errcode.InvalidArgument, "a lease named with NoLease")
	e.wantTillInvariant(t, s.ID)
}

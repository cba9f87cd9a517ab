package storetest

import (
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// A till's sync down (Engine.TillFeed, Engine.TillSeries) and what a
// lease call tells of the series (LeaseResult.Remaining).

// leaseFeedTests are the sync-down subtests of the lease tier.
var leaseFeedTests = []test{
	{"OwnSeriesOnly", testTillFeed},
	{"Pages", testTillFeedPages},
	{"SeriesOfLeases", testTillSeries},
	{"Remaining", testLeaseRemaining},
}

func (e *env) tillFeed(t *testing.T, till string, after store.Position, limit int) couponkit.TillFeedPage {
	t.Helper()
	p, err := e.e.TillFeed(e.ctx, couponkit.TillFeedRequest{Till: till, After: after, Limit: limit})
	mustOK(t, err, "TillFeed(%s, %s, %d)", till, after, limit)
	return p
}

// twoSeriesFeed makes events of a series leased by till-1 and of another
// one, and returns the leased series' id, its events' ids and the feed's
// head.
func (e *env) twoSeriesFeed(t *testing.T) (string, []string, store.Position) {
	t.Helper()
	a := e.leaseSeries(10)
	b := e.gen("other")
	e.grant(t, "till-1", a.ID, "g1", 2)
	ca := e.issue(a.ID, alice)
	cb := e.issue(b.ID, bob)
	e.redeem(cb.Code, bob, "central-1")
	_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: a.ID, Codes: []string{ca.Code}, Actor: "op", Reason: "fraud"})
	mustOK(t, err, "Revoke")
	e.issue(a.ID, carol)
	e.issue(b.ID, dave)
	all, head := e.feed(store.Position{})
	want := []string{}
	for _, ev := range all {
		if ev.Event.SeriesID == a.ID {
			want = append(want, ev.Event.ID)
		}
	}
	return a.ID, want, head
}

func testTillFeed(t *testing.T, e *env) {
	leaseStore(t, e)
	a, want, head := e.twoSeriesFeed(t)
	p := e.tillFeed(t, "till-1", store.Position{}, 0)
	same(t, feedIDs(p.Events), want, "a till reads its series' events, in feed order")
	same(t, p.Next, head, "and resumes past every event read, other series' too")
	if len(p.Series) != 1 || p.Series[0].ID != a {
		t.Fatalf("Series = %+v, want the one series of the till's open lease", p.Series)
	}
	again := e.tillFeed(t, "till-1", p.Next, 0)
	same(t, [2]any{len(again.Events), again.Next}, [2]any{0, head}, "nothing new")
	stranger := e.tillFeed(t, "till-2", store.Position{}, 0)
	same(t, [3]any{len(stranger.Events), len(stranger.Series), stranger.Next}, [3]any{0, 0, head}, "a till without leases sees nothing")
	s := p.Series[0]
	s.Name = "renamed"
	_, err := e.e.UpdateSeries(e.ctx, s)
	mustOK(t, err, "UpdateSeries")
	same(t, e.tillFeed(t, "till-1", head, 0).Series[0].Name, "renamed", "a series' change is learned from Series")
	e.clk.Advance(3 * time.Hour)
	_, err = e.e.ReclaimLapsed(e.ctx, couponkit.ReclaimRequest{})
	mustOK(t, err, "ReclaimLapsed")
	closed := e.tillFeed(t, "till-1", store.Position{}, 0)
	same(t, [2]any{feedIDs(closed.Events), len(closed.Series)}, [2]any{want, 0}, "a closed lease's series: events still, configuration no more")
	_, err = e.e.TillFeed(e.ctx, couponkit.TillFeedRequest{Till: "till-1", Limit: -1})
	wantCode(t, err, errcode.InvalidArgument, "a negative limit")
}

func testTillFeedPages(t *testing.T, e *env) {
	leaseStore(t, e)
	_, want, head := e.twoSeriesFeed(t)
	for limit := 1; limit <= 3; limit++ {
		got := []string{}
		pos := store.Position{}
		for range 2 * len(want) {
			p := e.tillFeed(t, "till-1", pos, limit)
			if len(p.Events) > limit {
				t.Fatalf("a page of limit %d has %d events", limit, len(p.Events))
			}
			if p.Next.Compare(pos) < 0 {
				t.Fatalf("Next %s is before the position asked for, %s", p.Next, pos)
			}
			got, pos = append(got, feedIDs(p.Events)...), p.Next
			if len(p.Events) == 0 {
				break
			}
		}
		same(t, got, want, "pages of %d events read the till's events once each, in order", limit)
		same(t, pos, head, "the last page of %d ends at the feed's head", limit)
	}
}

func testTillSeries(t *testing.T, e *env) {
	leaseStore(t, e)
	a := e.leaseSeries(10)
	b := e.gen("other")
	e.grant(t, "till-1", a.ID, "g1", 2)
	s, err := e.e.TillSeries(e.ctx, "till-1", a.ID)
	if wantOK(t, err, "the series of the till's lease") {
		same(t, s.ID, a.ID, "its configuration")
	}
	_, errOther := e.e.TillSeries(e.ctx, "till-1", b.ID)
	wantCode(t, errOther, errcode.NotFound, "a series the till holds no lease of")
	_, errNone := e.e.TillSeries(e.ctx, "till-1", "no-such-series")
	wantCode(t, errNone, errcode.NotFound, "a series that does not exist")
	_, err = e.e.TillSeries(e.ctx, "till-2", a.ID)
	wantCode(t, err, errcode.NotFound, "another till's series")
}

func testLeaseRemaining(t *testing.T, e *env) {
	leaseStore(t, e)
	s := e.leaseSeries(10)
	req := couponkit.LeaseRequest{Till: "till-1", SeriesID: s.ID, Key: "g1", Uses: 4, End: e.clk.Now().Add(time.Hour)}
	r, err := e.e.GrantLease(e.ctx, req)
	mustOK(t, err, "GrantLease")
	same(t, r.Remaining, int64(6), "a grant of 4 of 10 leaves 6")
	r, err = e.e.GrantLease(e.ctx, req)
	mustOK(t, err, "GrantLease again")
	same(t, [2]any{r.Replayed, r.Remaining}, [2]any{true, int64(6)}, "a repeat tells what is left")
	call := couponkit.LeaseCall{Till: "till-1", LeaseID: r.Lease.ID, Key: "u1", Uses: 2}
	r, err = e.e.TopUpLease(e.ctx, call)
	mustOK(t, err, "TopUpLease")
	same(t, r.Remaining, int64(4), "a top-up of 2")
	call.Key, call.Uses = "r1", 3
	r, err = e.e.ReturnLease(e.ctx, call)
	mustOK(t, err, "ReturnLease")
	same(t, r.Remaining, int64(7), "a return of 3")
	r, err = e.e.RenewLease(e.ctx, couponkit.LeaseCall{Till: "till-1", LeaseID: r.Lease.ID, Key: "n1", End: e.clk.Now().Add(2 * time.Hour)})
	mustOK(t, err, "RenewLease")
	same(t, r.Remaining, int64(7), "a renewal")
	free := e.leaseSeries(limits.NoLimit)
	r, err = e.e.GrantLease(e.ctx, couponkit.LeaseRequest{Till: "till-1", SeriesID: free.ID, Key: "g2", Uses: 4, End: e.clk.Now().Add(time.Hour)})
	mustOK(t, err, "GrantLease of a series without a limit")
	same(t, r.Remaining, int64(-1), "a series without a use limit")
}

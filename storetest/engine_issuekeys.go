package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// The idempotency rules of issues (group Issue, listed in engine_issue.go): a key
// names one issue in its series; the same key with the same customer and
// code replays the first result and changes nothing, even where the rules
// would now refuse; another customer or code is refused and changes
// nothing; a batch run twice, or again after a reply was lost, issues each
// keyed request once. Race IssueSameKey: two requests with one key at once
// issue once.

// issueState is what an issue may change in a series: its coupons, its
// counters and code sequence (a repeat caught at the write made a code
// whose index advances with the change, so not at all), its events.
type issueState struct {
	Coupons  []coupon.Coupon
	Counters couponkit.SeriesCounters
	Events   int
}

func (e *env) issueState(seriesID string) issueState {
	e.t.Helper()
	return issueState{Coupons: e.seriesCoupons(seriesID), Counters: e.counters(seriesID),
		Events: len(e.events(store.EventQuery{SeriesID: seriesID}))}
}

func keyedIssue(seriesID, customer, key string) couponkit.IssueRequest {
	return couponkit.IssueRequest{SeriesID: seriesID, Customer: couponkit.ByID(customer), IdempotencyKey: key, Actor: "crm", Reason: "welcome"}
}

// wantReplay fails the test unless r replays the issue of first: no error,
// Replayed and not Resent, and the same coupon.
func wantReplay(t *testing.T, r couponkit.IssueResult, err error, first coupon.Coupon, rule string, args ...any) {
	t.Helper()
	if !wantOK(t, err, rule, args...) {
		return
	}
	if !r.Replayed || r.Resent || r.Coupon.ID != first.ID {
		t.Errorf("%s: want the first coupon %s replayed, got replayed %v resent %v coupon %s", fmt.Sprintf(rule, args...), first.ID, r.Replayed, r.Resent, r.Coupon.ID)
	}
}

func testIssueKeyReplays(t *testing.T, e *env) {
	s := e.gen("replay")
	first, err := e.e.Issue(e.ctx, keyedIssue(s.ID, alice, "crm-1"))
	mustOK(t, err, "a keyed issue")
	if first.Replayed || first.Coupon.IssueKey != "crm-1" || e.stored(first.Coupon.ID).IssueKey != "crm-1" {
		t.Errorf("a first issue is not a replay, and its coupon keeps the key: %+v", first)
	}
	before := e.issueState(s.ID)
	for i := range 2 {
		again, err := e.e.Issue(e.ctx, keyedIssue(s.ID, alice, "crm-1"))
		wantReplay(t, again, err, first.Coupon, "repeat %d of a keyed issue", i+1)
		same(t, again.Coupon, first.Coupon, "a replay returns the coupon the first issue returned (unchanged since)")
	}
	same(t, e.issueState(s.ID), before, "a replayed issue changes nothing")
	r, err := e.e.Issue(e.ctx, keyedIssue(s.ID, alice, ""))
	if wantOK(t, err, "an issue without a key") && (r.Replayed || r.Coupon.ID == first.Coupon.ID) {
		t.Errorf("an empty key is no key: a new coupon is issued: %+v", r)
	}
}

func testIssueKeyReplaysRefused(t *testing.T, e *env) {
	for _, tc := range []struct {
		name  string
		setup func(name string) (series.Series, couponkit.IssueRequest)
		after func(s series.Series) // makes a further issue refused, when the first issue does not
	}{
		{"the customer's maximum", func(name string) (series.Series, couponkit.IssueRequest) {
			s := e.gen(name, func(s *series.Series) { s.Issuance.MaxPerCustomer = 1 })
			return s, keyedIssue(s.ID, alice, "k")
		}, nil},
		{"the series' maximum", func(name string) (series.Series, couponkit.IssueRequest) {
			s := e.gen(name, func(s *series.Series) { s.Issuance.MaxTotal = 1 })
			return s, keyedIssue(s.ID, alice, "k")
		}, nil},
		{"the issue gap", func(name string) (series.Series, couponkit.IssueRequest) {
			s := e.gen(name, func(s *series.Series) { s.Issuance.MinGap = time.Hour })
			return s, keyedIssue(s.ID, alice, "k")
		}, nil},
		{"an empty pool", func(name string) (series.Series, couponkit.IssueRequest) {
			s := e.createSeries(baseSeries(name, uploadSrc()))
			e.upload(s.ID, "ONLY-1")
			return s, keyedIssue(s.ID, alice, "k")
		}, nil},
		{"a named code already issued", func(name string) (series.Series, couponkit.IssueRequest) {
			s := e.createSeries(baseSeries(name, uploadSrc()))
			e.upload(s.ID, "NAMED-1", "NAMED-2")
			r := keyedIssue(s.ID, alice, "k")
			r.Code = "named-1"
			return s, r
		}, nil},
		{"a common code", func(name string) (series.Series, couponkit.IssueRequest) {
			s := e.createSeries(baseSeries(name, commonSrc("WELCOME"+name)))
			return s, keyedIssue(s.ID, alice, "k")
		}, nil},
		{"a series that re-sends the existing coupon", func(name string) (series.Series, couponkit.IssueRequest) {
			s := e.gen(name, func(s *series.Series) {
				s.Issuance.MaxPerCustomer = 1
				s.Issuance.OnQualifyAgain = series.SendExisting
			})
			return s, keyedIssue(s.ID, alice, "k")
		}, nil},
		{"a paused series", func(name string) (series.Series, couponkit.IssueRequest) {
			s := e.gen(name)
			return s, keyedIssue(s.ID, alice, "k")
		}, func(s series.Series) {
			_, err := e.e.SetSeriesStatus(e.ctx, s.ID, series.Paused)
			mustOK(t, err, "pausing the series")
		}},
	} {
		s, req := tc.setup(fmt.Sprintf("refuse%d", len(tc.name)))
		first, err := e.e.Issue(e.ctx, req)
		mustOK(t, err, "%s: the first keyed issue", tc.name)
		if tc.after != nil {
			tc.after(s)
		}
		before := e.issueState(s.ID)
		other := req
		other.IdempotencyKey = "another-key"
		if r, err := e.e.Issue(e.ctx, other); err == nil && !r.Resent {
			t.Errorf("%s: the rules must refuse a further issue for the test to mean anything: %+v", tc.name, r)
		}
		again, err := e.e.Issue(e.ctx, req)
		wantReplay(t, again, err, first.Coupon, "%s: the same key again returns the first coupon, though the rules refuse a further issue", tc.name)
		same(t, e.issueState(s.ID), before, "%s: a replay changes nothing", tc.name)
	}
}

func testIssueKeyMismatch(t *testing.T, e *env) {
	s := e.gen("mismatch", func(s *series.Series) { s.Issuance.MaxPerCustomer = 1 })
	first, err := e.e.Issue(e.ctx, keyedIssue(s.ID, alice, "k"))
	mustOK(t, err, "a keyed issue")
	before := e.issueState(s.ID)
	_, err = e.e.Issue(e.ctx, keyedIssue(s.ID, bob, "k"))
	wantField(t, err, errcode.KeyMismatch, "Customer", "the key of alice's issue with bob is another request, refused naming Customer")
	same(t, e.issueState(s.ID), before, "a refused key mismatch changes nothing")
	again, err := e.e.Issue(e.ctx, keyedIssue(s.ID, alice, "k"))
	wantReplay(t, again, err, first.Coupon, "after a mismatch, the key still replays for alice")

	u := e.createSeries(baseSeries("mismatch-pool", uploadSrc()))
	e.upload(u.ID, "M-1", "M-2")
	req := keyedIssue(u.ID, alice, "k")
	req.Code = "M-1"
	named, err := e.e.Issue(e.ctx, req)
	mustOK(t, err, "a keyed issue of a named code")
	before = e.issueState(u.ID)
	req.Code = "M-2"
	_, err = e.e.Issue(e.ctx, req)
	wantField(t, err, errcode.KeyMismatch, "Code", "the key of the issue of M-1 naming M-2 is another request, refused naming Code")
	same(t, e.issueState(u.ID), before, "a refused code mismatch changes nothing (M-2 stays available)")
	for _, code := range []string{" m-1 ", ""} {
		req.Code = code
		r, err := e.e.Issue(e.ctx, req)
		wantReplay(t, r, err, named.Coupon, "the key with code %q (the same code, or none) replays", code)
	}
}

func testIssueKeyAfterTransfer(t *testing.T, e *env) {
	s := e.gen("key-transfer", func(s *series.Series) { s.Transferable = true })
	first, err := e.e.Issue(e.ctx, keyedIssue(s.ID, alice, "k"))
	mustOK(t, err, "a keyed issue")
	moved, err := e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: first.Coupon.Code, From: couponkit.ByID(alice), To: couponkit.ByID(bob)})
	mustOK(t, err, "Transfer")
	before := e.issueState(s.ID)
	again, err := e.e.Issue(e.ctx, keyedIssue(s.ID, alice, "k"))
	wantReplay(t, again, err, first.Coupon, "the key of alice's issue replays for alice after the coupon went to bob")
	same(t, again.Coupon, moved, "the replay returns the coupon as it is now")
	_, err = e.e.Issue(e.ctx, keyedIssue(s.ID, bob, "k"))
	wantField(t, err, errcode.KeyMismatch, "Customer", "the key of alice's issue is refused for bob, who holds the coupon now: the first customer is compared")
	same(t, e.issueState(s.ID), before, "neither changes anything")
}

func testIssueKeyPerSeries(t *testing.T, e *env) {
	a, b := e.gen("key-a"), e.gen("key-b")
	ra, err := e.e.Issue(e.ctx, keyedIssue(a.ID, alice, "same"))
	mustOK(t, err, "a keyed issue in series a")
	rb, err := e.e.Issue(e.ctx, keyedIssue(b.ID, alice, "same"))
	if wantOK(t, err, "the same key in another series") && (rb.Replayed || rb.Coupon.ID == ra.Coupon.ID || rb.Coupon.SeriesID != b.ID) {
		t.Errorf("a key names an issue in its series: another series issues its own coupon: %+v", rb)
	}
}

// lossyStore is a store whose Apply, once armed, loses its reply: the
// change is written, and the caller is told the store failed, as when a
// connection drops after the commit.
type lossyStore struct {
	store.Store
	lose atomic.Int32 // the number of the next Apply to lose, counting from 1; 0 loses none
	n    atomic.Int32
}

func (s *lossyStore) Apply(ctx context.Context, c *store.Change) error {
	err := s.Store.Apply(ctx, c)
	if n := s.n.Add(1); err == nil && n == s.lose.Load() {
		return errcode.New(errcode.Unavailable, "", "the reply of a committed change was lost")
	}
	return err
}

// lossyEngine returns an engine over e's store through a lossyStore.
func (e *env) lossyEngine() (*couponkit.Engine, *lossyStore) {
	e.t.Helper()
	ls := &lossyStore{Store: e.st}
	eng, err := couponkit.New(couponkit.Config{Store: ls, Now: e.clk.Now, Customers: e.dir, CodeKey: seriesKey, Rates: rates})
	if err != nil {
		e.t.Fatal(err)
	}
	return eng, ls
}

// loseNext arms s to lose the reply of its next Apply.
func (s *lossyStore) loseNext() { s.lose.Store(s.n.Load() + 1) }

func testIssueKeyLostReply(t *testing.T, e *env) {
	eng, ls := e.lossyEngine()
	s := e.gen("lost")
	ls.loseNext()
	_, err := eng.Issue(e.ctx, keyedIssue(s.ID, alice, "crm-7"))
	wantCode(t, err, errcode.Unavailable, "the issue whose reply was lost fails")
	stored := e.seriesCoupons(s.ID)
	if len(stored) != 1 {
		t.Fatalf("the issue was committed: %d coupons stored", len(stored))
	}
	again, err := eng.Issue(e.ctx, keyedIssue(s.ID, alice, "crm-7"))
	wantReplay(t, again, err, stored[0], "the caller retrying after the lost reply gets the coupon that was issued")
	if n := e.counters(s.ID).Issued; n != 1 {
		t.Errorf("the retry issues nothing more: issued %d, want 1", n)
	}
}

// batchCase is a batch of keyed requests and what IssueBatch must answer
// for each, run once and run again.
type batchCase struct {
	customer, key string
	first, second string // "issued", "replay of <i>", "mismatch", "refused"
}

// batchRequests are the requests of the batch tests over a series that
// allows two issues per customer. They run as if sent one after another.
var batchRequests = []batchCase{
	{alice, "k1", "issued", "replay of 0"},
	{bob, "k2", "issued", "replay of 1"},
	{alice, "k3", "issued", "replay of 2"},
	{alice, "k1", "replay of 0", "replay of 0"}, // the same key again in the batch
	{bob, "k1", "mismatch", "mismatch"},         // alice's key for bob
	{carol, "k4", "issued", "replay of 5"},
	{alice, "k5", "refused", "refused"}, // alice's third
	{dave, "k6", "issued", "replay of 7"},
	{dave, "k6", "replay of 7", "replay of 7"},
}

// checkBatch checks the outcomes of a run of batchRequests against want
// (first or second) and the coupons of the first run.
func checkBatch(t *testing.T, outs []couponkit.IssueOutcome, run string, coupons map[int]string) {
	t.Helper()
	if len(outs) != len(batchRequests) {
		t.Fatalf("%s: %d outcomes for %d requests", run, len(outs), len(batchRequests))
	}
	for i, bc := range batchRequests {
		want := bc.first
		if run == "second" {
			want = bc.second
		}
		o := outs[i]
		var j int
		switch {
		case want == "issued":
			if o.Err != nil || o.Result.Replayed || o.Result.Coupon.Holder != bc.customer {
				t.Errorf("%s run, request %d (%s, %s): want a coupon issued, got %+v %v", run, i, bc.customer, bc.key, o.Result, o.Err)
			}
			coupons[i] = o.Result.Coupon.ID
		case want == "mismatch":
			wantField(t, o.Err, errcode.KeyMismatch, "Customer", "%s run, request %d (%s with %s's key)", run, i, bc.customer, bc.key)
		case want == "refused":
			wantDenied(t, o.Err, reasons(limits.CustomerIssueLimit), "%s run, request %d (%s's third)", run, i, bc.customer)
		default:
			if _, err := fmt.Sscanf(want, "replay of %d", &j); err != nil {
				t.Fatal(err)
			}
			if o.Err != nil || !o.Result.Replayed || o.Result.Coupon.ID != coupons[j] || coupons[j] == "" {
				t.Errorf("%s run, request %d (%s, %s): want request %d's coupon %s replayed, got %+v %v", run, i, bc.customer, bc.key, j, coupons[j], o.Result, o.Err)
			}
		}
	}
}

func (e *env) batchReqs(seriesID string) []couponkit.IssueRequest {
	reqs := make([]couponkit.IssueRequest, len(batchRequests))
	for i, bc := range batchRequests {
		reqs[i] = keyedIssue(seriesID, bc.customer, bc.key)
	}
	return reqs
}

// batchSeries are a series IssueBatch writes in one change (generated,
// no pool) and one it issues one by one (an uploaded pool), both allowing
// two issues per customer.
func (e *env) batchSeries(name string) []series.Series {
	two := func(s *series.Series) { s.Issuance.MaxPerCustomer = 2 }
	pool := e.createSeries(baseSeries(name+"-pool", uploadSrc(), two))
	codes := make([]string, 12)
	for i := range codes {
		codes[i] = fmt.Sprintf("%s-%d", strings.ToUpper(name), i)
	}
	e.upload(pool.ID, codes...)
	return []series.Series{e.gen(name, two), pool}
}

func testIssueBatchTwice(t *testing.T, e *env) {
	for _, s := range e.batchSeries("twice") {
		coupons := map[int]string{}
		outs, err := e.e.IssueBatch(e.ctx, e.batchReqs(s.ID))
		mustOK(t, err, "IssueBatch")
		checkBatch(t, outs, "first", coupons)
		before := e.issueState(s.ID)
		if before.Counters.Issued != 5 {
			t.Errorf("%s: five requests issue: %d", s.Name, before.Counters.Issued)
		}
		outs, err = e.e.IssueBatch(e.ctx, e.batchReqs(s.ID))
		mustOK(t, err, "IssueBatch again")
		checkBatch(t, outs, "second", coupons)
		same(t, e.issueState(s.ID), before, "%s: the same batch run again issues nothing", s.Name)
	}
}

func testIssueBatchLostReply(t *testing.T, e *env) {
	eng, ls := e.lossyEngine()
	for _, s := range e.batchSeries("lost") {
		// The one-change batch loses its one reply; the one-by-one batch
		// the reply of its third issue.
		ls.loseNext()
		if s.Source.Kind == series.Uploaded {
			ls.lose.Store(ls.n.Load() + 3)
		}
		outs, err := eng.IssueBatch(e.ctx, e.batchReqs(s.ID))
		wantCode(t, err, errcode.Unavailable, "%s: a batch whose reply was lost fails", s.Name)
		if len(outs) > 2 {
			t.Errorf("%s: the outcomes stop before the request whose reply was lost: %d", s.Name, len(outs))
		}
		outs, err = eng.IssueBatch(e.ctx, e.batchReqs(s.ID))
		mustOK(t, err, "%s: the batch run again", s.Name)
		issued := map[string]bool{}
		for i, o := range outs {
			if bc := batchRequests[i]; o.Err == nil {
				issued[o.Result.Coupon.ID] = true
				if o.Result.Coupon.Holder != bc.customer {
					t.Errorf("%s: request %d: a coupon of %s for %s", s.Name, i, o.Result.Coupon.Holder, bc.customer)
				}
			}
		}
		st := e.issueState(s.ID)
		if len(issued) != 5 || st.Counters.Issued != 5 {
			t.Errorf("%s: after a lost reply and a second run, each of the five requests that issue is issued once: %d coupons answered, %d issued", s.Name, len(issued), st.Counters.Issued)
		}
		for _, c := range st.Coupons {
			if c.State == coupon.Issued && !issued[c.ID] {
				t.Errorf("%s: coupon %s is issued but no request of the second run answers it", s.Name, c.ID)
			}
		}
	}
}

package faults_test

import (
	"testing"

	"github.com/couponkit/couponkit/coupon"
)

// The tests below run a store on PostgreSQL behind a fault proxy that
// loses a quarter of the commit replies: the server commits, the client
// sees its connection break. A careful caller sends each request again,
// with the same key, until it succeeds. Afterwards the database, read
// directly, must hold each request's effect exactly once.

// workers is how many goroutines send requests at once.
const workers = 8

// TestIssueExactlyOnceLostCommitReplies issues a coupon (two for every
// fifth customer, under keys of their own) to each of 400 customers (5,000
// with COUPONKIT_FAULTS_LONG) with Issue, from several goroutines, while
// commit replies are lost.
func TestIssueExactlyOnceLostCommitReplies(t *testing.T) {
	skipShort(t)
	r := newPGRig(t, dropRate)
	sid := createSeries(t, r.eDirect, "welcome")
	plan := issuePlan(sized(400, 5000), "welcome")
	got, c, err := issueEach(r.eProxy, sid, plan, workers, true)
	if err != nil {
		t.Fatal(err)
	}
	a := auditIssues(t, r.direct, sid)
	expectIssuedOnce(t, &a, plan, got)
	r.report(t, "Issue", c, true)
}

// TestIssueBatchExactlyOnceLostCommitReplies issues such requests for
// 1,200 customers (10,000 with COUPONKIT_FAULTS_LONG) with IssueBatch, in
// batches of 50 from several goroutines, each batch sent whole again after
// an error.
func TestIssueBatchExactlyOnceLostCommitReplies(t *testing.T) {
	skipShort(t)
	r := newPGRig(t, dropRate)
	sid := createSeries(t, r.eDirect, "batch")
	plan := issuePlan(sized(1200, 10000), "batch")
	got, c, err := issueBatches(r.eProxy, sid, plan, 50, 4, true)
	if err != nil {
		t.Fatal(err)
	}
	a := auditIssues(t, r.direct, sid)
	expectIssuedOnce(t, &a, plan, got)
	r.report(t, "IssueBatch", c, true)
}

// TestIssueFileExactlyOnceLostCommitReplies runs bulk.IssueFile on a file
// of 4,000 rows (some customers twice) in batches of 100 (50,000 rows in
// batches of 500 with COUPONKIT_FAULTS_LONG), and after each
// failure runs the same bytes again, until a run completes: every row is
// issued once, under the key derived from the file's content.
func TestIssueFileExactlyOnceLostCommitReplies(t *testing.T) {
	skipShort(t)
	r := newPGRig(t, dropRate)
	sid := createSeries(t, r.eDirect, "file")
	file, custs := customerFile(sized(4000, 50000))
	runs, err := issueFileResumed(r.eProxy, sid, file, "", sized(100, 500), true)
	if err != nil {
		t.Fatal(err)
	}
	plan := filePlan(file, "", custs)
	a := auditIssues(t, r.direct, sid)
	expectIssuedOnce(t, &a, plan, nil)
	if runs.applied > len(plan) {
		t.Errorf("the runs reported %d rows applied, more than the file's %d", runs.applied, len(plan))
	}
	t.Logf("the runs reported %d rows applied and %d replayed", runs.applied, runs.replayed)
	c := &calls{failed: int64(runs.failed)}
	c.replayed.Store(int64(runs.replayed))
	r.report(t, "IssueFile runs", c, true)
}

// TestRedeemExactlyOnceLostCommitReplies redeems each of 200 coupons
// (2,000 with COUPONKIT_FAULTS_LONG) three times, under three keys, from
// several goroutines, while commit replies are lost: each key makes one
// redemption.
func TestRedeemExactlyOnceLostCommitReplies(t *testing.T) {
	skipShort(t)
	r := newPGRig(t, dropRate)
	cs := issuedCoupons(t, r, "redeem", sized(200, 2000))
	want, c, err := redeemEach(r.eProxy, cs, 3, workers, true)
	if err != nil {
		t.Fatal(err)
	}
	a := auditRedemptions(t, r.direct, cs[0].SeriesID)
	if p := a.problems(want); len(p) > 0 {
		t.Errorf("not exactly once:\n%s", firstLines(p))
	}
	r.report(t, "Redeem", c, true)
}

// issuedCoupons issues a coupon to each of n customers of a new series,
// without faults.
func issuedCoupons(t *testing.T, r *pgRig, name string, n int) []coupon.Coupon {
	t.Helper()
	sid := createSeries(t, r.eDirect, name)
	got, _, err := issueBatches(r.eDirect, sid, issuePlan(n, name)[:n], 500, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	cs := make([]coupon.Coupon, len(got))
	for i, id := range got {
		if cs[i], err = r.eDirect.Store().Coupon(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	return cs
}

// TestLostCommitRepliesDuplicateWithoutKeys runs the workloads of the
// tests above as a careless caller does, sending a request again without
// a key (Issue, IssueBatch), with a new key each time (Redeem), or
// resuming a file under a new FileID: lost commit replies then issue or
// redeem twice, and the audits the tests above rely on say so. It shows
// that those tests can fail.
func TestLostCommitRepliesDuplicateWithoutKeys(t *testing.T) {
	skipShort(t)
	r := newPGRig(t, dropRate)
	const n = 80
	t.Run("Issue", func(t *testing.T) {
		sid := createSeries(t, r.eDirect, "careless issue")
		plan := issuePlan(n, "issue")
		if _, _, err := issueEach(r.eProxy, sid, plan, workers, false); err != nil {
			t.Fatal(err)
		}
		a := auditIssues(t, r.direct, sid)
		expectIssuedTwice(t, &a, plan)
	})
	t.Run("IssueBatch", func(t *testing.T) {
		sid := createSeries(t, r.eDirect, "careless batch")
		plan := issuePlan(n, "batch")
		// Batches of two: some 48 commits, so that one reply at least is
		// lost (with batches of ten, none was one run in ten).
		if _, _, err := issueBatches(r.eProxy, sid, plan, 2, 4, false); err != nil {
			t.Fatal(err)
		}
		a := auditIssues(t, r.direct, sid)
		expectIssuedTwice(t, &a, plan)
	})
	t.Run("IssueFile", func(t *testing.T) {
		sid := createSeries(t, r.eDirect, "careless file")
		file, custs := customerFile(500)
		if _, err := issueFileResumed(r.eProxy, sid, file, "", 25, false); err != nil {
			t.Fatal(err)
		}
		a := auditIssues(t, r.direct, sid)
		expectIssuedTwice(t, &a, filePlan(file, "", custs))
	})
	t.Run("Redeem", func(t *testing.T) {
		cs := issuedCoupons(t, r, "careless redeem", n)
		const uses = 2
		if _, _, err := redeemEach(r.eProxy, cs, uses, workers, false); err != nil {
			t.Fatal(err)
		}
		a := auditRedemptions(t, r.direct, cs[0].SeriesID)
		if got := a.total(); got <= uses*len(cs) {
			t.Fatalf("%d redemptions stored for %d asked: the careless caller redeemed nothing twice", got, uses*len(cs))
		}
		t.Logf("%d redemptions stored for %d asked", a.total(), uses*len(cs))
	})
	r.report(t, "careless callers", &calls{}, false)
}

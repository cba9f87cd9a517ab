package faults_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/series"
)

// The workloads a fault test runs: each request is sent until it
// succeeds, by a careful caller (keyed: the same request with the same
// key every time) or by a careless one (no key, or a new key per try), so
// that the tests can show the careless one issuing twice where the
// careful one issues once.

// issueReq is one issue a test asks for: its key and its customer.
type issueReq struct{ key, customer string }

// issuePlan asks for one coupon for each of n customers, and for a
// second one, under a key of its own, for every fifth customer.
func issuePlan(n int, prefix string) []issueReq {
	plan := make([]issueReq, 0, n+n/5+1)
	for i := range n {
		cust := fmt.Sprintf("cust-%06d", i)
		plan = append(plan, issueReq{prefix + "-" + cust + "-a", cust})
		if i%5 == 0 {
			plan = append(plan, issueReq{prefix + "-" + cust + "-b", cust})
		}
	}
	return plan
}

// wantOf maps each key of plan to its customer.
func wantOf(plan []issueReq) map[string]string {
	want := make(map[string]string, len(plan))
	for _, r := range plan {
		want[r.key] = r.customer
	}
	return want
}

func (r issueReq) request(sid string, keyed bool) couponkit.IssueRequest {
	req := couponkit.IssueRequest{SeriesID: sid, Customer: couponkit.ByID(r.customer)}
	if keyed {
		req.IdempotencyKey = r.key
	}
	return req
}

// calls counts a workload's calls: those that failed (and were sent
// again), and those answered as the replay of an earlier one that had
// taken effect.
type calls struct {
	failed   int64
	replayed atomic.Int64
}

// replay counts a call answered as a replay.
func (c *calls) replay(replayed bool) {
	if replayed {
		c.replayed.Add(1)
	}
}

// issueEach issues each request of plan with Issue, from workers
// goroutines, each sent until it succeeds. It returns the coupon id each
// request finally got, and the calls.
func issueEach(e *couponkit.Engine, sid string, plan []issueReq, workers int, keyed bool) ([]string, *calls, error) {
	got := make([]string, len(plan))
	c := &calls{}
	var err error
	c.failed, err = parallel(len(plan), workers, func(i int) (int, error) {
		req := plan[i].request(sid, keyed)
		return untilDone(func(int) error {
			res, err := e.Issue(ctx, req)
			if err == nil {
				got[i] = res.Coupon.ID
				c.replay(res.Replayed)
			}
			return err
		})
	})
	return got, c, err
}

// issueBatches issues plan with IssueBatch, in batches of size from
// workers goroutines, each batch sent whole until it succeeds with every
// request issued. It returns the coupon id each request finally got, and
// the calls (a request answered as a replay counts as one).
func issueBatches(e *couponkit.Engine, sid string, plan []issueReq, size, workers int, keyed bool) ([]string, *calls, error) {
	got := make([]string, len(plan))
	batches := (len(plan) + size - 1) / size
	c := &calls{}
	var err error
	c.failed, err = parallel(batches, workers, func(b int) (int, error) {
		lo, hi := b*size, min((b+1)*size, len(plan))
		reqs := make([]couponkit.IssueRequest, 0, hi-lo)
		for _, r := range plan[lo:hi] {
			reqs = append(reqs, r.request(sid, keyed))
		}
		return untilDone(func(int) error {
			outs, err := e.IssueBatch(ctx, reqs)
			if err != nil {
				return err
			}
			for j, o := range outs {
				if o.Err != nil {
					return fmt.Errorf("request %d: %w", lo+j, o.Err)
				}
				got[lo+j] = o.Result.Coupon.ID
				c.replay(o.Result.Replayed)
			}
			return nil
		})
	})
	return got, c, err
}

// firstLines joins the first lines of a list of problems.
func firstLines(p []string) string {
	if len(p) > 20 {
		p = append(p[:20:20], fmt.Sprintf("... and %d more", len(p)-20))
	}
	return strings.Join(p, "\n")
}

// expectIssuedOnce fails the test unless the audit shows each request of
// plan issued exactly once, and each request's caller got the coupon
// stored under its key.
func expectIssuedOnce(t *testing.T, a *issueAudit, plan []issueReq, got []string) {
	t.Helper()
	if p := a.problems(wantOf(plan)); len(p) > 0 {
		t.Errorf("not exactly once:\n%s", firstLines(p))
	}
	wrong := 0
	for i, r := range plan {
		if id := a.idByKey[r.key]; got != nil && got[i] != id {
			if wrong++; wrong <= 5 {
				t.Errorf("the caller of key %s got coupon %s; stored under the key: %s", r.key, got[i], id)
			}
		}
	}
}

// expectIssuedTwice fails the test unless the audit shows some customer
// holding more coupons than were asked for: the duplicates a careless
// caller makes when replies are lost, which the audit must see.
func expectIssuedTwice(t *testing.T, a *issueAudit, plan []issueReq) {
	t.Helper()
	p := a.problems(wantOf(plan))
	if a.coupons <= len(plan) {
		t.Fatalf("%d coupons for %d requests: the careless caller issued nothing twice", a.coupons, len(plan))
	}
	var extra []string
	for _, s := range p {
		if strings.Contains(s, " holds ") {
			extra = append(extra, s)
		}
	}
	if len(extra) == 0 {
		t.Fatalf("the audit did not report a customer holding too many coupons; it reported:\n%s", firstLines(p))
	}
	t.Logf("%d coupons for %d requests; the audit reports %d customers holding too many, such as: %s",
		a.coupons, len(plan), len(extra), extra[0])
}

// customerFile is a CSV file of rows customers, one row each; every
// fourth customer has a second row, further down.
func customerFile(rows int) ([]byte, []string) {
	var b bytes.Buffer
	b.WriteString("customer_id\n")
	custs := make([]string, rows)
	distinct := max(1, rows*4/5)
	for i := range rows {
		custs[i] = fmt.Sprintf("cust-%06d", i%distinct)
		b.WriteString(custs[i] + "\n")
	}
	return b.Bytes(), custs
}

// filePlan is the requests a file's rows make: the key of each row, as
// bulk derives it from the file's identity (its FileID, else "sha256:"
// and the hex of its bytes' SHA-256) and the row number, from 1.
func filePlan(file []byte, fileID string, custs []string) []issueReq {
	if fileID == "" {
		sum := sha256.Sum256(file)
		fileID = "sha256:" + hex.EncodeToString(sum[:])
	}
	plan := make([]issueReq, len(custs))
	for i, c := range custs {
		plan[i] = issueReq{"file:" + fileID + ":row:" + strconv.Itoa(i+1), c}
	}
	return plan
}

// fileRuns is what running a file until it completed took.
type fileRuns struct {
	failed   int // runs that stopped with an error
	applied  int // rows the runs reported applied
	replayed int // rows the runs reported replayed
}

// issueFileResumed runs bulk.IssueFile on file until a run completes,
// resuming after each failure by running the same file again. Keyed,
// every run has the same identity (fileID, or the file's bytes when it is
// empty) and starts from the top, or every other time from the failed
// run's Report.Done(); careless, each run has a FileID of its own and
// starts from Report.Done().
func issueFileResumed(e *couponkit.Engine, sid string, file []byte, fileID string, batch int, keyed bool) (fileRuns, error) {
	var runs fileRuns
	skip := 0
	for try := 0; ; try++ {
		opts := bulk.Options{BatchSize: batch, FileID: fileID, SkipRows: skip}
		if !keyed {
			opts.FileID = "run-" + strconv.Itoa(try)
		}
		rep, err := bulk.IssueFile(ctx, e, sid, bytes.NewReader(file), opts)
		runs.applied += rep.Applied
		runs.replayed += rep.Replayed
		if err == nil {
			if rep.Rejected > 0 {
				return runs, fmt.Errorf("%d rows rejected: %v", rep.Rejected, rep.Rejections)
			}
			return runs, nil
		}
		runs.failed++
		if runs.failed == maxRuns(file, batch) {
			return runs, fmt.Errorf("still failing after %d runs: %w", runs.failed, err)
		}
		skip = 0
		if runs.failed%2 == 0 || !keyed {
			skip = rep.Done()
		}
	}
}

// maxRuns bounds how often a file of batches of batch rows is run: each
// run may fail at each batch's commit, so the bound grows with the
// batches.
func maxRuns(file []byte, batch int) int {
	return maxTries + 4*bytes.Count(file, []byte("\n"))/batch
}

// redeemEach redeems each coupon uses times, by its holder, from workers
// goroutines, each redemption sent until it succeeds: keyed, with the
// same key every time; careless, with a new key each try. It returns the
// keys each coupon was asked to be redeemed with, by coupon id, and the
// calls.
func redeemEach(e *couponkit.Engine, cs []coupon.Coupon, uses, workers int, keyed bool) (map[string][]string, *calls, error) {
	want := make(map[string][]string, len(cs))
	keys := make([][]string, len(cs))
	bill := series.Money{Amount: decimal.NewFromInt(10), Currency: "EUR"}
	n := &calls{}
	var err error
	n.failed, err = parallel(len(cs), workers, func(i int) (int, error) {
		c := cs[i]
		fails := 0
		for j := range uses {
			key := fmt.Sprintf("pos-%d-%d", i, j)
			keys[i] = append(keys[i], key)
			n, err := untilDone(func(try int) error {
				req := couponkit.RedeemRequest{Code: c.Code, Customer: couponkit.ByID(c.Holder), IdempotencyKey: key, Bill: bill}
				if !keyed {
					req.IdempotencyKey = key + "-try-" + strconv.Itoa(try)
				}
				res, err := e.Redeem(ctx, req)
				if err == nil {
					n.replay(res.Replayed)
				}
				return err
			})
			fails += n
			if err != nil {
				return fails, err
			}
		}
		return fails, nil
	})
	for i, c := range cs {
		want[c.ID] = keys[i]
	}
	return want, n, err
}

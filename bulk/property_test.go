package bulk_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
)

// A file gives, row for row, what the same issues made one by one with
// Engine.Issue give, whatever the batch size: the file applies exactly the
// engine's rules, in file order.
func TestIssueFileMatchesSingleIssues(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var s series.Series
		if rapid.Bool().Draw(t, "common") {
			s = common("SAME")
		} else {
			s = generated(func(s *series.Series) {
				s.Issuance.MaxPerCustomer = limits.Limit(rapid.IntRange(0, 3).Draw(t, "perCustomer"))
				s.Issuance.MaxTotal = limits.Limit(rapid.IntRange(0, 6).Draw(t, "total"))
				if rapid.Bool().Draw(t, "gap") {
					s.Issuance.MinGap = time.Hour
				}
			})
		}
		if rapid.Bool().Draw(t, "sendExisting") {
			s.Issuance.OnQualifyAgain = series.SendExisting
		}
		who := rapid.SliceOfN(rapid.SampledFrom([]string{"alice", "bob", "carol", "ghost", "", "+4470000001"}), 0, 20).Draw(t, "rows")
		batch := rapid.IntRange(1, 6).Draw(t, "batch")

		// One by one.
		single := newEnv(t)
		sid := single.create(s)
		wantRejected := map[int]errcode.Code{}
		wantApplied, wantUnchanged := 0, 0
		for i, w := range who {
			ref := couponkit.ByID(w)
			if strings.HasPrefix(w, "+") {
				ref = couponkit.CustomerRef{Mobile: w}
			}
			res, err := single.e.Issue(single.ctx, couponkit.IssueRequest{SeriesID: sid, Customer: ref})
			var d *refusal.Error
			switch {
			case err == nil && res.Resent:
				wantUnchanged++
			case err == nil:
				wantApplied++
			case errors.As(err, &d):
				wantRejected[i+1] = d.Refusals[0].Code
			default:
				wantRejected[i+1] = errcode.CodeOf(err)
			}
		}

		// As a file.
		rows := make([]string, len(who))
		for i, w := range who {
			if strings.HasPrefix(w, "+") {
				rows[i] = "," + w
			} else {
				rows[i] = w + ","
			}
		}
		fileRun := newEnv(t)
		fid := fileRun.create(s)
		rep, err := bulk.IssueFile(fileRun.ctx, fileRun.e, fid, strings.NewReader(file("customer_id,mobile", rows...)), bulk.Options{BatchSize: batch})
		if err != nil {
			t.Fatal(err)
		}
		checkSums(t, rep)
		if rep.Rows != len(who) || rep.Applied != wantApplied || rep.Unchanged != wantUnchanged {
			t.Fatalf("rows %d applied %d unchanged %d; want %d, %d, %d", rep.Rows, rep.Applied, rep.Unchanged, len(who), wantApplied, wantUnchanged)
		}
		if d := cmp.Diff(wantRejected, rejected(rep)); d != "" {
			t.Fatalf("rejected rows (-one by one +file):\n%s", d)
		}
		if a, b := single.issued(sid), fileRun.issued(fid); a != b {
			t.Fatalf("issued %d one by one, %d from the file", a, b)
		}
	})
}

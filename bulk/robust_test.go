package bulk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

// entryPoint is a bulk entry point.
type entryPoint func(context.Context, *couponkit.Engine, string, io.Reader, bulk.Options) (*bulk.Report, error)

var entryPoints = []struct {
	name string
	run  entryPoint
}{
	{"IssueFile", bulk.IssueFile},
	{"UploadFile", bulk.UploadFile},
	{"RevokeFile", bulk.RevokeFile},
	{"AddAudienceFile", bulk.AddAudienceFile},
	{"RemoveAudienceFile", bulk.RemoveAudienceFile},
}

// A nil engine, reader or writer is a typed InvalidArgument error naming
// it, never a panic.
func TestNilArguments(t *testing.T) {
	v := newEnv(t)
	id := v.create(uploaded())
	for _, ep := range entryPoints {
		for _, tc := range []struct {
			field string
			e     *couponkit.Engine
			r     io.Reader
		}{
			{"Engine", nil, strings.NewReader("customer_id\nalice\n")},
			{"Reader", v.e, nil},
		} {
			rep, err := ep.run(v.ctx, tc.e, id, tc.r, bulk.Options{})
			var ce *errcode.Error
			if !errors.As(err, &ce) || ce.Code != errcode.InvalidArgument || ce.Field != tc.field {
				t.Errorf("%s with a nil %s: %v, want InvalidArgument naming %s", ep.name, tc.field, err, tc.field)
			}
			if rep == nil || rep.Done() != 0 {
				t.Errorf("%s with a nil %s: report %+v, want an empty one", ep.name, tc.field, rep)
			}
		}
	}
	rep := &bulk.Report{Op: bulk.OpIssue}
	for name, write := range map[string]func(io.Writer) error{"WriteText": rep.WriteText, "WriteIssues": rep.WriteIssues} {
		var ce *errcode.Error
		if err := write(nil); !errors.As(err, &ce) || ce.Code != errcode.InvalidArgument || ce.Field != "Writer" {
			t.Errorf("%s(nil): %v, want InvalidArgument naming Writer", name, err)
		}
	}
}

// limitWriter accepts n bytes, then fails every write.
type limitWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *limitWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return len(p), nil
	}
	k := w.n
	w.n = 0
	return k, errDiskFull
}

// Sizes of the write-failure files: the first batch is ghosts rows that
// are rejected (their issues overflow the CSV writer's buffer, so the
// write fails in the middle of the batch) and then good rows; a second
// batch of good rows follows.
const (
	ghosts   = 150
	good     = 5
	firstLen = ghosts + good
)

// writeFailCase sets up one entry point's series and file and says how
// many of its good rows are in effect.
type writeFailCase struct {
	ep     entryPoint
	header string
	// row is the file's row for good row i, or (good false) for ghost i.
	row func(i int, good bool) string
	// setup prepares the series for the file's good rows 0..2*good-1.
	setup func(v *env, id string)
	// effect counts the good rows in effect.
	effect func(v *env, id string) int
}

func writeFailCases() map[string]writeFailCase {
	customer := func(i int, ok bool) string {
		if ok {
			return fmt.Sprintf("c%07d", i)
		}
		return fmt.Sprintf("ghost-customer-%04d", i)
	}
	issued := func(v *env, id string) int { return int(v.issued(id)) }
	members := func(v *env, id string) int { return len(v.members(id)) }
	return map[string]writeFailCase{
		"IssueFile": {ep: bulk.IssueFile, header: "customer_id", row: customer, effect: issued,
			setup: func(v *env, id string) {}},
		"UploadFile": {ep: bulk.UploadFile, header: "code,customer_id",
			row: func(i int, ok bool) string {
				if ok {
					return fmt.Sprintf("GOOD-%d,c%07d", i, i)
				}
				return fmt.Sprintf("GHOST-%d,%s", i, customer(i, false))
			},
			setup: func(v *env, id string) {}, effect: issued},
		"RevokeFile": {ep: bulk.RevokeFile, header: "customer_id", row: customer,
			setup: func(v *env, id string) {
				for i := range 2 * good {
					if _, err := v.e.Issue(v.ctx, couponkit.IssueRequest{SeriesID: id, Customer: couponkit.ByID(customer(i, true))}); err != nil {
						v.t.Fatal(err)
					}
				}
			},
			effect: func(v *env, id string) int {
				cs, err := v.e.Store().ListCoupons(v.ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: id, States: []coupon.State{coupon.Revoked}}})
				if err != nil {
					v.t.Fatal(err)
				}
				return len(cs)
			}},
		"AddAudienceFile": {ep: bulk.AddAudienceFile, header: "customer_id", row: customer, effect: members,
			setup: func(v *env, id string) {}},
		"RemoveAudienceFile": {ep: bulk.RemoveAudienceFile, header: "customer_id", row: customer,
			setup: func(v *env, id string) {
				refs := make([]couponkit.CustomerRef, 2*good)
				for i := range refs {
					refs[i] = couponkit.ByID(customer(i, true))
				}
				if _, err := v.e.AddAudience(v.ctx, couponkit.AudienceRequest{SeriesID: id, Customers: refs}); err != nil {
					v.t.Fatal(err)
				}
			},
			effect: func(v *env, id string) int { return 2*good - len(v.members(id)) }},
	}
}

// When the issues writer fails in the middle of a batch, the batch (which
// the engine has applied) is counted whole, the error wraps the writer's
// and names the rows finished, how many were applied and the last one, the
// run stops before the next batch, and resuming from Report.Done() applies
// nothing twice.
func TestIssuesWriterFails(t *testing.T) {
	cases := writeFailCases()
	for _, ep := range entryPoints {
		tc := cases[ep.name]
		t.Run(ep.name, func(t *testing.T) {
			v := newEnv(t)
			v.addCustomers(2 * good)
			s := generated()
			if ep.name == "UploadFile" {
				s = uploaded()
			}
			id := v.create(s)
			tc.setup(v, id)
			var rows []string
			for i := range ghosts {
				rows = append(rows, tc.row(i, false))
			}
			for i := range 2 * good {
				rows = append(rows, tc.row(i, true))
			}
			f := file(tc.header, rows...)
			opts := bulk.Options{BatchSize: firstLen, Issues: &limitWriter{n: 1000}}
			rep, err := tc.ep(v.ctx, v.e, id, strings.NewReader(f), opts)
			if !errors.Is(err, errDiskFull) {
				t.Fatalf("the run stops with the writer's error wrapped: %v", err)
			}
			checkSums(t, rep)
			if rep.Done() != firstLen || rep.Applied != good || rep.Rejected != ghosts || rep.LastApplied != firstLen {
				t.Errorf("the batch being written is counted whole: done %d, applied %d, rejected %d, last applied %d; want %d, %d, %d, %d",
					rep.Done(), rep.Applied, rep.Rejected, rep.LastApplied, firstLen, good, ghosts, firstLen)
			}
			for _, part := range []string{"rows 1 to " + strconv.Itoa(firstLen), strconv.Itoa(good) + " applied", "the last is row " + strconv.Itoa(firstLen)} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("the error says %q: %v", part, err)
				}
			}
			if n := tc.effect(v, id); n != good {
				t.Errorf("%d good rows in effect, want the %d of the first batch (the run stops before the next)", n, good)
			}
			rep, err = tc.ep(v.ctx, v.e, id, strings.NewReader(f), bulk.Options{BatchSize: firstLen, SkipRows: rep.Done()})
			if err != nil || rep.Applied != good || rep.LastApplied != firstLen+good {
				t.Errorf("resuming from Done: %+v, %v", rep, err)
			}
			if n := tc.effect(v, id); n != 2*good {
				t.Errorf("after resuming, %d good rows in effect, want %d, each once", n, 2*good)
			}
		})
	}
}

// A writer that fails before any row is applied: the error says so.
func TestIssuesWriterFailsAtOnce(t *testing.T) {
	v := newEnv(t)
	id := v.create(uploaded())
	rep, err := bulk.AddAudienceFile(v.ctx, v.e, id, strings.NewReader(file("id", "ghost")), bulk.Options{Issues: &limitWriter{}})
	if !errors.Is(err, errDiskFull) || rep.Done() != 1 {
		t.Fatalf("err %v, report %+v", err, rep)
	}
	if !strings.Contains(err.Error(), "0 applied (none)") {
		t.Errorf("the error says no row was applied: %v", err)
	}
}

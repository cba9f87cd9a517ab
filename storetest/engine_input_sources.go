package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// Bad data that does not come from a request's own fields: a series'
// configuration, the clock, the customer directory, an expiry the engine
// computes, and the rows of a bulk file.

// seriesTimeFields are the times of a series a caller sets.
var seriesTimeFields = []struct {
	field string
	set   func(*series.Series, time.Time)
}{
	{"Start", func(s *series.Series, t time.Time) { s.Start = t }},
	{"End", func(s *series.Series, t time.Time) { s.End = t }},
	{"Redemption.Start", func(s *series.Series, t time.Time) { s.Redemption.Start = t }},
	{"Redemption.NewCustomers.RegisteredFrom", func(s *series.Series, t time.Time) { s.Redemption.NewCustomers.RegisteredFrom = t }},
	{"Redemption.NewCustomers.RegisteredTo", func(s *series.Series, t time.Time) { s.Redemption.NewCustomers.RegisteredTo = t }},
}

// testInputSeries: a series' own strings are checked by its validation,
// which reports InvalidConfig, as for every other rule of a series.
func testInputSeries(t *testing.T, e *env) {
	var cases []badInput[string]
	for _, c := range []struct {
		field string
		set   func(*series.Series, string)
	}{
		{"ID", func(s *series.Series, v string) { s.ID = v }},
		{"Name", func(s *series.Series, v string) { s.Name = v }},
		{"TimeZone", func(s *series.Series, v string) { s.TimeZone = v }},
		{"Source.Prefix", func(s *series.Series, v string) { s.Source.Prefix = v }},
		{"Issuance.ExcludeSeries[0]", func(s *series.Series, v string) {
			s.Issuance.ExcludeSeries, s.Issuance.ExcludeWithinMonths = []string{v}, 3
		}},
		{"Redemption.Places[0].ID", func(s *series.Series, v string) {
			s.Redemption.Places = limits.NewPlaceSet(limits.PlaceRef{Kind: limits.Till, ID: v})
		}},
		{"Reminders[0].Channel", func(s *series.Series, v string) {
			s.Reminders = []series.Reminder{{DaysBefore: 1, Channel: v}}
		}},
	} {
		cases = append(cases, badInput[string]{op: "CreateSeries", field: c.field, code: errcode.InvalidConfig,
			run: func(e *env, x *inputWorld, b string) error {
				s := baseSeries("bad string", genSrc())
				c.set(&s, b)
				_, err := e.e.CreateSeries(e.ctx, s)
				return err
			}})
	}
	cases = append(cases, badInput[string]{op: "UpdateSeries", field: "Name", code: errcode.InvalidConfig,
		run: func(e *env, x *inputWorld, b string) error {
			s := x.u
			s.Name = b
			_, err := e.e.UpdateSeries(e.ctx, s)
			return err
		}})
	values := make([]struct {
		name string
		v    string
	}, len(badStrings))
	for i, b := range badStrings {
		values[i].name, values[i].v = b.name, b.v
	}
	checkRefusals(t, e, cases, values)
}

// testInputClock: a clock outside the range refuses every operation, which
// then changes nothing.
func testInputClock(t *testing.T, e *env) {
	w := newInputWorld(e)
	before := e.state(w.stateKeys)
	ops := []struct {
		name string
		run  func() error
	}{
		{"Issue", func() error { _, err := e.e.Issue(e.ctx, issueReq(w.g.ID, ref(carol))); return err }},
		{"IssueBatch", func() error {
			_, err := e.e.IssueBatch(e.ctx, []couponkit.IssueRequest{issueReq(w.g.ID, ref(carol))})
			return err
		}},
		{"Upload", func() error {
			_, err := e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: w.u.ID, Rows: []couponkit.UploadRow{{Code: "U-9", Customer: ref(carol)}}, Actor: "op"})
			return err
		}},
		{"Redeem", func() error { _, err := e.e.Redeem(e.ctx, redeemReq(w.held.Code, bob, "k-2", "100")); return err }},
		{"Hold", func() error {
			_, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(w.held.Code, bob, "k-2", "100"), TTL: time.Minute})
			return err
		}},
		{"Validate", func() error { _, err := e.e.Validate(e.ctx, redeemReq(w.held.Code, bob, "k-2", "100")); return err }},
		{"Confirm", func() error {
			_, err := e.e.Confirm(e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{ID: w.hold.ID}, Actor: "till"})
			return err
		}},
		{"Release", func() error {
			return e.e.Release(e.ctx, couponkit.ReleaseRequest{Hold: couponkit.UseRef{ID: w.hold.ID}, Actor: "till"})
		}},
		{"ReleaseLapsedHolds", func() error { _, err := e.e.ReleaseLapsedHolds(e.ctx); return err }},
		{"Reverse", func() error {
			_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: w.reds.ID}})
			return err
		}},
		{"Revoke", func() error {
			_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: w.u.ID, Scope: couponkit.AllUnredeemed})
			return err
		}},
		{"Transfer", func() error {
			_, err := e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: w.held.Code, To: ref(carol)})
			return err
		}},
		{"Reissue", func() error {
			_, err := e.e.Reissue(e.ctx, couponkit.ReissueRequest{Code: w.redeemed.Code})
			return err
		}},
		{"ExpireDue", func() error { _, err := e.e.ExpireDue(e.ctx); return err }},
		{"Generate", func() error {
			_, err := e.e.Generate(e.ctx, couponkit.GenerateRequest{SeriesID: w.g.ID, N: 3})
			return err
		}},
		{"CreateSeries", func() error { _, err := e.e.CreateSeries(e.ctx, baseSeries("late", genSrc())); return err }},
		{"SetSeriesStatus", func() error { _, err := e.e.SetSeriesStatus(e.ctx, w.u.ID, series.Paused); return err }},
		{"CustomerCoupons", func() error { _, err := e.e.CustomerCoupons(e.ctx, ref(alice), ""); return err }},
	}
	for _, at := range badTimes {
		e.clk.ns.Store(at.v.UnixNano())
		if at.v.Year() > 2261 || at.v.Year() < 1678 {
			continue // beyond what the fake clock's nanoseconds can tell
		}
		for _, op := range ops {
			t.Run(at.name+"/"+op.name, func(t *testing.T) {
				wantField(t, op.run(), errcode.InvalidArgument, "Config.Now", "%s with the clock at %s", op.name, at.v)
				same(t, e.state(w.stateKeys), before, "%s with a clock outside the range changes nothing", op.name)
			})
		}
	}
	e.clk.ns.Store(t0.UnixNano())
	_, err := e.e.Issue(e.ctx, issueReq(w.g.ID, ref(carol)))
	wantOK(t, err, "an issue once the clock is back in range")
}

// testInputDirectory: the id a customer directory resolves to is checked
// like an id the caller gives: it is what the store keeps as the holder.
func testInputDirectory(t *testing.T, e *env) {
	w := newInputWorld(e)
	before := e.state(w.stateKeys)
	for _, b := range badStrings {
		mobile := "+44" + b.name
		e.dir.Add(couponkit.CustomerRecord{Customer: couponkit.Customer{ID: b.v}, Mobile: mobile})
		_, err := e.e.Issue(e.ctx, issueReq(w.g.ID, couponkit.CustomerRef{Mobile: mobile}))
		wantField(t, err, errcode.InvalidArgument, "Config.Customers", "an issue to a customer the directory resolves to a %s id", b.name)
		if err != nil && strings.Contains(err.Error(), b.v) {
			t.Errorf("the error repeats the bad id: %v", err)
		}
	}
	same(t, e.state(w.stateKeys), before, "issues to customers with bad ids change nothing")
}

// testInputExpiryCap: an expiry the engine computes past the range is
// capped at 1 January 2200, which every store keeps.
func testInputExpiryCap(t *testing.T, e *env) {
	end := input.End()
	s := e.gen("century", func(s *series.Series) { s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: series.MaxExpiryDays} })
	e.clk.ns.Store(end.Add(-30 * 24 * time.Hour).UnixNano())
	c := e.issue(s.ID, alice)
	if !c.ExpiresAt.Equal(end) {
		t.Errorf("a coupon issued 30 days before 2200 for %d days expires at %v, want %v", series.MaxExpiryDays, c.ExpiresAt, end)
	}
	same(t, e.stored(c.ID), c, "the store keeps the capped expiry")
	e.clk.ns.Store(end.Add(-time.Second).UnixNano())
	r := e.redeem(c.Code, alice, "last-second")
	same(t, e.storedRedemption(r.Redemption.ID), r.Redemption, "a redemption in the last second of the range is stored as made")
}

// testInputBulk: a row of a bulk file with a bad identifier or code is
// rejected like any refused row, on every store; the run goes on, and runs
// again the same way (the good rows, issued by the first run, replay).
// (The engine resolves customers by id alone here, so every id reaches the
// checks and, without them, the store.)
func testInputBulk(t *testing.T, e *env) {
	eng, err := couponkit.New(couponkit.Config{Store: e.st, Now: e.clk.Now, CodeKey: seriesKey})
	mustOK(t, err, "couponkit.New")
	g := e.gen("bulk issue")
	u := e.createSeries(baseSeries("bulk upload", uploadSrc()))
	issueFile := "customer_id\nalice\n\"nul\x00id\"\nbob\n" + incompressible(3000) + "\n\"c1\u0085id\"\ncarol\n"
	uploadFile := "code,customer_id\nB-1,alice\n\"B\x00-2\",bob\nB-3,\"x\x7f\"\nB-4,\n"
	for run := 1; run <= 2; run++ {
		rep, err := bulk.IssueFile(e.ctx, eng, g.ID, strings.NewReader(issueFile), bulk.Options{})
		if !wantOK(t, err, "issue file run %d with three bad ids", run) {
			return
		}
		wantRejected(t, rep, []int{2, 4, 5}, "issue file run %d", run)
		if rep.Applied+rep.Replayed != 3 || rep.Replayed != 3*(run-1) || rep.Done() != 6 {
			t.Errorf("issue file run %d: applied %d, replayed %d, done %d; want the 3 good rows applied (replayed when run again), all 6 rows done",
				run, rep.Applied, rep.Replayed, rep.Done())
		}
		rep, err = bulk.UploadFile(e.ctx, eng, u.ID, strings.NewReader(uploadFile), bulk.Options{})
		if !wantOK(t, err, "upload file run %d with a bad code and a bad id", run) {
			return
		}
		wantRejected(t, rep, []int{2, 3}, "upload file run %d", run)
		if rep.Done() != 4 {
			t.Errorf("upload file run %d: done %d, want all 4 rows", run, rep.Done())
		}
	}
	same(t, len(e.seriesCoupons(g.ID)), 3, "the issue file issued to the three good rows, once")
	// The upload adds B-3, whose customer is refused, to the pool (see
	// bulk.UploadFile), but never the code with a NUL.
	same(t, len(e.seriesCoupons(u.ID)), 3, "the upload file added the codes B-1, B-3 and B-4, once")
}

// wantRejected fails the test unless exactly the given rows of a report
// are rejected, each as InvalidArgument.
func wantRejected(t *testing.T, rep *bulk.Report, rows []int, what string, args ...any) {
	t.Helper()
	var got []int
	for _, r := range rep.Rejections {
		got = append(got, r.Row)
		if r.Code != errcode.InvalidArgument {
			t.Errorf("%s: row %d rejected with %d (%s), want %d", fmt.Sprintf(what, args...), r.Row, r.Code, r.Reason, errcode.InvalidArgument)
		}
	}
	same(t, got, rows, "%s: the rejected rows", fmt.Sprintf(what, args...))
}

package couponkit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"

	"log/slog"
)

// observedEngine is newEngine's engine over st with obs and log.
func observedEngine(t *testing.T, st store.Store, obs observe.Observer, log *slog.Logger) (*couponkit.Engine, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, time.November, 12, 10, 0, 0, 0, time.UTC)}
	e, err := couponkit.New(couponkit.Config{
		Store:    st,
		Now:      clk.now,
		CodeKey:  func(context.Context, string) ([]byte, error) { return []byte("an example key, not a secret"), nil },
		Observer: obs,
		Logger:   log,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, clk
}

// ops returns the operations rec saw at depth 0 (the engine's), and checks
// that every store call was made inside one.
func engineOps(t *testing.T, rec *observe.Recorder) []observe.Record {
	t.Helper()
	var out []observe.Record
	for _, r := range rec.Records() {
		switch {
		case r.Depth == 0 && !r.Op.IsStore():
			out = append(out, r)
		case r.Depth == 1 && r.Op.IsStore():
		default:
			t.Errorf("%s reported at depth %d", r.Op, r.Depth)
		}
	}
	if n := rec.Open(); n != 0 {
		t.Errorf("%d operations never ended", n)
	}
	return out
}

// TestObserverEveryOperation calls every exported method of *Engine that
// takes a context, with zero arguments, and checks that each reports
// exactly one operation named as the method, with an outcome that fits its
// error: whatever its arguments, no operation goes unreported or reports
// twice.
func TestObserverEveryOperation(t *testing.T) {
	var rec observe.Recorder
	e, _ := observedEngine(t, memstore.New(), &rec, nil)
	ctxType := reflect.TypeFor[context.Context]()
	v := reflect.ValueOf(e)
	n := 0
	for i := range v.NumMethod() {
		m := v.Type().Method(i)
		ft := m.Type
		if ft.NumIn() < 2 || ft.In(1) != ctxType {
			continue
		}
		n++
		rec.Reset()
		args := []reflect.Value{v, reflect.ValueOf(context.Background())}
		for j := 2; j < ft.NumIn(); j++ {
			if ft.IsVariadic() && j == ft.NumIn()-1 {
				break
			}
			args = append(args, reflect.Zero(ft.In(j)))
		}
		outs := m.Func.Call(args)
		err, _ := outs[len(outs)-1].Interface().(error)
		got := engineOps(t, &rec)
		if len(got) != 1 {
			t.Errorf("%s reported %d operations: %v", m.Name, len(got), got)
			continue
		}
		want, codes := observe.Classify(err)
		if got[0].Op != observe.Op(m.Name) || got[0].Outcome.Result != want || !slices.Equal(got[0].Outcome.Codes, codes) || got[0].Outcome.Err != err {
			t.Errorf("%s reported %s %s %v, want %s %s %v", m.Name, got[0].Op, got[0].Outcome.Result, got[0].Outcome.Codes, m.Name, want, codes)
		}
	}
	if n < 40 {
		t.Errorf("called %d operations; the engine has more", n)
	}
}

// TestObserverOutcomes: a redemption reports OK with its store calls
// inside it, a refused one reports Refused with the refusal's codes (not
// Failed), a repeated key with other parameters its KeyMismatch, and an
// operation whose store fails reports Failed, as does the store call.
func TestObserverOutcomes(t *testing.T) {
	ctx := context.Background()
	var rec observe.Recorder
	fs := &failingStore{Store: memstore.New()}
	e, _ := observedEngine(t, fs, &rec, nil)
	s := must(e.CreateSeries(ctx, tenOff()))
	c := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice")})).Coupon
	req := couponkit.RedeemRequest{Code: c.Code, Customer: couponkit.ByID("alice"), IdempotencyKey: "pos-1", Bill: eur("64.90")}

	step := func(name string, call func() error, op observe.Op, want observe.Result, codes ...errcode.Code) {
		t.Helper()
		rec.Reset()
		err := call()
		got := engineOps(t, &rec)
		if len(got) != 1 || got[0].Op != op || got[0].Outcome.Result != want || !slices.Equal(got[0].Outcome.Codes, codes) {
			t.Fatalf("%s: reported %+v, want one %s %s %v (error %v)", name, got, op, want, codes, err)
		}
		if got[0].Outcome.Latency <= 0 {
			t.Errorf("%s: latency %v", name, got[0].Outcome.Latency)
		}
	}
	redeem := func(r couponkit.RedeemRequest) func() error {
		return func() error { _, err := e.Redeem(ctx, r); return err }
	}
	low := req
	low.IdempotencyKey, low.Bill = "pos-0", eur("20.00")
	step("bill too low", redeem(low), observe.Redeem, observe.Refused, limits.BillBelowMin.Code())
	step("redeem", redeem(req), observe.Redeem, observe.OK)
	stores := 0
	for _, r := range rec.Records() {
		if r.Op.IsStore() {
			stores++
		}
	}
	if stores == 0 || rec.Records()[len(rec.Records())-1].Op != observe.Redeem {
		t.Errorf("a redemption's store calls are not reported inside it: %v", rec.Records())
	}
	step("replay", redeem(req), observe.Redeem, observe.OK)
	other := req
	other.Bill = eur("70.00")
	step("key with another bill", redeem(other), observe.Redeem, observe.Refused, errcode.KeyMismatch)
	again := req
	again.IdempotencyKey = "pos-2"
	step("used up", redeem(again), observe.Redeem, observe.Refused, errcode.Redeemed)
	unknown := req
	unknown.Code = "NOSUCHCODE"
	step("unknown code", redeem(unknown), observe.Redeem, observe.Refused, errcode.CouponNotFound)

	// Operations made of others report once: an upload issues each row
	// with a customer, a status change updates the series.
	up := tenOff()
	up.Source = series.Source{Kind: series.Uploaded}
	up = must(e.CreateSeries(ctx, up))
	step("upload", func() error {
		_, err := e.Upload(ctx, couponkit.UploadRequest{SeriesID: up.ID, Rows: []couponkit.UploadRow{{Code: "UP-1", Customer: couponkit.ByID("carol")}}})
		return err
	}, observe.Upload, observe.OK)
	step("pause", func() error { _, err := e.SetSeriesStatus(ctx, up.ID, series.Paused); return err }, observe.SetSeriesStatus, observe.OK)
	step("sweep", func() error { _, err := e.SweepReminders(ctx, time.Time{}); return err }, observe.SweepReminders, observe.OK)

	c2 := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("bob")})).Coupon
	fs.fail.Store(true)
	bob := couponkit.RedeemRequest{Code: c2.Code, Customer: couponkit.ByID("bob"), IdempotencyKey: "pos-3", Bill: eur("64.90")}
	step("store fails", redeem(bob), observe.Redeem, observe.Failed)
	var applies []observe.Outcome
	for _, r := range rec.Records() {
		if r.Op == observe.StoreApply {
			applies = append(applies, r.Outcome)
		}
	}
	if len(applies) != 1 || applies[0].Result != observe.Failed {
		t.Errorf("the failed store.Apply was reported as %+v", applies)
	}
}

// failingStore fails every Apply with an error without a code while fail
// is set, and lets conflicts of Kind "transaction" refuse the next
// conflicts Applies.
type failingStore struct {
	store.Store
	fail      atomic.Bool
	conflicts atomic.Int32
}

func (s *failingStore) Apply(ctx context.Context, c *store.Change) error {
	if s.fail.Load() {
		return errors.New("disk full")
	}
	if s.conflicts.Add(-1) >= 0 {
		return &store.ConflictError{Kind: "transaction", ID: "busy"}
	}
	return s.Store.Apply(ctx, c)
}

// logRecords decodes the JSON lines of buf.
func logRecords(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func findLog(recs []map[string]any, msg string) []map[string]any {
	var out []map[string]any
	for _, r := range recs {
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// TestLogNeverShowsACode runs redemptions that retry, give up, are refused
// (an unknown code, whose error quotes it) and fail, with a logger at level
// Debug, and checks what is logged: the retries with their conflict, the
// give-up, the failure, the refusal's codes, the code masked, and never a
// code whole, in any letter case.
func TestLogNeverShowsACode(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fs := &failingStore{Store: memstore.New()}
	e, _ := observedEngine(t, fs, nil, log)
	s := must(e.CreateSeries(ctx, tenOff()))
	var codes []string
	issue := func(who string) string {
		c := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(who)})).Coupon
		codes = append(codes, c.Code)
		return c.Code
	}
	alice, bob, carol := issue("alice"), issue("bob"), issue("carol")
	buf.Reset()

	fs.conflicts.Store(2)
	if _, err := e.Redeem(ctx, couponkit.RedeemRequest{Code: alice, Customer: couponkit.ByID("alice"), IdempotencyKey: "pos-1", Bill: eur("64.90")}); err != nil {
		t.Fatal(err)
	}
	fs.conflicts.Store(1000)
	if _, err := e.Redeem(ctx, couponkit.RedeemRequest{Code: bob, Customer: couponkit.ByID("bob"), IdempotencyKey: "pos-2", Bill: eur("64.90")}); !errors.Is(err, errcode.ErrConflict) {
		t.Fatalf("a redemption the store keeps refusing: %v", err)
	}
	fs.conflicts.Store(0)
	unknown := strings.ToLower(carol[:4]) + "ZZZZ"
	codes = append(codes, unknown)
	if _, err := e.Redeem(ctx, couponkit.RedeemRequest{Code: unknown, Customer: couponkit.ByID("carol"), IdempotencyKey: "pos-3", Bill: eur("64.90")}); !errors.Is(err, errcode.ErrCouponNotFound) || !strings.Contains(err.Error(), unknown) {
		t.Fatalf("an unknown code: %v (its error should quote it, for this test)", err)
	}
	fs.fail.Store(true)
	if _, err := e.Redeem(ctx, couponkit.RedeemRequest{Code: carol, Customer: couponkit.ByID("carol"), IdempotencyKey: "pos-4", Bill: eur("64.90")}); err == nil {
		t.Fatal("a redemption on a failing store succeeded")
	}

	out := buf.String()
	for _, c := range codes {
		for _, form := range []string{c, strings.ToLower(c), strings.ToUpper(c)} {
			if strings.Contains(out, form) {
				t.Errorf("the log shows code %q whole:\n%s", form, out)
			}
		}
	}
	recs := logRecords(t, &buf)
	retries := findLog(recs, "couponkit: retrying")
	if len(retries) != 2+15 { // 2 before the first redemption succeeds, 15 before the second gives up
		t.Errorf("logged %d retries:\n%s", len(retries), out)
	}
	for _, r := range retries {
		if r["conflict"] != "transaction" || r["op"] != "Redeem" || r["level"] != "DEBUG" {
			t.Errorf("retry logged as %v", r)
		}
	}
	if r := retries[0]; r["code"] != observe.Mask(alice) || r["attempt"] != 1.0 {
		t.Errorf("first retry logged as %v, want code %s attempt 1", r, observe.Mask(alice))
	}
	if g := findLog(recs, "couponkit: gave up"); len(g) != 1 || g[0]["code"] != observe.Mask(bob) || g[0]["attempts"] != 16.0 || g[0]["level"] != "WARN" {
		t.Errorf("give-up logged as %v", g)
	}
	refused := findLog(recs, "couponkit: operation refused")
	if len(refused) != 1 || !reflect.DeepEqual(refused[0]["codes"], []any{float64(errcode.CouponNotFound)}) || refused[0]["code"] != observe.Mask(unknown) {
		t.Errorf("refusal logged as %v", refused)
	}
	failed := findLog(recs, "couponkit: operation failed")
	if len(failed) != 2 || failed[1]["err"] != "disk full" || !reflect.DeepEqual(failed[0]["codes"], []any{float64(errcode.Conflict)}) {
		t.Errorf("failures logged as %v", failed)
	}
}

// TestLogLeasesAndJournals: a grant, top-up, renewal, return, reclaim
// and journal upload are each logged at level Info, with the lease, till,
// series and counts; a replayed grant is not logged again; with a
// SlowOperation of a nanosecond every operation is logged as slow.
func TestLogLeasesAndJournals(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	clk := &clock{t: time.Date(2026, time.November, 12, 10, 0, 0, 0, time.UTC)}
	e, err := couponkit.New(couponkit.Config{
		Store:         memstore.New(),
		Now:           clk.now,
		CodeKey:       func(context.Context, string) ([]byte, error) { return []byte("an example key, not a secret"), nil },
		Logger:        slog.New(slog.NewJSONHandler(&buf, nil)),
		SlowOperation: time.Nanosecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := tenOff()
	s.Redemption.MaxPerSeries = limits.Limit(10)
	s = must(e.CreateSeries(ctx, s))
	c := must(e.Issue(ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice")})).Coupon
	grant := couponkit.LeaseRequest{Till: "till-7", SeriesID: s.ID, Key: "lease-1", Uses: 3, End: clk.now().Add(8 * time.Hour)}
	l := must(e.GrantLease(ctx, grant)).Lease
	must(e.GrantLease(ctx, grant)) // replayed
	must(e.TopUpLease(ctx, couponkit.LeaseCall{Till: "till-7", LeaseID: l.ID, Key: "top-1", Uses: 2}))
	must(e.RenewLease(ctx, couponkit.LeaseCall{Till: "till-7", LeaseID: l.ID, Key: "renew-1", End: clk.now().Add(9 * time.Hour)}))
	must(e.ReturnLease(ctx, couponkit.LeaseCall{Till: "till-7", LeaseID: l.ID, Key: "return-1", Uses: 1}))
	must(e.ApplyJournal(ctx, couponkit.JournalBatch{Till: "till-7", Entries: []couponkit.JournalEntry{{
		Key: "sale-1", LeaseID: l.ID, Code: c.Code, Customer: "alice", Bill: eur("80.00"), At: clk.now(),
	}}}))
	clk.advance(24 * time.Hour)
	if got := must(e.ReclaimLapsed(ctx, couponkit.ReclaimRequest{})); len(got) != 1 {
		t.Fatalf("reclaimed %d leases", len(got))
	}
	recs := logRecords(t, &buf)
	for _, w := range []struct {
		msg   string
		delta float64
		used  float64
	}{
		{"couponkit: lease grant", 3, 0},
		{"couponkit: lease top up", 2, 0},
		{"couponkit: lease renew", 0, 0},
		{"couponkit: lease return", 1, 0},
		{"couponkit: lease reclaimed", 3, 1},
	} {
		got := findLog(recs, w.msg)
		if len(got) != 1 {
			t.Errorf("%q logged %d times:\n%s", w.msg, len(got), buf.String())
			continue
		}
		g := got[0]
		if g["level"] != "INFO" || g["lease"] != l.ID || g["till"] != "till-7" || g["series"] != s.ID || g["delta"] != w.delta || g["used"] != w.used {
			t.Errorf("%q logged as %v", w.msg, g)
		}
	}
	j := findLog(recs, "couponkit: journal applied")
	if len(j) != 1 || j[0]["op"] != "ApplyJournal" || j[0]["till"] != "till-7" || j[0]["entries"] != 1.0 || j[0]["conflicted"] != 0.0 {
		t.Errorf("journal logged as %v", j)
	}
	slow := findLog(recs, "couponkit: slow operation")
	if len(slow) != 9 {
		t.Errorf("%d operations logged as slow, want all 9", len(slow))
	}
	if strings.Contains(buf.String(), c.Code) {
		t.Errorf("the log shows a code whole:\n%s", buf.String())
	}
}
